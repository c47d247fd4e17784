"""`PIXELForPreTraining`: the MAE over rendered text (spec §2.2): masked encoder, decoder, normalised-pixel loss, and
reconstruction images for visualisation."""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass

import torch
from torch import nn
from transformers import initialization as init
from transformers.utils import ModelOutput

from .backbone import PIXELModel, PIXELPreTrainedModel, resolve_attention_mask
from .configuration import PIXELConfig
from .embeddings import pixel_grid_sincos
from .encoder import PIXELLayer, additive_attention_mask

__all__ = [
    "PIXELDecoder",
    "PIXELForPreTraining",
    "PIXELForPreTrainingOutput",
    "PIXELReconstruction",
    "patchify",
    "unpatchify",
]

DECODER_MASKED_VALUE = (
    -10000.0
)  # the published decoder's additive mask (old `get_extended_attention_mask` value)
NORM_PIX_EPS = 1e-6


def patchify(pixel_values: torch.Tensor, patch_size: int) -> torch.Tensor:
    """(B, C, P, P * L) -> (B, L, P * P * C), each patch ordered (row, col, channel): channel fastest."""
    batch_size, channels, height, width = pixel_values.shape
    if height != patch_size or width % patch_size:
        raise ValueError(
            f"expected a 1-row strip of height {patch_size}, got pixel_values {tuple(pixel_values.shape)}"
        )
    num_patches = width // patch_size
    x = pixel_values.reshape(batch_size, channels, patch_size, num_patches, patch_size)  # (B, C, p, L, q)
    x = torch.einsum("ncplq->nlpqc", x)
    return x.reshape(batch_size, num_patches, patch_size * patch_size * channels)


def unpatchify(patches: torch.Tensor, patch_size: int, num_channels: int) -> torch.Tensor:
    """(B, L, P * P * C) -> (B, C, P, P * L); inverse of `patchify` for the 1-row strip."""
    batch_size, num_patches, _ = patches.shape
    x = patches.reshape(batch_size, num_patches, patch_size, patch_size, num_channels)  # (B, L, p, q, C)
    x = torch.einsum("nlpqc->ncplq", x)
    return x.reshape(batch_size, num_channels, patch_size, num_patches * patch_size)


