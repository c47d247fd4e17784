"""The ``sentences`` engine of ``continuous``: the published PIXEL renderer (``pangocairo_renderer.py``), step for
step.

Text is laid out by Pango as whole shaped runs on the full strip, at pixel offsets that are not patch-aligned, so
no tile cache applies: every call lays out and draws like the published code. What it does, in its own units
(pixels, patch size ``P``, strip width ``W = L * P``; ``next_patch(x) = min(ceil(x / P) * P, W - P)``):

- ``str``: newlines become spaces; one layout drawn at ``x = left_padding - pixel_shift``; the EOS patch at
  ``next_patch(2 + width + 2)`` with ``width = max(0, w - pixel_shift)``. Text is never cut: a long one is
  clipped by the strip and the EOS patch overwrites the last patch (``truncated`` is set).
- ``list[str]``: every non-final, non-empty word drawn as ``word + " "`` from the current offset, which then
  moves to ``next_patch(offset + w)``; the last word without the space and with ``+2`` px; drawing stops once
  the offset reaches the last patch. ``word_starts`` lists the start of every drawn word and the EOS patch.
- ``(text_a, text_b)``: text_a at ``left_padding`` (truncated by ``text_a_max_length`` with the published binary
  search), the black separator at ``next_patch(left_padding + w_a + 2)``, text_b 2 px into the patch after it,
  the EOS at ``next_patch(x_b + w_b + 2)``; both texts right-to-left when ``rtl`` or both are detected RTL
  (then base direction RTL, right alignment, and text_b is cut to ``L - 1`` patches). ``offset_mapping`` per
  patch and the QA overflow windows follow the published arithmetic.

``left_padding`` is 0 in PIXEL-M4's copy of the renderer (the default) and 2 in the original PIXEL repository.
Quirks kept on purpose (released finetuned models saw them) are marked "Quirk (published)".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pixel.render.encoding import Encoding
from pixel.render.engines.base import PAIR_KEYWORDS, EngineBase, UsedKeywords
from pixel.render.pango import new_canvas, surface_to_array
from pixel.render.strategies import is_rtl


@dataclass
class _Sentence:
    """A drawn sentence: its full logical width, the text actually drawn, and the layout kind it was drawn with."""

    full_width: int
    drawn: str
    probe: bool  # drawn with the truncation-search layout (text was cut)
    unknown: int


class ContinuousEngine(EngineBase):
    """Lays out and draws text as the published PIXEL renderer does, for the current ``max_seq_length`` and ``rgb``.

    ``max_length`` (str and word lists) and ``rtl`` (str) are taken and not used, as published.
    """

    used_keywords: UsedKeywords = {
        "str": frozenset({"return_offset_mapping", "pixel_shift"}),
        "list": frozenset(),
        "pair": PAIR_KEYWORDS | {"return_offset_mapping"},
    }

    # The published renderer's units: patch size, strip length in patches and in pixels.
    @property
    def P(self) -> int:
        return self.config.pixels_per_patch

    @property
    def L(self) -> int:
        return self.config.max_seq_length

    @property
    def W(self) -> int:
        return self.config.max_seq_length * self.config.pixels_per_patch

    # -- pixel arithmetic of the published renderer ------------------------------------------------------------
    def next_patch(self, x: float) -> int:
        """Start of the patch at or after ``x``, clamped to the last patch of the strip."""
        return min(math.ceil(x / self.P) * self.P, self.W - self.P)

    def _previous_patch(self, x: float) -> int:
        return math.floor(x / self.P) * self.P

    def _y(self, height: int) -> float:
        return self.P / 2 - height / 2 - 2

    # -- drawing -----------------------------------------------------------------------------------------------
    def _sentence(
        self, cr, text: str, offset: float, max_length: int | None = None, rtl: bool = False
    ) -> _Sentence:
        """One layout for the whole text at ``offset``; cut to ``max_length`` patches by the published search.

        Quirk (published): the search stops at the first prefix that ends exactly in patch ``max_length`` (not the
        longest), may end on a prefix one patch too long (the last probe is drawn, whatever it was), and the
        layout is placed vertically with the height of that last probe.
        """
        backend = self.backend
        layout = backend.sentence_layout(rtl)
        width, height = backend.set_layout_text(layout, text)
        full_width, drawn, probe = width, text, False
        if max_length is not None and math.ceil((offset + width) / self.P) > max_length:
            layout, probe = backend.sentence_layout(rtl, probe=True), True
            lo, hi = 0, len(text)
            while lo <= hi:
                mid = (lo + hi) // 2
                drawn = text[:mid]
                width, height = backend.set_layout_text(layout, drawn)
                patches = math.ceil((offset + width) / self.P)
                if patches < max_length:
                    lo = mid + 1
                elif patches > max_length:
                    hi = mid - 1
                else:
                    break
        backend.show(cr, layout, offset, self._y(height))
        return _Sentence(full_width, drawn, probe, backend.unknown_glyphs(layout))

    def _word(self, cr, word: str, offset: int, is_last: bool) -> tuple[int, bool, int]:
        """Draw one word of a word list: the offset of the next word, whether the word reached the last patch
        (the strip is full), and the word's missing glyphs."""
        layout = self.backend.sentence_layout(False)
        width, height = self.backend.set_layout_text(layout, word)
        self.backend.show(cr, layout, offset, self._y(height))
        end = offset + width + (2 if is_last else 0)
        return self.next_patch(end), end > self.W - self.P, self.backend.unknown_glyphs(layout)

    def _image(self, surface, black_px: list[int]) -> np.ndarray:
        pixels = surface_to_array(surface, self.config.rgb)
        for x in black_px:
            pixels[:, x : x + self.P] = 0
        return pixels

    # -- str -------------------------------------------------------------------------------------------------------
    def text(
        self,
        text: str,
        max_length: int | None = None,
        rtl: bool = False,
        pixel_shift: int = 0,
        return_offset_mapping: bool = False,
    ) -> Encoding:
        text = text.replace("\n", " ")
        surface, cr = new_canvas(self.W, self.P, self.config.rgb)
        offset = self.config.left_padding - pixel_shift
        drawn = self._sentence(cr, text, offset)
        width = max(0, drawn.full_width - pixel_shift)
        eos = self.next_patch(2 + width + 2)
        encoding = Encoding(
            pixel_values=self._image(surface, [eos]),
            num_text_patches=eos // self.P,
            sep_patches=[eos // self.P],
            truncated=math.ceil((4 + width) / self.P) * self.P > self.W - self.P,
            num_missing_glyphs=drawn.unknown,
        )
        if return_offset_mapping:
            mapping = self._offset_mapping(drawn, offset, width + 2, 0, rtl=False)
            encoding.offset_mapping = self._pad_or_truncate(mapping)
        return encoding

    # -- list[str] ----------------------------------------------------------------------------------------------
    def words(self, words: list[str], max_length: int | None = None, rtl: bool = False) -> Encoding:
        surface, cr = new_canvas(self.W, self.P, self.config.rgb)
        starts, offset, missing, stopped, full = [0], self.config.left_padding, 0, False, False
        for word in words[:-1]:
            if word:  # m4 skips empty words (upstream PIXEL drew " " for them)
                offset, full, unknown = self._word(cr, word + " ", offset, is_last=False)
                starts.append(math.ceil(offset / self.P))
                missing += unknown
            if offset == self.W - self.P:  # the last patch is reached: the remaining words are not drawn
                stopped = True
                break
        if words and not stopped:
            offset, full, unknown = self._word(cr, words[-1], offset, is_last=True)
            starts.append(math.ceil(offset / self.P))
            missing += unknown
        num_text_patches = math.ceil(offset / self.P)
        return Encoding(
            pixel_values=self._image(surface, [offset]),
            num_text_patches=num_text_patches,
            sep_patches=[offset // self.P],
            word_starts=starts,
            truncated=stopped or full,
            num_missing_glyphs=missing,
        )

    # -- (text_a, text_b) ------------------------------------------------------------------------------------------
    def pair(
        self,
        pair: tuple[str, str],
        text_a_max_length: int | None = None,
        rtl: bool = False,
        stride: int = 0,
        return_overflowing_patches: bool = False,
        return_offset_mapping: bool = False,
    ) -> Encoding:
        P, W = self.P, self.W
        text_a, text_b = pair[0].replace("\n", " "), pair[1].replace("\n", " ")
        rtl = rtl or (is_rtl(text_a) and is_rtl(text_b))
        mapping_wanted = return_offset_mapping or return_overflowing_patches
        b_max = (W - P) // P if rtl else None  # RTL: text_b is cut to L - 1 patches
        surface, cr = new_canvas(W, P, self.config.rgb)
        offset = self.config.left_padding
        a = self._sentence(cr, text_a, offset, text_a_max_length, rtl)
        if mapping_wanted:
            map_a = self._offset_mapping(a, offset, a.full_width + 2, 0, rtl)
        # Quirk (published): the separator follows text_a's *full* width, even when text_a was cut.
        sep = self.next_patch(offset + a.full_width + 2)
        offset = sep + P + 2
        b = self._sentence(cr, text_b, offset, b_max, rtl)
        eos = self.next_patch(offset + b.full_width + 2)
        image = self._image(surface, [sep, eos])
        encoding = Encoding(
            pixel_values=image,
            num_text_patches=eos // P,
            sep_patches=[sep // P, eos // P],
            truncated=a.probe or b.probe or offset + b.full_width > W - P,
            num_missing_glyphs=a.unknown + b.unknown,
        )
        if not mapping_wanted:
            return encoding
        full_b = _Sentence(b.full_width, text_b, False, 0)
        map_b_full = self._offset_mapping(full_b, offset, b.full_width + 2, offset - 2, rtl)
        map_b = self._offset_mapping(b, offset, b.full_width + 2, offset - 2, rtl) if b.probe else map_b_full
        encoding.offset_mapping = self._pad_or_truncate(map_a + [(0, 0)] + map_b)
        if return_overflowing_patches:
            encoding.overflowing_patches = self._overflow(
                text_b, a.full_width, sep, offset + b.full_width, map_a, map_b_full, image, stride, rtl
            )
        return encoding

    def _overflow(
        self,
        text_b: str,
        width_a: int,
        sep: int,
        b_end: int,
        map_a: list[tuple[int, int]],
        map_b: list[tuple[int, int]],
        image: np.ndarray,
        stride: int,
        rtl: bool,
    ) -> list[Encoding]:
        """QA windows over text_b: the published sliding window, in pixels and offset-mapping entries.

        Each window redraws the rest of text_b from the character that the offset mapping puts ``stride`` patches
        before the overflow, and copies text_a and the separator from the previous image.

        Quirk (published): windows place text_a's end at ``next_patch(2 + w_a + 2)`` whatever the left padding,
        so with ``left_padding=0`` the copied region and the continuation can start one patch later than in the
        first image. Where the published code would index past text_b's mapping (an IndexError there), no further
        windows are made.
        """
        P, W = self.P, self.W
        a_end = self.next_patch(2 + width_a + 2)
        filled = (a_end // P + 1 + stride) * P  # text_a, separator, stride
        continuation = a_end + P + 2
        pixel_overflow = b_end - (W - P)
        patch_overflow = math.ceil(pixel_overflow / P)
        if pixel_overflow <= 0:
            return []
        windows = []
        room = W - P - (a_end + P + stride * P)  # text_b pixels per window beyond the stride
        if room <= 0:  # no room for text_b (published: no windows; ZeroDivisionError when exactly 0)
            return []
        for _ in range(math.ceil(pixel_overflow / room)):
            if pixel_overflow <= 0:
                break
            at = patch_overflow + stride if rtl else -patch_overflow - stride
            if not -len(map_b) <= at < len(map_b):
                break  # (the published code raises IndexError here: the overflow is larger than text_b's mapping)
            remainder = text_b[map_b[at][1 if rtl else 0] :]
            surface, cr = new_canvas(W, P, self.config.rgb)
            drawn = self._sentence(cr, remainder, continuation, (W - P) // P if rtl else None, rtl)
            eos = self.next_patch(continuation + drawn.full_width + 2)
            real_width = min(2 + drawn.full_width, W - P - continuation)
            if rtl:
                last = patch_overflow + stride
                first = max(0, last - real_width // P)
                window_map = map_b[first : last + 1]
                patch_overflow = first
                pixel_overflow = patch_overflow * P
            else:
                first, last = -patch_overflow - stride, -patch_overflow + real_width // P
                window_map = map_b[first : (None if last > -1 else last)]
                pixel_overflow = continuation + drawn.full_width - (W - P)
                patch_overflow = math.ceil(pixel_overflow / P)
            previous, image = image, self._image(surface, [sep, eos])
            image[:, : filled - stride * P] = previous[:, : filled - stride * P]
            windows.append(
                Encoding(
                    pixel_values=image,
                    num_text_patches=eos // P,
                    sep_patches=[sep // P, eos // P],
                    offset_mapping=self._pad_or_truncate(map_a + [(0, 0)] + window_map),
                    truncated=pixel_overflow > 0,
                    num_missing_glyphs=drawn.unknown,
                )
            )
        return windows

    # -- offset mapping ----------------------------------------------------------------------------------------
    def _offset_mapping(
        self, drawn: _Sentence, offset: float, text_width: int, text_shift: float, rtl: bool
    ) -> list[tuple[int, int]]:
        """Per patch, the (start, end) character span drawn there, by the published rule.

        Character positions are Pango's logical x of every character, with the characters of a multi-character
        cluster given the cluster's x; a patch collects the characters whose position falls before its right
        edge. RTL spans count from the end of the text. Quirk (published): when the 2-px padding after the text
        fills a whole patch, the last two entries are merged and a ``(-1, -1)`` entry appended.
        """
        backend, P = self.backend, self.P
        layout = backend.sentence_layout(rtl, probe=drawn.probe)
        backend.set_layout_text(layout, drawn.drawn)
        chars = [x + offset for x in backend.logical_x(layout, clusters=False)]
        clusters = [x + offset for x in backend.logical_x(layout, clusters=True)]
        positions = chars
        if len(chars) != len(clusters):
            positions, c = [], 0
            for x in chars:
                if c == len(clusters) or x != clusters[c]:
                    positions.append(clusters[c - 1])  # (c == 0 reads the last cluster, as published)
                else:
                    positions.append(x)
                    c += 1
        n = len(backend.layout_text(layout))
        blank_patch = self.next_patch(text_width) - text_width < offset - self._previous_patch(offset)
        positions.append(self.next_patch(text_width + offset))
        mapping: list[tuple[int, int]] = []
        start = 0
        for k, x in enumerate(positions):
            edge = P * (len(mapping) + 1)
            if x - text_shift >= edge:
                end = k if x - text_shift == edge else k - 1
                mapping.append((n - start, n - end) if rtl else (start, end))
                start = end
        if len(mapping) < math.ceil((text_width + offset - text_shift) / P):
            mapping.append((n - start, 0) if rtl else (start, len(positions)))
        if blank_patch and len(mapping) >= 2:  # (the published code raises IndexError with fewer entries)
            mapping[-2] = (mapping[-2][0], mapping[-1][1])
            mapping[-1] = (-1, -1)
        return mapping

    def _pad_or_truncate(self, mapping: list[tuple[int, int]]) -> list[tuple[int, int]]:
        if len(mapping) >= self.L:
            mapping = mapping[: self.L - 1] + [(0, 0)]
        return mapping + [(0, 0)] * (self.L - len(mapping))

    def batch(self, texts: list[str]) -> list[Encoding]:
        return [self.text(text) for text in texts]
