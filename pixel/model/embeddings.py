"""Patch + position embeddings, the fixed sin-cos tables, and MAE token masking (spec §2.2, §2.7)."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from transformers import initialization as init

from .configuration import PIXELConfig

__all__ = ["PIXELEmbeddings", "pixel_grid_sincos", "mae_token_masking"]

PUBLISHED_GRID_SIZE = 23  # int(sqrt(529)): the square grid PIXEL's table was built on


def _sincos_1d(embed_dim: int, positions: np.ndarray) -> np.ndarray:
    """[sin(pos * w_k), cos(pos * w_k)] with w_k = 1 / 10000^(k / (D/2)); float32 numpy math as published."""
    omega = np.arange(embed_dim // 2, dtype=np.float32)
    omega /= embed_dim / 2.0
    omega = 1.0 / 10000**omega  # (D/2,)
    out = np.einsum("m,d->md", positions.reshape(-1), omega)  # (M, D/2)
    return np.concatenate([np.sin(out), np.cos(out)], axis=1)  # (M, D)


def pixel_grid_sincos(embed_dim: int, num_patches: int, grid_size: int | None = None) -> np.ndarray:
    """The MAE 2-D sin-cos table of a square grid, laid over a 1-row strip of `num_patches` patches.

    Compatibility quirk of PIXEL: the strip is 1 x 529 but its table is the 23 x 23 grid's, read in raster order,
    so patch i gets grid cell (row i // 23, col i % 23). The first half of the channels encodes the column, the
    second half the row; row 0 (CLS) is zeros. Computed in numpy float32 like the published code (float64 or torch
    recomputation differs by ~3e-6).

    Returns float32 `[num_patches + 1, embed_dim]`.
    """
    if embed_dim % 4:
        raise ValueError(f"embed_dim must be a multiple of 4, got {embed_dim}")
    grid_size = grid_size or math.isqrt(num_patches - 1) + 1  # ceil(sqrt(L)); 23 for 529
    if grid_size * grid_size < num_patches:
        raise ValueError(f"a {grid_size}x{grid_size} grid has fewer than num_patches={num_patches} cells")
    grid_h = np.arange(grid_size, dtype=np.float32)
    grid_w = np.arange(grid_size, dtype=np.float32)
    cols, rows = np.meshgrid(grid_w, grid_h)  # (G, G) each; cols varies fastest
    emb = np.concatenate(
        [_sincos_1d(embed_dim // 2, cols), _sincos_1d(embed_dim // 2, rows)], axis=1
    )  # (G*G, D)
    emb = emb[:num_patches]
    return np.concatenate([np.zeros([1, embed_dim], dtype=np.float32), emb], axis=0)


def mae_token_masking(
    noise: torch.Tensor,
    mask_ratio: float,
    attention_mask: torch.Tensor,
    patch_mask: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Choose the patches the MAE encoder keeps, exactly as the published code does with its `torch.rand` draw.

    noise: (B, L) U[0, 1). attention_mask: (B, L), 1 = text or EOS. patch_mask: (B, L) 0/1 span mask or None.
    - controlled (patch_mask given): sort by patch_mask + noise / 100, so span-masked patches are removed first and a
      short span mask is topped up with random patches (which may fall on padding).
    - random: the highest-noise attended patch gets noise 100, so at least one text patch is always removed.
    Keeps the lowest `int(L * (1 - mask_ratio))`.

    Returns ids_keep (B, K), mask (B, L) float with 1 = removed, ids_restore (B, L).
    """
    batch_size, seq_length = noise.shape
    len_keep = int(seq_length * (1 - mask_ratio))
    if patch_mask is not None:
        noise = patch_mask.to(noise.dtype) + noise / 100
    else:
        top = torch.argmax(noise * attention_mask.to(noise.dtype), dim=1)  # (B,)
        noise = noise.clone()
        noise[torch.arange(batch_size, device=noise.device), top] = 100.0
    ids_shuffle = torch.argsort(noise, dim=1)  # (B, L) ascending: kept first
    ids_restore = torch.argsort(ids_shuffle, dim=1)
    ids_keep = ids_shuffle[:, :len_keep]
    mask = torch.ones(batch_size, seq_length, device=noise.device)
    mask[:, :len_keep] = 0
    mask = torch.gather(mask, dim=1, index=ids_restore)
    return ids_keep, mask, ids_restore


class PIXELPatchEmbeddings(nn.Module):
    """Conv2d(C, D, P, P): each 16x16 patch of the strip becomes one D-vector."""

    def __init__(self, config: PIXELConfig) -> None:
        super().__init__()
        self.patch_size = config.patch_size
        self.num_channels = config.num_channels
        self.projection = nn.Conv2d(
            config.num_channels, config.hidden_size, config.patch_size, config.patch_size
        )

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        _, channels, height, width = pixel_values.shape
        if channels != self.num_channels or height % self.patch_size or width % self.patch_size:
            raise ValueError(
                f"pixel_values of shape {tuple(pixel_values.shape)} do not fit the config: expected "
                f"{self.num_channels} channels and height/width divisible by patch_size={self.patch_size}"
            )
        return self.projection(pixel_values).flatten(2).transpose(1, 2)  # (B, L, D)


class PIXELEmbeddings(nn.Module):
    """CLS token, patch embeddings and the position table (`[1, L_max + 1, D]`, sliced to the batch's L + 1).

    With masking (pretraining) the encoder sees CLS + the kept patches and no dropout is applied, as published; without
    masking (finetuning) it sees CLS + all patches followed by embedding dropout, as the published finetuning ViT does.
    """

    def __init__(self, config: PIXELConfig, trainable_position_embeddings: bool = True) -> None:
        super().__init__()
        self.config = config
        self.cls_token = nn.Parameter(torch.zeros(1, 1, config.hidden_size))
        self.patch_embeddings = PIXELPatchEmbeddings(config)
        self.trainable_position_embeddings = trainable_position_embeddings
        self.position_embeddings = nn.Parameter(
            torch.zeros(1, config.num_patches + 1, config.hidden_size),
            requires_grad=trainable_position_embeddings,
        )
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def init_pixel_parameters(self, std: float) -> None:
        init.normal_(self.cls_token, std=std)
        init.copy_(self.position_embeddings, self.sincos_table())

    def freeze_fixed_parameters(self) -> None:
        self.position_embeddings.requires_grad_(self.trainable_position_embeddings)

    def sincos_table(self) -> torch.Tensor:
        """The fixed table for this config's `[1, L_max + 1, D]` position parameter."""
        rows, dim = self.position_embeddings.shape[1:]
        table = pixel_grid_sincos(dim, rows - 1)
        return torch.from_numpy(table).unsqueeze(0)

    def positions(self, num_patches: int) -> torch.Tensor:
        available = self.position_embeddings.shape[1] - 1
        if num_patches > available:
            raise ValueError(
                f"input has {num_patches} patches but the position table holds {available}; "
                "call pixel.model.resize_model_embeddings(model, max_seq_length) first"
            )
        table = self.position_embeddings[:, : num_patches + 1]  # (1, L + 1, D)
        # detach as well: weight loaders may hand back the table as a trainable Parameter
        return table if self.trainable_position_embeddings else table.detach()

    def forward(
        self,
        pixel_values: torch.Tensor,
        attention_mask: torch.Tensor,
        noise: torch.Tensor | None = None,
        patch_mask: torch.Tensor | None = None,
        mask_ratio: float | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """Returns embeddings (B, 1 + K, D), their attention mask (B, 1 + K), mask (B, L) | None, ids_restore | None."""
        patches = self.patch_embeddings(pixel_values)  # (B, L, D)
        batch_size, seq_length, dim = patches.shape
        pos = self.positions(seq_length)
        patches = patches + pos[:, 1:]
        mask = ids_restore = None
        if mask_ratio is not None:
            if noise is None:
                noise = torch.rand(batch_size, seq_length, device=patches.device)
            ids_keep, mask, ids_restore = mae_token_masking(noise, mask_ratio, attention_mask, patch_mask)
            patches = torch.gather(patches, 1, ids_keep.unsqueeze(-1).expand(-1, -1, dim))  # (B, K, D)
            attention_mask = torch.gather(attention_mask, 1, ids_keep)  # (B, K)
        cls = (self.cls_token + pos[:, :1]).expand(batch_size, -1, -1)  # (B, 1, D)
        embeddings = torch.cat([cls, patches], dim=1)
        if mask_ratio is None:
            embeddings = self.dropout(embeddings)
        attention_mask = torch.cat([attention_mask.new_ones(batch_size, 1), attention_mask], dim=1)
        return embeddings, attention_mask, mask, ids_restore
