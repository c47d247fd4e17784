"""What every engine offers the renderer (``Engine``), and the shared half of the patch-aligned engines.

An engine lays out and draws text for one kind of strategy (``Strategy.engine``). The renderer checks the input
and the call's keywords, then calls ``text``, ``words``, ``pair`` or ``batch`` with every keyword (those the
engine does not use, ``used_keywords``, have their defaults: the renderer warned about any other value). Pango
state (fonts, layouts, caches) is built on first use, so a renderer pickles cheaply into DataLoader workers: it
drops its engine and builds a new one there.

``PatchEngine`` is the half that ``blocks`` and ``code_points`` share: words start at patch boundaries, a text
ends with one black EOS patch, a pair is text_a, a black separator patch, text_b and the EOS patch, and QA
windows over text_b are chosen as the published renderer chooses them. Its subclasses say how a strip is
measured (``_layout``) and drawn (``_draw``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import numpy as np

from pixel.render.compose import draw_direct
from pixel.render.config import RendererConfig
from pixel.render.encoding import Encoding
from pixel.render.layout import SentenceLayout
from pixel.render.pango import PangoBackend
from pixel.render.strategies import is_rtl, split_words
from pixel.render.word_map import overflow_word_ranges, slice_word_map

# Input kind ("str", "list" of words, "pair") -> the call keywords an engine uses for it.
UsedKeywords = Mapping[str, frozenset[str]]
PAIR_KEYWORDS = frozenset({"text_a_max_length", "rtl", "stride", "return_overflowing_patches"})


class Engine(Protocol):
    """The interface between ``PangoCairoTextRenderer`` and the code of a strategy."""

    config: RendererConfig  # replaced by the renderer when ``max_seq_length`` or ``rgb`` change
    used_keywords: UsedKeywords

    @property
    def backend(self) -> PangoBackend: ...

    def text(
        self, text: str, max_length: int | None, rtl: bool, pixel_shift: int, return_offset_mapping: bool
    ) -> Encoding: ...

    def words(self, words: list[str], max_length: int | None, rtl: bool) -> Encoding: ...

    def pair(
        self,
        pair: tuple[str, str],
        text_a_max_length: int | None,
        rtl: bool,
        stride: int,
        return_overflowing_patches: bool,
        return_offset_mapping: bool,
    ) -> Encoding: ...

    def batch(self, texts: list[str]) -> list[Encoding]: ...


class EngineBase:
    """The Pango backend of a config, built on first use."""

    def __init__(self, config: RendererConfig) -> None:
        self.config = config
        self._backend: PangoBackend | None = None

    @property
    def backend(self) -> PangoBackend:
        if self._backend is None:
            config = self.config
            self._backend = PangoBackend(
                Path(config.font_file),
                config.fallback_dirs,
                config.font_size,
                config.dpi,
                config.language,
                config.render_settings,
                lift=2 if config.strategy.published else 0,  # the published renderers' baseline
            )
        return self._backend

    def channels(self, gray: np.ndarray) -> np.ndarray:
        """``gray`` as the renderer returns pixels: itself, or ``[H, W, 3]`` when ``rgb``."""
        if not self.config.rgb:
            return gray
        pixels = np.empty((*gray.shape, 3), np.uint8)  # three strided copies: faster than np.repeat here
        pixels[..., 0] = pixels[..., 1] = pixels[..., 2] = gray
        return pixels


def drawn_words(text: str, rtl: bool = False) -> tuple[list[str], bool]:
    """The words of a sentence in drawing order (RTL, given or detected: reversed) and the RTL flag."""
    words = split_words(text)
    rtl = rtl or is_rtl(" ".join(words))
    return (words[::-1] if rtl else words), rtl


class PatchEngine(EngineBase, ABC):
    """Strategies whose words start at patch boundaries: str, word lists, pairs and QA windows."""

    used_keywords: UsedKeywords = {
        "str": frozenset({"max_length", "rtl"}),
        "list": frozenset({"max_length", "rtl"}),
        "pair": PAIR_KEYWORDS,
    }

    @abstractmethod
    def _begin(self) -> None:
        """Before measuring a strip: caches may only be emptied between strips, never during one."""

    @abstractmethod
    def _layout(self, words: list[str], rtl: bool, start: int, max_length: int) -> SentenceLayout:
        """Measure ``words`` from patch ``start`` and cut them to end before patch ``max_length``."""

    @abstractmethod
    def _draw(self, layouts: list[SentenceLayout], black: list[int]) -> tuple[np.ndarray, int, int]:
        """Strip pixels of the laid-out words with the ``black`` patches blackened; also the missing-glyph
        count and the dotted circles HarfBuzz inserted into the drawn runs."""

    # -- the interface ---------------------------------------------------------------------------------------
    def text(
        self,
        text: str,
        max_length: int | None = None,
        rtl: bool = False,
        pixel_shift: int = 0,
        return_offset_mapping: bool = False,
    ) -> Encoding:
        """A sentence: split on whitespace (never drawn); RTL text is drawn in reversed word order."""
        words, rtl = drawn_words(text, rtl)
        return self._encode(words, max_length, rtl)

    def words(self, words: list[str], max_length: int | None = None, rtl: bool = False) -> Encoding:
        """Pre-tokenised words, used as given; RTL only reverses characters inside blocks, not the word order."""
        return self._encode(words, max_length, rtl or is_rtl(" ".join(words)))

    def pair(
        self,
        pair: tuple[str, str],
        text_a_max_length: int | None = None,
        rtl: bool = False,
        stride: int = 0,
        return_overflowing_patches: bool = False,
        return_offset_mapping: bool = False,
    ) -> Encoding:
        """text_a, a black separator patch, text_b, the black EOS patch; text_b overflow as extra Encodings."""
        words_a, words_b = split_words(pair[0]), split_words(pair[1])
        rtl = rtl or (is_rtl(" ".join(words_a)) and is_rtl(" ".join(words_b)))
        if rtl:
            words_a, words_b = words_a[::-1], words_b[::-1]
        a_max = self.config.max_seq_length if text_a_max_length is None else text_a_max_length
        first = self._pair_encoding(words_a, words_b, rtl, a_max)
        if return_overflowing_patches:
            first.overflowing_patches = self._overflow(words_a, words_b, rtl, a_max, stride, first)
        return first

    def batch(self, texts: list[str]) -> list[Encoding]:
        return [self.text(text) for text in texts]

    # -- shared by the patch-aligned engines --------------------------------------------------------------------
    def _encode(self, words: list[str], max_length: int | None, rtl: bool) -> Encoding:
        L = self.config.max_seq_length
        self._begin()
        layout = self._layout(words, rtl, 0, L if max_length is None else max_length)
        eos = min(layout.end, L - 1)  # quirk (published): a full canvas loses its last patch
        pixels, missing, circles = self._draw([layout], [eos])
        return text_encoding(layout, eos, pixels, missing, circles)

    def _pair_encoding(self, words_a: list[str], words_b: list[str], rtl: bool, a_max: int) -> Encoding:
        L = self.config.max_seq_length
        self._begin()
        a = self._layout(words_a, rtl, 0, min(a_max, L - 2))
        sep = a.end
        b = self._layout(words_b, rtl, sep + 1, L)
        eos = min(b.end, L - 1)
        pixels, missing, circles = self._draw([a, b], [sep, eos])
        return Encoding(
            pixel_values=pixels,
            num_text_patches=eos,
            sep_patches=[sep, eos],
            word_starts=[*a.word_starts, *b.word_starts, b.end],
            word_patch_map={
                "text_a": a.word_patch_map,
                "text_b": b.word_patch_map,
                "full_text_b": b.full_word_patch_map,
            },
            truncated=a.truncated or b.truncated,
            num_missing_glyphs=missing,
            num_inserted_dotted_circles=circles,
        )

    def _overflow(
        self, words_a: list[str], words_b: list[str], rtl: bool, a_max: int, stride: int, first: Encoding
    ) -> list[Encoding]:
        """QA windows over text_b: word ranges chosen as the published renderer chooses them, each window drawn
        as a pair of text_a and those words. Each window's map adds ``full_text_b``, ``sliced_word_patch_map_b``
        (published) and ``text_b_word_offset`` (the index of its first word in text_b's drawn order)."""
        maps = first.word_patch_map
        assert maps is not None  # pair encodings always carry their word map
        full_b = maps["full_text_b"]
        a_end = maps["text_a"]["first_patch_after_last_word"]
        kept_last = maps["text_b"]["word_list_truncation_index"]
        windows = []
        for lo, hi in overflow_word_ranges(full_b, a_end, kept_last, stride, self.config.max_seq_length):
            sliced = slice_word_map(full_b, lo, hi)
            words = [entry["word"] for entry in sliced["word_order_on_canvas"].values()]
            window = self._pair_encoding(words_a, words, rtl, a_max)
            assert window.word_patch_map is not None
            window.word_patch_map.update(
                full_text_b=full_b, sliced_word_patch_map_b=sliced, text_b_word_offset=lo
            )
            windows.append(window)
        return windows

    def _draw_direct(self, layouts: list[SentenceLayout]) -> np.ndarray:
        """The reference drawing: every run of every placed block laid out and drawn by Pango on the strip.

        A word wider than the room left is cut by cairo at its EOS patch (``SentenceLayout.clip``).
        """
        P = self.config.pixels_per_patch
        placed, clips = [], []
        for layout in layouts:
            blocks = layout.placed
            placed += [(pos * P, b) for pos, b in blocks]
            clips += [None if layout.clip is None else layout.clip * P] * len(blocks)
        clipped = any(layout.clip is not None for layout in layouts)
        return draw_direct(
            self.backend,
            placed,
            self.config.max_seq_length * P,
            P,
            self.config.rgb,
            clips if clipped else None,
        )


def blacken(pixels: np.ndarray, patches: list[int], pixels_per_patch: int) -> np.ndarray:
    """``pixels`` with the separator / EOS ``patches`` set to black, in place."""
    P = pixels_per_patch
    for patch in patches:
        pixels[:, patch * P : (patch + 1) * P] = 0
    return pixels


def text_encoding(
    layout: SentenceLayout, eos: int, pixels: np.ndarray, missing: int, circles: int
) -> Encoding:
    """The Encoding of one laid-out text (str or word list) whose EOS patch is ``eos``."""
    return Encoding(
        pixel_values=pixels,
        num_text_patches=eos,
        sep_patches=[eos],
        word_starts=[*layout.word_starts, layout.end],
        word_patch_map=layout.word_patch_map,
        truncated=layout.truncated,
        num_missing_glyphs=missing,
        num_inserted_dotted_circles=circles,
    )
