"""Checkpoint compatibility: position-table resizing for finetuning (spec §2.4) and Auto-class registration.

The remaining quirks of published checkpoints are handled where they arise: `model_type: "vit_mae"` configs in
`PIXELConfig.get_config_dict`; legacy `pytorch_model.bin` files by transformers' loader, which reads them with
`torch.load(weights_only=True)`; decoder keys of pretraining checkpoints via `_keys_to_ignore_on_load_unexpected`.
"""

from __future__ import annotations

import torch
from torch import nn

from .backbone import PIXELPreTrainedModel
from .embeddings import PIXELEmbeddings
from .pretraining import PIXELDecoder

__all__ = ["resize_model_embeddings", "resize_position_table"]


def resize_position_table(table: torch.Tensor, num_patches: int) -> torch.Tensor:
    """(1, R, D) -> (1, num_patches + 1, D).

    Shorter: keep the first rows of the raster (the published behaviour; *not* a regenerated smaller grid). Longer:
    bicubic interpolation of the square grid to a 1 x num_patches strip, as the published `interpolate_pos_encoding`.
    """
    rows, dim = table.shape[1:]
    if num_patches + 1 <= rows:
        return table[:, : num_patches + 1].clone()
    grid = int((rows - 1) ** 0.5)
    if grid * grid != rows - 1:
        raise ValueError(f"cannot interpolate a position table of {rows - 1} patches: not a square grid")
    patch_table = table[:, 1:].reshape(1, grid, grid, dim).permute(0, 3, 1, 2)  # (1, D, G, G)
    patch_table = nn.functional.interpolate(
        patch_table.float(), size=(1, num_patches), mode="bicubic", align_corners=False
    ).to(table.dtype)
    patch_table = patch_table.permute(0, 2, 3, 1).reshape(1, num_patches, dim)
    return torch.cat([table[:, :1], patch_table], dim=1)


def _replace_parameter(module: nn.Module, name: str, value: torch.Tensor) -> None:
    old = getattr(module, name)
    setattr(module, name, nn.Parameter(value, requires_grad=old.requires_grad))


def resize_model_embeddings(model: PIXELPreTrainedModel, max_seq_length: int) -> None:
    """Fit every position table of `model` (encoder, and decoder if present) to `max_seq_length` patches, in place,
    and record the new size in `model.config.image_size` so that save -> load round-trips."""
    if max_seq_length < 1:
        raise ValueError(f"max_seq_length must be positive, got {max_seq_length}")
    found = False
    for module in model.modules():
        if isinstance(module, PIXELEmbeddings):
            _replace_parameter(
                module,
                "position_embeddings",
                resize_position_table(module.position_embeddings.data, max_seq_length),
            )
            found = True
        elif isinstance(module, PIXELDecoder):
            _replace_parameter(
                module,
                "decoder_pos_embed",
                resize_position_table(module.decoder_pos_embed.data, max_seq_length),
            )
    if not found:
        raise TypeError(f"{type(model).__name__} has no PIXEL embeddings to resize")
    patch_size = model.config.patch_size
    model.config.image_size = [patch_size, patch_size * max_seq_length]
    model.config.interpolate_pos_encoding = False


def register_auto_classes() -> None:
    """Make `AutoConfig` / `AutoModel*` resolve `model_type: "pixel"` to these classes, and `AutoProcessor` to
    `PIXELProcessor` (idempotent)."""
    from transformers import (
        AutoConfig,
        AutoModel,
        AutoModelForPreTraining,
        AutoModelForQuestionAnswering,
        AutoModelForSequenceClassification,
        AutoModelForTokenClassification,
        AutoProcessor,
    )

    # The one data-side import of this package, so that one registration point covers every Auto class; the
    # processor module needs only numpy/torch/transformers at import (it loads the renderer lazily).
    from pixel.data.processor import PIXELProcessor

    from .backbone import PIXELModel
    from .configuration import PIXELConfig
    from .heads import PIXELForQuestionAnswering, PIXELForSequenceClassification, PIXELForTokenClassification
    from .pretraining import PIXELForPreTraining

    AutoConfig.register(PIXELConfig.model_type, PIXELConfig, exist_ok=True)
    for auto, model in (
        (AutoModel, PIXELModel),
        (AutoModelForPreTraining, PIXELForPreTraining),
        (AutoModelForSequenceClassification, PIXELForSequenceClassification),
        (AutoModelForTokenClassification, PIXELForTokenClassification),
        (AutoModelForQuestionAnswering, PIXELForQuestionAnswering),
    ):
        auto.register(PIXELConfig, model, exist_ok=True)
    AutoProcessor.register(PIXELConfig, PIXELProcessor, exist_ok=True)
