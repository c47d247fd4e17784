"""Loading a model with its processor, and per-layer sentence embeddings of rendered text in one forward pass."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

if TYPE_CHECKING:
    from transformers import PreTrainedModel

    from pixel.data.processor import PIXELProcessor

__all__ = ["EmbeddingRun", "embed_layers", "load_model", "load_processor"]

logger = logging.getLogger(__name__)

_HUB_ID = re.compile(r"^[\w.-]+/[\w.-]+$")


def check_model_source(source: str | Path) -> None:
    """Fail early, naming the path, when `source` is neither a model folder nor something shaped like a hub id."""
    path = Path(source)
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"{path} is a folder but holds no config.json: not a saved PIXEL model")
        return
    if path.exists():
        raise NotADirectoryError(f"{path} is a file; --model wants a model folder (config.json + weights)")
    if not _HUB_ID.match(str(source)):
        raise FileNotFoundError(f"model folder {path} does not exist")


def load_model(source: str | Path, model_class: type[PreTrainedModel] | None = None, **kwargs: Any) -> Any:
    """`model_class.from_pretrained(source)` in eval mode (default `PIXELModel`; a pretraining checkpoint works, its
    decoder weights are ignored)."""
    from pixel.model import PIXELModel

    check_model_source(source)
    model = (model_class or PIXELModel).from_pretrained(str(source), **kwargs)
    return model.eval()


def load_processor(source: str | Path, max_seq_length: int | None = None, **overrides: Any) -> PIXELProcessor:
    """The processor saved beside the model (its renderer, `text_renderer_config.json`), else one with the default
    renderer and a warning, as finetuning does; `max_seq_length` overrides the saved length."""
    from pixel.data.processor import PIXELProcessor
    from pixel.render import TEXT_RENDERER_NAME, PangoCairoTextRenderer

    if Path(source).is_dir() and not (Path(source) / TEXT_RENDERER_NAME).is_file():
        logger.warning("%s has no %s: using the default renderer", source, TEXT_RENDERER_NAME)
        processor = PIXELProcessor(PangoCairoTextRenderer(**overrides))
    else:
        processor = PIXELProcessor.from_pretrained(str(source), **overrides)
    if max_seq_length is not None:
        processor.renderer.max_seq_length = max_seq_length
    return processor


def position_capacity(model: Any) -> int:
    """How many patches the model's position table holds (the longest input it accepts)."""
    from pixel.model.embeddings import PIXELEmbeddings

    for module in model.modules():
        if isinstance(module, PIXELEmbeddings):
            return int(module.position_embeddings.shape[1]) - 1
    raise TypeError(f"{type(model).__name__} has no PIXEL embeddings")


@dataclass
class EmbeddingRun:
    """embeddings: float32 (N + 1, n, D), row k = mean of `hidden_states[k]` over attended patches (0 =
    embeddings, N = last block before the final LayerNorm), CLS excluded, as `PIXELModel.embed(layer=k)`;
    truncated: how many texts did not fit the processor's `max_seq_length`."""

    embeddings: np.ndarray
    truncated: int


@torch.inference_mode()
def embed_layers(
    model: Any,
    processor: PIXELProcessor,
    texts: Sequence[str],
    batch_size: int = 32,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    progress: bool | str = True,
) -> EmbeddingRun:
    """Sentence embeddings of every layer for `texts`, one forward pass per batch (padded to its longest text).

    `model` is a `PIXELModel` or anything with one as `.vit` (e.g. `PIXELForPreTraining`, the heads). The
    processor's `max_seq_length` is capped at the model's position table. `progress`: a bar label, or False.
    """
    from tqdm.auto import tqdm

    from pixel.data.processor import collate_encodings

    if not texts:
        raise ValueError("no texts to embed")
    encoder = getattr(model, "vit", model)
    encoder.to(device=device, dtype=dtype).eval()
    capacity = position_capacity(encoder)
    if processor.max_seq_length > capacity:
        logger.info("rendering at most %d patches (the model's position table)", capacity)
        processor.renderer.max_seq_length = capacity
    chunks: list[np.ndarray] = []
    truncated = 0
    starts = range(0, len(texts), batch_size)
    label = progress if isinstance(progress, str) else "embedding"
    for start in tqdm(starts, desc=label, unit="batch", disable=not progress):
        encodings = processor.render(list(texts[start : start + batch_size]))
        batch = collate_encodings(encodings, processor.max_seq_length)  # (B, 3, P, P L), (B, L)
        truncated += sum(bool(e.truncated) for e in encodings)
        pixels = batch["pixel_values"].to(device=device, dtype=dtype)
        mask = batch["attention_mask"].to(device=device, dtype=dtype)
        hidden = encoder(pixels, mask, output_hidden_states=True, return_dict=True).hidden_states
        stacked = torch.stack(hidden)[:, :, 1:].float()  # (N + 1, B, L, D) without CLS
        weights = mask.float()[None, :, :, None]  # (1, B, L, 1)
        pooled = (stacked * weights).sum(2) / weights.sum(2).clamp(min=1e-9)  # (N + 1, B, D)
        chunks.append(pooled.float().cpu().numpy())
    if truncated:
        logger.warning(
            "%d of %d texts were truncated to %d patches", truncated, len(texts), processor.max_seq_length
        )
    return EmbeddingRun(np.concatenate(chunks, axis=1), truncated)
