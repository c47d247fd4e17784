"""What a renderer returns, and the attention mask the models take."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Encoding:
    """One rendered text.

    ``pixel_values``: ``uint8 [P, P*L]`` (grayscale) or ``[P, P*L, 3]`` (RGB); white background, dark text,
    black separator/EOS patches. ``num_text_patches``: patches before the EOS patch. ``word_starts``: patch index
    of each word, then the EOS patch index (n_words + 1 entries). ``num_missing_glyphs``: glyphs no font has
    (drawn as boxes). ``num_inserted_dotted_circles``: dotted circles (U+25CC) HarfBuzz inserted into the drawn
    runs where a mark had no base to attach to (a "broken cluster"; circles in the text itself are not
    counted): ``bigrams`` shapes every code point alone, so nearly every combining mark gets one;
    ``grapheme_bigrams`` gets none from well-formed text. None for ``continuous``, which shapes whole sentences
    as published (no cluster is cut; counting would shape the text a second time).
    """

    pixel_values: np.ndarray
    num_text_patches: int
    sep_patches: list[int] = field(default_factory=list)
    word_starts: list[int] | None = None
    word_patch_map: dict | None = None
    offset_mapping: list[tuple[int, int]] | None = None
    overflowing_patches: list[Encoding] | None = None
    sequence_ids: list[int | None] | None = None
    truncated: bool = False
    num_missing_glyphs: int = 0
    num_inserted_dotted_circles: int | None = None


def get_attention_mask(num_text_patches: int, seq_length: int = 529) -> np.ndarray:
    """``float32 [seq_length]``: ones for the text patches and the EOS patch, zeros after (never 2-D)."""
    mask = np.zeros(seq_length, dtype=np.float32)
    mask[: min(num_text_patches + 1, seq_length)] = 1.0
    return mask
