"""Text -> model inputs in one call: `PIXELProcessor` renders a batch, pads it and returns a `BatchFeature`.

It plays the part a tokenizer's processor plays for a text model: `model(**processor(texts, return_tensors="pt"))`,
`save_pretrained` / `from_pretrained` beside the model, and `AutoProcessor.from_pretrained(folder)` once
`pixel.model` is imported (`register_auto_classes`). It is a small class of its own rather than a
`transformers.ProcessorMixin`: the mixin's loading, saving and serialisation are built around sub-processors of
transformers' kinds (tokenizer, image processor, ...), and a renderer is none of them. `AutoProcessor` only needs
`from_pretrained` and the class registered under its name, which are public.

The renderer module (Pango, cairo) is imported only when a renderer is loaded, so importing this module, which
`register_auto_classes` does, needs only numpy, torch and transformers.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import torch
from transformers import BatchFeature

from pixel.data.transforms import pixel_batch

if TYPE_CHECKING:
    from pixel.render import Encoding, PangoCairoTextRenderer

__all__ = ["PROCESSOR_NAME", "EncodingCollator", "PIXELProcessor", "collate_encodings", "padded_length"]

PROCESSOR_NAME = "processor_config.json"  # transformers' name: `AutoProcessor` looks for it first
IGNORE_INDEX = -100  # word_starts padding: the value the parser's word pooling and the losses skip
Padding = Literal["longest", "max_length"]
RenderInput = str | tuple[str, str] | list[str]

# Loader keywords that `AutoProcessor.from_pretrained` passes to every processor (or that a user may pass to
# it) and that a renderer folder has no use for; anything else is a renderer override.
_LOADER_ONLY_KWARGS = frozenset(
    {
        "trust_remote_code",
        "_from_auto",
        "_from_pipeline",
        "code_revision",
        "force_download",
        "proxies",
        "local_files_only",
    }
)


def padded_length(
    num_text_patches: Sequence[int],
    max_seq_length: int,
    padding: Padding | bool = "longest",
    pad_to_multiple_of: int | None = None,
) -> int:
    """Patches L of a padded batch.

    "longest" (or True): the longest text + its EOS patch; "max_length": `max_seq_length`. `pad_to_multiple_of`
    rounds L up, but never past `max_seq_length` (the renderer's canvas, and at most the model's position table).
    """
    if padding is True:
        padding = "longest"
    if padding not in ("longest", "max_length"):
        raise ValueError(f"padding must be 'longest' (or True) or 'max_length', got {padding!r}")
    if not num_text_patches:
        raise ValueError("cannot pad an empty batch")
    if padding == "max_length":
        length = max_seq_length
    else:
        length = min(max(num_text_patches) + 1, max_seq_length)
    if pad_to_multiple_of is not None:
        if (
            isinstance(pad_to_multiple_of, bool)
            or not isinstance(pad_to_multiple_of, int)
            or pad_to_multiple_of < 1
        ):
            raise ValueError(f"pad_to_multiple_of must be a positive integer, got {pad_to_multiple_of!r}")
        length = min(math.ceil(length / pad_to_multiple_of) * pad_to_multiple_of, max_seq_length)
    return length


def collate_encodings(
    encodings: Sequence[Encoding],
    max_seq_length: int,
    *,
    padding: Padding | bool = "longest",
    pad_to_multiple_of: int | None = None,
    return_uint8: bool = False,
    return_word_starts: bool = False,
    return_offset_mapping: bool = False,
) -> dict[str, torch.Tensor]:
    """Stack rendered Encodings into a padded batch of L patches (`padded_length`).

    Returns `pixel_values` float32 `[B, 3, P, P*L]` in [0, 1] as `pixel_values_to_tensor` gives for the text
    and EOS patches of every strip, white after them (uint8 0-255
    with `return_uint8`, for DataLoader workers: divide by 255 on the device), `attention_mask` float32 `[B, L]`
    as `get_attention_mask` gives, and on request `word_starts` long `[B, L+1]` (each Encoding's word starts
    and EOS index, then -100, as the parser takes them) and `offset_mapping` long `[B, L, 2]` (characters per
    patch, (0, 0) for separator, EOS and padding; `continuous` only).
    """
    from pixel.render import get_attention_mask

    if not encodings:
        raise ValueError("cannot collate an empty batch")
    length = padded_length(
        [e.num_text_patches for e in encodings], max_seq_length, padding, pad_to_multiple_of
    )
    P = encodings[0].pixel_values.shape[0]  # a patch is as wide as the strip is high
    strips = [e.pixel_values for e in encodings]
    text_and_eos = [P * min(e.num_text_patches + 1, length) for e in encodings]  # the rest is padding: white
    pixels = torch.from_numpy(pixel_batch(strips, P * length, uint8=return_uint8, columns=text_and_eos))
    mask = np.stack([get_attention_mask(e.num_text_patches, length) for e in encodings])  # (B, L)
    batch = {"pixel_values": pixels, "attention_mask": torch.from_numpy(mask)}
    if return_word_starts:
        batch["word_starts"] = _word_starts(encodings, length)
    if return_offset_mapping:
        batch["offset_mapping"] = _offset_mapping(encodings, length)
    return batch


@dataclass(frozen=True)
class EncodingCollator:
    """Data collator for datasets whose items are `{"encoding": Encoding, **tensors}` (the `pixel.tasks` datasets).

    The Encodings become one `collate_encodings` batch padded to `max_seq_length` patches (the per-example
    labels are `[L]` or scalars, so every batch has the same L); every other key is stacked as it is. Picklable,
    for DataLoader workers.
    """

    max_seq_length: int
    return_word_starts: bool = False

    def __call__(self, features: Sequence[Mapping[str, Any]]) -> dict[str, torch.Tensor]:
        batch = collate_encodings(
            [feature["encoding"] for feature in features],
            self.max_seq_length,
            padding="max_length",
            return_word_starts=self.return_word_starts,
        )
        for key in features[0]:
            if key != "encoding":
                batch[key] = torch.stack([feature[key] for feature in features])  # (B, ...)
        return batch


def _word_starts(encodings: Sequence[Encoding], length: int) -> torch.Tensor:
    """long `[B, L+1]`: word start patches and the EOS patch, -100 after."""
    out = torch.full((len(encodings), length + 1), IGNORE_INDEX, dtype=torch.long)
    for row, encoding in zip(out, encodings, strict=True):
        if encoding.word_starts is None:
            raise ValueError(
                "this renderer gives no word_starts for this input; return_word_starts needs them"
            )
        starts = list(encoding.word_starts)[: length + 1]
        row[: len(starts)] = torch.as_tensor(starts, dtype=torch.long)
    return out


def _offset_mapping(encodings: Sequence[Encoding], length: int) -> torch.Tensor:
    """long `[B, L, 2]`: (start, end) characters of every patch, (0, 0) where none."""
    out = torch.zeros((len(encodings), length, 2), dtype=torch.long)
    for row, encoding in zip(out, encodings, strict=True):
        if encoding.offset_mapping is None:
            raise ValueError(
                "no offset_mapping: the renderer gives one only for str and (text_a, text_b) input with "
                "rendering_strategy='continuous'"
            )
        spans = list(encoding.offset_mapping)[:length]
        if spans:
            row[: len(spans)] = torch.as_tensor(spans, dtype=torch.long)
    return out


def _as_batch(
    text: RenderInput | Sequence[RenderInput],
    text_pair: str | Sequence[str] | None,
    is_split_into_words: bool,
) -> list[RenderInput]:
    """One list item per example: a str, a (text_a, text_b) tuple, or a list of words."""
    if text_pair is not None:
        firsts: list[str] = []
        for first in [text] if isinstance(text, str) else text:
            if not isinstance(first, str):
                raise TypeError(
                    f"with text_pair, text must be a str or a list of str, not a {type(first).__name__}"
                )
            firsts.append(first)
        seconds = [text_pair] if isinstance(text_pair, str) else list(text_pair)
        if len(firsts) != len(seconds):
            raise ValueError(f"text has {len(firsts)} examples but text_pair has {len(seconds)}")
        return [(a, b) for a, b in zip(firsts, seconds, strict=True)]
    if isinstance(text, str | tuple):
        return [text]
    if not isinstance(text, list):
        raise TypeError(
            f"text must be a str, a (str, str) pair, a list of either, or a list of word lists; got "
            f"{type(text).__name__}"
        )
    if is_split_into_words and all(isinstance(word, str) for word in text):
        return [text]
    return list(text)


class PIXELProcessor:
    """Renderer + padding + attention mask: text in, model inputs out.

    `processor(text)` takes a str, a `(text_a, text_b)` pair or a list of words (with `is_split_into_words=True`),
    or a batch: a list of str, of pairs, or of word lists (also `processor(texts, text_pair=others)`). A single
    example is a batch of one. The sequence length is the renderer's `max_seq_length` ("max_length" padding) or
    the longest text + EOS ("longest", the default); see `collate_encodings` for what comes back.
    """

    model_input_names = ["pixel_values", "attention_mask"]

    def __init__(self, renderer: PangoCairoTextRenderer) -> None:
        self.renderer = renderer

    @property
    def max_seq_length(self) -> int:
        """The longest sequence in patches: the renderer's canvas (set `processor.renderer.max_seq_length`)."""
        return int(self.renderer.max_seq_length)

    def __repr__(self) -> str:
        renderer = self.renderer
        return (
            f"{type(self).__name__}(rendering_strategy={renderer.rendering_strategy!r}, "
            f"max_seq_length={renderer.max_seq_length}, rgb={renderer.rgb}, font_file={renderer.font_file!r})"
        )

    def __call__(
        self,
        text: RenderInput | Sequence[RenderInput],
        text_pair: str | Sequence[str] | None = None,
        *,
        is_split_into_words: bool = False,
        return_tensors: Literal["pt", "np"] = "pt",
        padding: Padding | bool = "longest",
        pad_to_multiple_of: int | None = None,
        return_uint8: bool = False,
        return_word_starts: bool = False,
        return_offset_mapping: bool = False,
        **render_kwargs: Any,
    ) -> BatchFeature:
        """Render and batch `text`; `render_kwargs` (`rtl`, `text_a_max_length`, `pixel_shift`, ...) go to
        the renderer for every example.

        `pixel_values` and `attention_mask` are what the models take; `word_starts` is an input of
        `PIXELForBiaffineParsing` only, and `offset_mapping` of none: pop it before `model(**inputs)`.
        """
        if return_tensors not in ("pt", "np"):
            raise ValueError(f"return_tensors must be 'pt' or 'np', got {return_tensors!r}")
        if render_kwargs.get("return_overflowing_patches"):
            raise ValueError(
                "overflow windows are not batched here; use the renderer (or pixel.tasks.qa) for them"
            )
        if return_offset_mapping:
            if not self.renderer.uses("return_offset_mapping"):
                raise ValueError(
                    "return_offset_mapping needs a strategy that places text by pixels (continuous); this "
                    f"renderer is {self.renderer.rendering_strategy!r} (its patches follow words: use "
                    "return_word_starts)"
                )
            render_kwargs["return_offset_mapping"] = True
        examples = _as_batch(text, text_pair, is_split_into_words)
        if not examples:
            raise ValueError("text is an empty batch")
        batch = collate_encodings(
            self.render(examples, **render_kwargs),
            self.max_seq_length,
            padding=padding,
            pad_to_multiple_of=pad_to_multiple_of,
            return_uint8=return_uint8,
            return_word_starts=return_word_starts,
            return_offset_mapping=return_offset_mapping,
        )
        if return_tensors == "np":
            return BatchFeature({k: v.numpy() for k, v in batch.items()}, tensor_type="np")
        return BatchFeature(batch, tensor_type="pt")

    def render(self, examples: Sequence[RenderInput], **render_kwargs: Any) -> list[Encoding]:
        """One Encoding per example (a batch of strs in one `render_batch` call: the same Encodings, faster)."""
        if not render_kwargs and all(isinstance(example, str) for example in examples):
            return self.renderer.render_batch(list(examples))  # type: ignore[arg-type]
        return [self.renderer(example, **render_kwargs) for example in examples]

    def save_pretrained(self, save_directory: str | os.PathLike) -> list[str]:
        """Write the renderer (`text_renderer_config.json` + font) and `processor_config.json`; returns the
        paths written. Save it beside the model so that `AutoProcessor.from_pretrained(folder)` finds both."""
        folder = Path(save_directory)
        renderer_config = self.renderer.save_pretrained(folder)
        processor_config = folder / PROCESSOR_NAME
        processor_config.write_text(json.dumps({"processor_class": type(self).__name__}, indent=2) + "\n")
        font = folder / Path(self.renderer.font_file).name
        return [str(processor_config), str(renderer_config), str(font)]

    @classmethod
    def from_pretrained(
        cls,
        pretrained_model_name_or_path: str | os.PathLike,
        *,
        subfolder: str = "",
        revision: str | None = None,
        cache_dir: str | os.PathLike | None = None,
        token: str | bool | None = None,
        fallback_fonts_dir: str | os.PathLike | None = None,
        **kwargs: Any,
    ) -> PIXELProcessor:
        """Load from a folder or hub id holding `text_renderer_config.json` and its font, with or without a
        `processor_config.json` (released checkpoints have none).

        Other keywords override renderer settings (`max_seq_length=256`, `rgb=True`); the hub loader keywords
        `AutoProcessor` adds or passes on (`trust_remote_code`, `force_download`, `local_files_only`, ...) are
        accepted and have no effect: set `HF_HUB_OFFLINE=1` to read only the hub cache.
        """
        from pixel.render import PangoCairoTextRenderer

        overrides = {k: v for k, v in kwargs.items() if k not in _LOADER_ONLY_KWARGS}
        folder = Path(pretrained_model_name_or_path) / subfolder
        _check_processor_config(folder / PROCESSOR_NAME, cls.__name__)
        renderer = PangoCairoTextRenderer.from_pretrained(
            os.fspath(pretrained_model_name_or_path),
            None if fallback_fonts_dir is None else os.fspath(fallback_fonts_dir),
            subfolder=subfolder,
            revision=revision,
            cache_dir=None if cache_dir is None else os.fspath(cache_dir),
            token=token,
            **overrides,
        )
        return cls(renderer)


def _check_processor_config(path: Path, expected: str) -> None:
    """A local `processor_config.json` must name this class (a hub folder's is not fetched: nothing is in it)."""
    if not path.is_file():
        return
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from error
    found = config.get("processor_class") if isinstance(config, dict) else None
    if found not in (None, expected):
        raise ValueError(f"{path} is for processor_class {found!r}, not {expected!r}")
