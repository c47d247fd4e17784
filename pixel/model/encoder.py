"""Pre-LN transformer blocks shared by the encoder and the MAE decoder (spec §2.2). Module names match the published
state-dict keys (`attention.attention.query`, `intermediate.dense`, `layernorm_before`, ...)."""

from __future__ import annotations

import torch
from torch import nn
from transformers.activations import ACT2FN
from transformers.modeling_layers import GradientCheckpointingLayer

from .configuration import PIXELConfig

__all__ = ["PIXELEncoder", "PIXELLayer", "PIXELPooler", "additive_attention_mask"]


def additive_attention_mask(
    attention_mask: torch.Tensor, dtype: torch.dtype, masked_value: float | None = None
) -> torch.Tensor:
    """(B, T) 1 = attend -> (B, 1, 1, T) additive: 0 where attended, `masked_value` (default finfo(dtype).min) elsewhere."""
    if masked_value is None:
        masked_value = torch.finfo(dtype).min
    return ((1.0 - attention_mask.to(dtype)) * masked_value)[:, None, None, :]


class PIXELSelfAttention(nn.Module):
    def __init__(self, config: PIXELConfig) -> None:
        super().__init__()
        self.num_heads = config.num_attention_heads
        self.head_dim = config.hidden_size // config.num_attention_heads
        self.query = nn.Linear(config.hidden_size, config.hidden_size, bias=config.qkv_bias)
        self.key = nn.Linear(config.hidden_size, config.hidden_size, bias=config.qkv_bias)
        self.value = nn.Linear(config.hidden_size, config.hidden_size, bias=config.qkv_bias)
        self.dropout_prob = config.attention_probs_dropout_prob

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None,
        output_attentions: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        batch_size, length, _ = hidden_states.shape
        q, k, v = (
            proj(hidden_states).view(batch_size, length, self.num_heads, self.head_dim).transpose(1, 2)
            for proj in (self.query, self.key, self.value)
        )  # (B, H, T, d) each
        mask = attention_mask.to(q.dtype) if attention_mask is not None else None
        dropout = self.dropout_prob if self.training else 0.0
        if output_attentions:  # SDPA does not expose the probabilities
            scores = q @ k.transpose(-1, -2) / self.head_dim**0.5
            if mask is not None:
                scores = scores + mask
            probs = scores.softmax(dim=-1)  # (B, H, T, T)
            context = nn.functional.dropout(probs, dropout, self.training) @ v
        else:
            probs = None
            context = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout)
        context = context.transpose(1, 2).reshape(batch_size, length, -1)  # (B, T, D)
        return context, probs


class PIXELSelfOutput(nn.Module):
    def __init__(self, config: PIXELConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.dense(hidden_states))


class PIXELAttention(nn.Module):
    def __init__(self, config: PIXELConfig) -> None:
        super().__init__()
        self.attention = PIXELSelfAttention(config)
        self.output = PIXELSelfOutput(config)

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None,
        output_attentions: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        context, probs = self.attention(hidden_states, attention_mask, output_attentions)
        return self.output(context), probs


class PIXELIntermediate(nn.Module):
    def __init__(self, config: PIXELConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)
        self.intermediate_act_fn = ACT2FN[config.hidden_act]  # "gelu" is the exact erf GELU

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.intermediate_act_fn(self.dense(hidden_states))


class PIXELOutput(nn.Module):
    def __init__(self, config: PIXELConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.intermediate_size, config.hidden_size)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.dense(hidden_states)) + residual


class PIXELLayer(GradientCheckpointingLayer):
    """Pre-LN block: h += Attn(LN(h)); h += MLP(LN(h))."""

    def __init__(self, config: PIXELConfig) -> None:
        super().__init__()
        self.attention = PIXELAttention(config)
        self.intermediate = PIXELIntermediate(config)
        self.output = PIXELOutput(config)
        self.layernorm_before = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.layernorm_after = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        output_attentions: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        attended, probs = self.attention(
            self.layernorm_before(hidden_states), attention_mask, output_attentions
        )
        hidden_states = attended + hidden_states
        hidden_states = self.output(self.intermediate(self.layernorm_after(hidden_states)), hidden_states)
        return hidden_states, probs


class PIXELEncoder(nn.Module):
    def __init__(self, config: PIXELConfig) -> None:
        super().__init__()
        self.layer = nn.ModuleList([PIXELLayer(config) for _ in range(config.num_hidden_layers)])

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...] | None, tuple[torch.Tensor, ...] | None]:
        """hidden_states (B, T, D), attention_mask additive (B, 1, 1, T). Returns the last layer's output (before the
        final LayerNorm), all hidden states (embeddings first) and attention probabilities on request."""
        all_hidden: list[torch.Tensor] = []
        all_attentions: list[torch.Tensor] = []
        for layer in self.layer:
            if output_hidden_states:
                all_hidden.append(hidden_states)
            hidden_states, probs = layer(hidden_states, attention_mask, output_attentions)
            if output_attentions:
                all_attentions.append(probs)
        if output_hidden_states:
            all_hidden.append(hidden_states)
        return (
            hidden_states,
            tuple(all_hidden) if output_hidden_states else None,
            tuple(all_attentions) if output_attentions else None,
        )


class PIXELPooler(nn.Module):
    """dense + tanh on the CLS output (the published `ViTPooler`, re-implemented: modern transformers' reads fields
    PIXEL configs lack)."""

    def __init__(self, config: PIXELConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.activation = nn.Tanh()

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.activation(self.dense(hidden_states[:, 0]))  # (B, D)
