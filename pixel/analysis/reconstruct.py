"""Reconstructions of span-masked text by a pretrained PIXEL MAE: original / masked input / prediction per text.

Masks come from the pretraining span masker (`SpanMaskingGenerator`, `ceil(L * mask_ratio)` patches over a batch
padded to its longest text + EOS), with one `np.random.Generator([seed, i])` per text drawing the span mask and the
model's masking noise, so a picture is a pure function of model, texts and seed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .embeddings import check_model_source, position_capacity

if TYPE_CHECKING:
    from pixel.data.processor import PIXELProcessor

__all__ = ["Reconstructions", "load_pretraining_model", "reconstruct_texts"]

PUBLISHED_MASK_RATIO = 0.25  # used when the checkpoint's config has no mask ratio (0 = masking off)


def load_pretraining_model(source: str | Path) -> Any:
    """`PIXELForPreTraining` in eval mode; refuses checkpoints without decoder weights (e.g. finetuned heads), whose
    decoder would be random."""
    from pixel.model import PIXELForPreTraining

    check_model_source(source)
    model, info = PIXELForPreTraining.from_pretrained(str(source), output_loading_info=True)
    missing = [key for key in info["missing_keys"] if key.startswith("decoder.")]
    if missing:
        raise ValueError(
            f"{source} has no MAE decoder weights ({len(missing)} missing, e.g. {missing[0]}); reconstructions "
            "need a pretraining checkpoint"
        )
    return model.eval()


@dataclass
class Reconstructions:
    """Images (B, 3, 16, 16 L) in [0, 1]; masked_input shows removed patches grey; mask (B, L) 1 = removed;
    error: per text, mean squared pixel error of the prediction over removed text/EOS patches."""

    original: torch.Tensor
    masked_input: torch.Tensor
    composite: torch.Tensor
    mask: torch.Tensor
    error: list[float]

    def picture(self, zoom: int = 2) -> np.ndarray:
        """uint8 (H, W, 3): rows original / masked / reconstruction per text, scaled `zoom` times (nearest)."""
        from pixel.train.pretrain_callbacks import reconstruction_picture

        image = reconstruction_picture(self.original, self.masked_input, self.composite)
        return image.repeat(zoom, axis=0).repeat(zoom, axis=1) if zoom > 1 else image

    def save(self, path: Path, zoom: int = 2) -> Path:
        from PIL import Image

        Image.fromarray(self.picture(zoom)).save(path)
        return path


@torch.inference_mode()
def reconstruct_texts(
    model: Any,
    processor: PIXELProcessor,
    texts: Sequence[str],
    seed: int = 0,
    mask_ratio: float | None = None,
    max_span_length: int = 6,
    device: str | torch.device = "cpu",
) -> Reconstructions:
    """Render `texts` as one batch, span-mask each and run `PIXELForPreTraining.reconstruct`.

    `mask_ratio`: default the model's `config.mask_ratio`, or 0.25 (published) when that is 0.
    """
    from pixel.model import SpanMaskingGenerator

    if not texts:
        raise ValueError("no texts to reconstruct")
    ratio = mask_ratio if mask_ratio is not None else (model.config.mask_ratio or PUBLISHED_MASK_RATIO)
    if not 0 < ratio < 1:
        raise ValueError(f"mask_ratio must be in (0, 1), got {ratio}")
    processor.renderer.max_seq_length = min(processor.max_seq_length, position_capacity(model))
    batch = processor(list(texts))
    pixels, attention = batch["pixel_values"], batch["attention_mask"]  # (B, 3, 16, 16 L), (B, L)
    seq_length = attention.shape[1]
    masker = SpanMaskingGenerator(max_span_length=max_span_length)
    patch_mask = np.zeros(attention.shape, dtype=np.float32)
    noise = np.zeros(attention.shape, dtype=np.float32)
    for i, length in enumerate(attention.sum(1).long().tolist()):
        rng = np.random.default_rng([seed, i])
        patch_mask[i] = masker(seq_length, length, math.ceil(seq_length * ratio), rng)
        noise[i] = rng.random(seq_length, dtype=np.float32)
    previous, model.config.mask_ratio = model.config.mask_ratio, ratio
    try:
        model.to(device).eval()
        rec = model.reconstruct(
            pixels.to(device),
            attention.to(device),
            patch_mask=torch.from_numpy(patch_mask).to(device),
            noise=torch.from_numpy(noise).to(device),
        )
    finally:
        model.config.mask_ratio = previous
    removed = model.patchify(rec.mask)[..., 0]  # (B, L) 1 = removed
    scored = removed * attention.to(device)  # removed text/EOS patches
    per_patch = ((model.patchify(rec.prediction) - model.patchify(rec.original)) ** 2).mean(-1)  # (B, L)
    error = ((per_patch * scored).sum(1) / scored.sum(1).clamp(min=1)).tolist()
    masked_input = rec.original * (1 - rec.mask) + 0.5 * rec.mask  # removed patches grey
    return Reconstructions(rec.original.cpu(), masked_input.cpu(), rec.composite.cpu(), removed.cpu(), error)