def patch_statistics(target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-patch mean and std sqrt(unbiased var + 1e-6) over the last dim, as the norm-pix loss uses."""
    mean = target.mean(dim=-1, keepdim=True)
    var = target.var(dim=-1, keepdim=True)  # unbiased, as published
    return mean, (var + NORM_PIX_EPS) ** 0.5


@dataclass
class PIXELForPreTrainingOutput(ModelOutput):
    """loss: mean per-patch MSE over masked & attended patches; logits (B, L, P*P*C); mask (B, L) 1 = removed;
    attention_mask (B, L) the input mask; ids_restore (B, L)."""

    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    mask: torch.Tensor | None = None
    attention_mask: torch.Tensor | None = None
    ids_restore: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None
    attentions: tuple[torch.Tensor, ...] | None = None


@dataclass
class PIXELReconstruction:
    """Images (B, C, P, P * L) in pixel space: `prediction` everywhere, `composite` = original where visible and
    prediction where masked, `mask` broadcast to pixels (1 = masked)."""

    original: torch.Tensor
    prediction: torch.Tensor
    composite: torch.Tensor
    mask: torch.Tensor


def decoder_config(config: PIXELConfig) -> PIXELConfig:
    """The published decoder blocks are encoder blocks built from a config copy with the decoder sizes."""
    cfg = copy.deepcopy(config)
    cfg.hidden_size = config.decoder_hidden_size
    cfg.num_hidden_layers = config.decoder_num_hidden_layers
    cfg.num_attention_heads = config.decoder_num_attention_heads
    cfg.intermediate_size = config.decoder_intermediate_size
    return cfg


class PIXELDecoder(nn.Module):
    def __init__(self, config: PIXELConfig) -> None:
        super().__init__()
        dim = config.decoder_hidden_size
        self.decoder_embed = nn.Linear(config.hidden_size, dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.decoder_pos_embed = nn.Parameter(
            torch.zeros(1, config.num_patches + 1, dim), requires_grad=False
        )
        layer_config = decoder_config(config)
        self.decoder_layers = nn.ModuleList(
            [PIXELLayer(layer_config) for _ in range(config.decoder_num_hidden_layers)]
        )
        self.decoder_norm = nn.LayerNorm(dim)  # eps 1e-5 (PyTorch default), as published
        self.decoder_pred = nn.Linear(dim, config.patch_size**2 * config.num_channels)

    def init_pixel_parameters(self, std: float) -> None:
        init.normal_(self.mask_token, std=std)
        rows, dim = self.decoder_pos_embed.shape[1:]
        init.copy_(self.decoder_pos_embed, torch.from_numpy(pixel_grid_sincos(dim, rows - 1)).unsqueeze(0))

    def freeze_fixed_parameters(self) -> None:
        self.decoder_pos_embed.requires_grad_(False)

    def forward(
        self,
        hidden_states: torch.Tensor,
        ids_restore: torch.Tensor,
        attention_mask: torch.Tensor,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
    ) -> tuple[torch.Tensor, tuple | None, tuple | None]:
        """hidden_states (B, 1 + K, D_enc); ids_restore (B, L); attention_mask (B, L) the full input mask.
        Returns logits (B, L, P*P*C), hidden states and attentions on request."""
        x = self.decoder_embed(hidden_states)  # (B, 1 + K, D)
        batch_size, num_patches = ids_restore.shape
        dim = x.shape[-1]
        mask_tokens = self.mask_token.expand(batch_size, num_patches + 1 - x.shape[1], -1)  # (B, L - K, D)
        patches = torch.cat([x[:, 1:], mask_tokens], dim=1)  # (B, L, D) shuffled order
        patches = torch.gather(
            patches, 1, ids_restore.unsqueeze(-1).expand(-1, -1, dim)
        )  # (B, L, D) unshuffled
        x = torch.cat([x[:, :1], patches], dim=1) + self.decoder_pos_embed[:, : num_patches + 1].detach()
        # Mask tokens are attended, padding is not.
        full_mask = torch.cat([attention_mask.new_ones(batch_size, 1), attention_mask], dim=1)
        additive = additive_attention_mask(full_mask, x.dtype, DECODER_MASKED_VALUE)
        all_hidden, all_attentions = [], []
        for layer in self.decoder_layers:
            if output_hidden_states:
                all_hidden.append(x)
            x, probs = layer(x, additive, output_attentions)
            if output_attentions:
                all_attentions.append(probs)
        if output_hidden_states:
            all_hidden.append(x)
        logits = self.decoder_pred(self.decoder_norm(x))[:, 1:]  # (B, L, P*P*C), CLS dropped
        return logits, tuple(all_hidden) or None, tuple(all_attentions) or None


class PIXELForPreTraining(PIXELPreTrainedModel):
    """MAE pretraining on rendered text. `forward(pixel_values, attention_mask=None, patch_mask=None, noise=None)`."""

    def __init__(self, config: PIXELConfig) -> None:
        super().__init__(config)
        if config.mask_ratio == 0:  # PIXEL-M4's config default; its pretraining script (and ours) set 0.25
            warnings.warn(
                "PIXELForPreTraining with mask_ratio=0 removes no patch, with or without a patch_mask: the "
                "reconstruction loss is NaN (0 / 0) and reconstructions show the input. Set mask_ratio "
                "(published pretraining: 0.25), e.g. PIXELConfig(mask_ratio=0.25) or from_pretrained(..., "
                "mask_ratio=0.25).",
                UserWarning,
                stacklevel=2,
            )
        self.vit = PIXELModel(config, add_pooling_layer=False, trainable_position_embeddings=False)
        self.decoder = PIXELDecoder(config)
        self.post_init()

    def get_input_embeddings(self) -> nn.Module:
        return self.vit.embeddings.patch_embeddings

    def patchify(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return patchify(pixel_values, self.config.patch_size)

    def unpatchify(self, patches: torch.Tensor) -> torch.Tensor:
        return unpatchify(patches, self.config.patch_size, self.config.num_channels)

    def forward_loss(
        self,
        pixel_values: torch.Tensor,
        logits: torch.Tensor,
        mask: torch.Tensor,
        attention_mask: torch.Tensor,
    ) -> torch.Tensor:
        """Per-patch MSE (mean over P*P*C) averaged over patches that are masked and attended (text or EOS)."""
        target = self.patchify(pixel_values)  # (B, L, P*P*C)
        if self.config.norm_pix_loss:
            mean, std = patch_statistics(target)
            target = (target - mean) / std
        per_patch = ((logits - target) ** 2).mean(dim=-1)  # (B, L)
        merged = mask * attention_mask
        return (per_patch * merged).sum() / merged.sum()

    def forward(
        self,
        pixel_values: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        patch_mask: torch.Tensor | None = None,
        noise: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> PIXELForPreTrainingOutput | tuple:
        """pixel_values (B, C, 16, 16 L); attention_mask (B, L) (None = all attended); patch_mask (B, L) span mask
        or None for random masking; noise (B, L) U[0, 1) replacing the one `torch.rand` draw (spec §2.7)."""
        output_attentions = (
            output_attentions if output_attentions is not None else self.config.output_attentions
        )
        output_hidden_states = (
            output_hidden_states if output_hidden_states is not None else self.config.output_hidden_states
        )
        attention_mask = resolve_attention_mask(pixel_values, attention_mask, self.config.patch_size)
        encoded = self.vit(
            pixel_values,
            attention_mask,
            patch_mask=patch_mask,
            noise=noise,
            mask_ratio=self.config.mask_ratio,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=True,
        )
        logits, dec_hidden, dec_attentions = self.decoder(
            encoded.last_hidden_state,
            encoded.ids_restore,
            attention_mask,
            output_attentions,
            output_hidden_states,
        )
        loss = self.forward_loss(pixel_values, logits, encoded.mask, attention_mask)
        output = PIXELForPreTrainingOutput(
            loss=loss,
            logits=logits,
            mask=encoded.mask,
            attention_mask=attention_mask,
            ids_restore=encoded.ids_restore,
            hidden_states=(encoded.hidden_states + dec_hidden) if output_hidden_states else None,
            attentions=(encoded.attentions + dec_attentions) if output_attentions else None,
        )
        return output if return_dict is not False else output.to_tuple()

    @torch.no_grad()
    def reconstruct(
        self,
        pixel_values: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        patch_mask: torch.Tensor | None = None,
        noise: torch.Tensor | None = None,
    ) -> PIXELReconstruction:
        """Reconstructed images, de-normalised with each patch's own mean/std when `norm_pix_loss` (the model predicts
        normalised patches), clamped to [0, 1]."""
        output = self(pixel_values, attention_mask, patch_mask=patch_mask, noise=noise, return_dict=True)
        prediction = output.logits  # (B, L, P*P*C)
        if self.config.norm_pix_loss:
            mean, std = patch_statistics(self.patchify(pixel_values))
            prediction = prediction * std + mean
        prediction = self.unpatchify(prediction).clamp(0.0, 1.0)  # (B, C, P, P*L)
        patch_pixels = self.config.patch_size**2 * self.config.num_channels
        mask = self.unpatchify(output.mask.unsqueeze(-1).expand(-1, -1, patch_pixels).to(prediction.dtype))
        composite = pixel_values * (1 - mask) + prediction * mask
        return PIXELReconstruction(
            original=pixel_values, prediction=prediction, composite=composite, mask=mask
        )
