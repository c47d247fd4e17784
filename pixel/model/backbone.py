"""`PIXELPreTrainedModel` (init, gradient checkpointing, loading) and `PIXELModel`, the one encoder used both by
pretraining (with masking) and by the finetuning heads (spec §2.2, §2.4)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers.utils import ModelOutput

from .configuration import PIXELConfig
from .embeddings import PIXELEmbeddings
from .encoder import PIXELEncoder, PIXELPooler, additive_attention_mask

__all__ = ["PIXELModel", "PIXELModelOutput", "PIXELPreTrainedModel"]


@dataclass
class PIXELModelOutput(ModelOutput):
    """last_hidden_state (B, 1 + K, D) after the final LayerNorm, CLS first (K = L without masking, kept patches with);
    pooler_output (B, D) when the model has a pooler; mask (B, L) 1 = removed and ids_restore (B, L) with masking;
    attention_mask (B, 1 + K) the encoder's 0/1 mask incl. CLS; hidden_states: embeddings + each layer's output."""

    last_hidden_state: torch.Tensor | None = None
    pooler_output: torch.Tensor | None = None
    mask: torch.Tensor | None = None
    ids_restore: torch.Tensor | None = None
    attention_mask: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None
    attentions: tuple[torch.Tensor, ...] | None = None


class PIXELPreTrainedModel(PreTrainedModel):
    config: PIXELConfig
    config_class = PIXELConfig
    base_model_prefix = "vit"
    main_input_name = "pixel_values"
    supports_gradient_checkpointing = True
    _supports_sdpa = True
    _no_split_modules = ["PIXELEmbeddings", "PIXELLayer"]
    # Encoder-only models and heads load pretraining checkpoints; their MAE decoder is not needed.
    _keys_to_ignore_on_load_unexpected = [r"^decoder\."]

    def _init_weights(self, module: nn.Module) -> None:
        """Linear/Conv2d normal(0, 0.02) with zero bias, LayerNorm (1, 0) as published. Modules with their own
        parameters (tokens, sin-cos tables, biaffine weights) define `init_pixel_parameters(std)`, written with
        `transformers.initialization`, which skips tensors loaded from a checkpoint."""
        super()._init_weights(module)
        init_parameters = getattr(module, "init_pixel_parameters", None)
        if init_parameters is not None:
            init_parameters(self.config.initializer_range)

    @classmethod
    def from_pretrained(cls, *args: Any, **kwargs: Any) -> Any:
        """transformers' `from_pretrained`, then re-freezes the fixed sin-cos tables (the loader returns every loaded
        tensor as a trainable Parameter). With `output_loading_info=True` returns (model, info) as usual."""
        loaded = super().from_pretrained(*args, **kwargs)
        model = loaded[0] if isinstance(loaded, tuple) else loaded
        for module in model.modules():
            freeze = getattr(module, "freeze_fixed_parameters", None)
            if freeze is not None:
                freeze()
        return loaded


def resolve_attention_mask(
    pixel_values: torch.Tensor, attention_mask: torch.Tensor | None, patch_size: int
) -> torch.Tensor:
    """`None` means every patch is attended (the published code crashed here)."""
    num_patches = pixel_values.shape[-1] // patch_size * (pixel_values.shape[-2] // patch_size)
    if attention_mask is None:
        return pixel_values.new_ones(pixel_values.shape[0], num_patches)
    if attention_mask.shape != (pixel_values.shape[0], num_patches):
        raise ValueError(
            f"attention_mask has shape {tuple(attention_mask.shape)}, expected (batch, patches) = "
            f"({pixel_values.shape[0]}, {num_patches}) for pixel_values {tuple(pixel_values.shape)}"
        )
    return attention_mask.to(pixel_values.dtype)


class PIXELModel(PIXELPreTrainedModel):
    """The PIXEL encoder (`vit.*`): embeddings, pre-LN layers, final LayerNorm, optional CLS pooler.

    Finetuning heads use it unmasked with trainable positions (published finetuning ViT); `PIXELForPreTraining` uses it
    with `mask_ratio` set and frozen positions.
    """

    def __init__(
        self, config: PIXELConfig, add_pooling_layer: bool = False, trainable_position_embeddings: bool = True
    ) -> None:
        super().__init__(config)
        self.embeddings = PIXELEmbeddings(config, trainable_position_embeddings)
        self.encoder = PIXELEncoder(config)
        self.layernorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.pooler = PIXELPooler(config) if add_pooling_layer else None
        self.post_init()

    def get_input_embeddings(self) -> nn.Module:
        return self.embeddings.patch_embeddings

    def forward(
        self,
        pixel_values: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        patch_mask: torch.Tensor | None = None,
        noise: torch.Tensor | None = None,
        mask_ratio: float | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> PIXELModelOutput | tuple:
        """pixel_values (B, C, 16, 16 L); attention_mask (B, L); `mask_ratio=None` disables masking (finetuning).
        patch_mask / noise (B, L) only matter with masking; see `mae_token_masking`."""
        output_attentions = (
            output_attentions if output_attentions is not None else self.config.output_attentions
        )
        output_hidden_states = (
            output_hidden_states if output_hidden_states is not None else self.config.output_hidden_states
        )
        attention_mask = resolve_attention_mask(pixel_values, attention_mask, self.config.patch_size)
        embeddings, encoder_mask, mask, ids_restore = self.embeddings(
            pixel_values, attention_mask, noise=noise, patch_mask=patch_mask, mask_ratio=mask_ratio
        )  # (B, 1 + K, D), (B, 1 + K)
        hidden, all_hidden, all_attentions = self.encoder(
            embeddings,
            additive_attention_mask(encoder_mask, embeddings.dtype),
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
        )
        hidden = self.layernorm(hidden)
        output = PIXELModelOutput(
            last_hidden_state=hidden,
            pooler_output=self.pooler(hidden) if self.pooler is not None else None,
            mask=mask,
            ids_restore=ids_restore,
            attention_mask=encoder_mask,
            hidden_states=all_hidden,
            attentions=all_attentions,
        )
        return output if return_dict is not False else output.to_tuple()

    @torch.no_grad()
    def embed(
        self, pixel_values: torch.Tensor, attention_mask: torch.Tensor | None = None, layer: int | None = None
    ) -> torch.Tensor:
        """Sentence embeddings (B, D): mean of one layer's patch vectors over attended patches (CLS excluded).

        layer: index into `hidden_states` (0 = embeddings, N = last block before the final LayerNorm; negative counts
        from the end); None = the final, LayerNorm-ed output. Dropout follows the module's mode: call `.eval()` first.
        """
        attention_mask = resolve_attention_mask(pixel_values, attention_mask, self.config.patch_size)
        output = self(pixel_values, attention_mask, output_hidden_states=layer is not None, return_dict=True)
        hidden = output.last_hidden_state if layer is None else output.hidden_states[layer]
        weights = attention_mask.to(hidden.dtype).unsqueeze(-1)  # (B, L, 1)
        return (hidden[:, 1:] * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
