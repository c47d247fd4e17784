"""Sequence pooling heads (published `models/pooling.py`, spec §2.5, §2.7): mean / max / cls / pma<k>."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from transformers import initialization as init

__all__ = ["PMA", "Pooling", "PoolingForSequenceClassificationHead", "PoolingMode"]

MAX_POOL_PADDING = -1e9  # the published max pooling writes this into padding


@dataclass(frozen=True)
class PoolingMode:
    """ "cls", "mean", "max" or "pma<k>" (PMA with k attention heads and one seed)."""

    name: str
    num_heads: int = 0

    @classmethod
    def from_string(cls, mode: str) -> PoolingMode:
        mode = mode.strip().lower()
        if mode in ("cls", "mean", "max"):
            return cls(mode)
        if mode.startswith("pma") and mode[3:].isdigit() and int(mode[3:]) > 0:
            return cls("pma", int(mode[3:]))
        raise ValueError(
            f"unknown pooling_mode {mode!r}: expected 'cls', 'mean', 'max' or 'pma<k>' (e.g. 'pma8')"
        )

    def __str__(self) -> str:
        return f"pma{self.num_heads}" if self.name == "pma" else self.name


class MAB(nn.Module):
    """Set-transformer multihead attention block without LayerNorms, as the published PMA uses it.

    Quirks kept for weight compatibility: padded keys are multiplied by 0 (so they score 0, not -inf), scores are
    scaled by sqrt(full dim), and the output is Q + A V followed by O + relu(fc_o(O)).
    """

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"PMA: hidden size {dim} is not a multiple of {num_heads} heads")
        self.dim = dim
        self.num_heads = num_heads
        self.fc_q = nn.Linear(dim, dim)
        self.fc_k = nn.Linear(dim, dim)
        self.fc_v = nn.Linear(dim, dim)
        self.fc_o = nn.Linear(dim, dim)

    def forward(
        self, queries: torch.Tensor, keys: torch.Tensor, attention_mask: torch.Tensor | None
    ) -> torch.Tensor:
        """queries (B, S, D), keys (B, L, D), attention_mask (B, L) -> (B, S, D)."""
        q, k, v = self.fc_q(queries), self.fc_k(keys), self.fc_v(keys)
        split = self.dim // self.num_heads
        q_, k_, v_ = (torch.cat(t.split(split, dim=2), dim=0) for t in (q, k, v))  # (H*B, ., D/H), head-major
        if attention_mask is not None:
            k_ = k_ * attention_mask.repeat(self.num_heads, 1).unsqueeze(-1).to(k_.dtype)
        scores = q_.bmm(k_.transpose(1, 2)) / math.sqrt(self.dim)  # (H*B, S, L)
        out = q_ + scores.softmax(dim=2).bmm(v_)
        out = torch.cat(out.split(queries.shape[0], dim=0), dim=2)  # (B, S, D)
        return out + torch.relu(self.fc_o(out))


class PMA(nn.Module):
    """Pooling by multihead attention with `num_seeds` learned seeds `S`."""

    def __init__(self, dim: int, num_heads: int, num_seeds: int = 1) -> None:
        super().__init__()
        self.S = nn.Parameter(torch.zeros(1, num_seeds, dim))
        self.mab = MAB(dim, num_heads)

    def init_pixel_parameters(self, std: float) -> None:
        init.xavier_uniform_(self.S)

    def forward(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
        return self.mab(self.S.expand(hidden_states.shape[0], -1, -1), hidden_states, attention_mask)


class Pooling(nn.Module):
    def __init__(self, mode: PoolingMode, hidden_size: int) -> None:
        super().__init__()
        self.mode = mode
        if mode.name == "pma":
            self.pooler = PMA(hidden_size, mode.num_heads)

    def forward(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """hidden_states (B, L, D), attention_mask (B, L) -> (B, D)."""
        weights = attention_mask.unsqueeze(-1).to(hidden_states.dtype)  # (B, L, 1)
        if self.mode.name == "mean":
            return (hidden_states * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
        if self.mode.name == "max":
            return hidden_states.masked_fill(weights == 0, MAX_POOL_PADDING).amax(1)
        if self.mode.name == "pma":
            return self.pooler(hidden_states, attention_mask).squeeze(1)
        raise ValueError(f"Pooling does not handle {self.mode}; CLS pooling uses the encoder's pooler")


class PoolingForSequenceClassificationHead(nn.Module):
    """Linear -> GELU -> LayerNorm (eps 1e-12, if ``add_layer_norm``) -> Dropout -> pooling over patches.

    As published, PMA pooling skips the Linear *and* the GELU (both still exist, so the keys match), and ``ln``
    exists whether or not it is applied: a published checkpoint always carries ``pooler.ln.*``.
    """

    def __init__(
        self, hidden_size: int, hidden_dropout_prob: float, add_layer_norm: bool, mode: PoolingMode
    ) -> None:
        super().__init__()
        self.mode = mode
        self.add_layer_norm = add_layer_norm
        self.linear = nn.Linear(hidden_size, hidden_size)
        self.activation = nn.GELU()
        self.ln = nn.LayerNorm(hidden_size, eps=1e-12)
        self.dropout = nn.Dropout(hidden_dropout_prob)
        self.pooling = Pooling(mode, hidden_size)

    def forward(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """hidden_states (B, L, D), attention_mask (B, L) -> (B, D)."""
        if self.mode.name != "pma":
            hidden_states = self.activation(self.linear(hidden_states))
        if self.add_layer_norm:
            hidden_states = self.ln(hidden_states)
        return self.pooling(self.dropout(hidden_states), attention_mask)
