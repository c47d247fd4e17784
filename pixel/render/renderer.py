"""``PangoCairoTextRenderer``: text -> ``Encoding``, with the rendering strategy as a parameter."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from pixel.render.compose import TileCache, block_patches, draw_direct
from pixel.render.continuous import ContinuousLayout
from pixel.render.encoding import Encoding
from pixel.render.fonts import SCRIPT_FONT_PREFERENCES, RenderSettings, default_fonts
from pixel.render.glyph_cache import GlyphCache
from pixel.render.layout import (
    SentenceLayout,
    WordPlan,
    google_quirk,
    layout_cached_words,
    layout_words,
)
from pixel.render.pango import PangoBackend
from pixel.render.persistence import RendererPersistence
from pixel.render.strategies import STRATEGIES, Block, is_rtl, split_words, word_blocks
from pixel.render.word_cache import WordCache
from pixel.render.word_map import overflow_word_ranges, slice_word_map

# The published renderer's language under a C / C.UTF-8 locale: Pango's default language there is "c".
DEFAULT_LANGUAGE = "c"
# Strips composited from glyphs in one call by ``render_batch``: its temporaries (~100 KB a strip) then stay in
# the CPU cache; 16 or more strips per call were slower per strip than one (measured on SIB-200 en).
_COMPOSE_GROUP = 8


class PangoCairoTextRenderer(RendererPersistence):
    """Renders text to a ``P``-pixel-high strip of ``P x P`` patches with Pango/cairo.

    ``rendering_strategy`` is one of ``bigrams`` (published PIXEL-M4, the default), ``continuous`` (published
    PIXEL), ``words``, ``mono`` and ``grapheme_bigrams``. With no ``font_file``, ``bigrams`` and ``continuous``
    draw with GoNotoCurrent, the published main font, once ``pixel fonts --install`` has put it in place (else
    with Noto Sans and one warning), the other strategies with Noto Sans; every Debian Noto font is a fallback.
    ``max_seq_length`` and ``rgb`` may be changed after
    construction. ``font_color``, ``background_color`` and ``pad_size`` are accepted for compatibility with
    released configs and, as in the published code, unused. ``left_padding`` (``continuous`` only) is where text
    starts: 0 px in PIXEL-M4's copy of the PIXEL renderer (default), 2 px in the original PIXEL repository.
    """

    def __init__(
        self,
        font_file: str | Path | None = None,
        font_size: float = 8,
        dpi: int = 120,
        pixels_per_patch: int = 16,
        max_seq_length: int = 529,
        rgb: bool = False,
        fallback_fonts_dir: str | Path | list[str] | None = None,
        rendering_strategy: str = "bigrams",
        language: str = DEFAULT_LANGUAGE,
        render_settings: RenderSettings | dict | None = None,
        use_cache: bool = True,
        cache_megabytes: float = 64.0,
        left_padding: int = 0,
        **unused: Any,
    ) -> None:
        if rendering_strategy not in STRATEGIES:
            raise ValueError(
                f"unknown rendering_strategy {rendering_strategy!r}; choose one of {', '.join(STRATEGIES)}"
            )
        given_dirs = None
        if fallback_fonts_dir is not None:
            given_dirs = tuple(
                Path(d)
                for d in (
                    [fallback_fonts_dir] if isinstance(fallback_fonts_dir, str | Path) else fallback_fonts_dir
                )
            )
        if font_file is None:
            default_file, default_dirs = default_fonts(rendering_strategy)
            self.font_file = str(default_file)
            self.fallback_dirs = default_dirs if given_dirs is None else given_dirs
        else:
            if not Path(font_file).is_file():
                raise FileNotFoundError(f"font file not found: {font_file}")
            self.font_file = str(font_file)
            self.fallback_dirs = given_dirs or ()
        for folder in self.fallback_dirs:
            if not Path(folder).is_dir():
                raise FileNotFoundError(f"fallback fonts folder not found: {folder}")
        self.font_size, self.dpi, self.pixels_per_patch = font_size, dpi, pixels_per_patch
        self.max_seq_length, self.rgb = max_seq_length, rgb
        self.rendering_strategy, self.language = rendering_strategy, language
        if isinstance(render_settings, dict):
            render_settings = RenderSettings.from_dict(render_settings)
        if render_settings is None:
            # The published strategies keep fontconfig's order (pixels as published); new ones prefer script fonts.
            modern = font_file is None and rendering_strategy not in ("bigrams", "continuous")
            render_settings = RenderSettings(preferred_fallbacks=SCRIPT_FONT_PREFERENCES if modern else ())
        self.render_settings = render_settings
        # use_cache=False: the reference path, doing the published renderer's work (a layout per run) throughout.
        # ``continuous`` always lays out whole sentences, as published (its runs are not patch-aligned).
        self.use_cache = use_cache
        self.left_padding = left_padding
        self.cache_megabytes = cache_megabytes
        self._backend: PangoBackend | None = None
        self._cache: TileCache | None = None
        self._glyphs: GlyphCache | None = None
        self._words: WordCache | None = None

    # -- Pango state is created lazily, so renderers pickle cheaply into DataLoader workers ------------------
    @property
    def backend(self) -> PangoBackend:
        if self._backend is None:
            self._backend = PangoBackend(
                Path(self.font_file),
                tuple(map(Path, self.fallback_dirs)),
                self.font_size,
                self.dpi,
                self.language,
                self.render_settings,
                lift=2 if self.rendering_strategy in ("bigrams", "continuous") else 0,
            )
        return self._backend

    @property
    def cache(self) -> TileCache:
        if self._cache is None:
            self._cache = TileCache(self.backend, self.pixels_per_patch, self.cache_megabytes)
        return self._cache

    @property
    def glyphs(self) -> GlyphCache:
        """The per-code-point cache of the ``bigrams`` strategy (every code point is its own layout there)."""
        if self._glyphs is None:
            self._glyphs = GlyphCache(self.backend, self.pixels_per_patch, self.cache_megabytes)
        return self._glyphs

    @property
    def words(self) -> WordCache:
        """The word -> patch-tile cache of the ``bigrams`` strategy, built on ``glyphs``."""
        if self._words is None:
            self._words = WordCache(self.glyphs, self.cache_megabytes)
        return self._words

    def __getstate__(self) -> dict:
        return {
            k: v for k, v in self.__dict__.items() if k not in ("_backend", "_cache", "_glyphs", "_words")
        }

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._backend, self._cache, self._glyphs, self._words = None, None, None, None

    @property
    def legacy(self) -> bool:
        """The published PIXEL-M4 quirks apply to the ``bigrams`` strategy only."""
        return self.rendering_strategy == "bigrams"

    # -- public entry point ---------------------------------------------------------------------------------
    def __call__(
        self,
        text: str | tuple[str, str] | list[str],
        max_length: int | None = None,
        rtl: bool = False,
        text_a_max_length: int | None = None,
        stride: int = 0,
        return_overflowing_patches: bool = False,
        return_offset_mapping: bool = False,
        pixel_shift: int = 0,
        **unused: Any,
    ) -> Encoding:
        """Render ``text``; ``return_offset_mapping`` and ``pixel_shift`` are for ``continuous`` (as published)."""
        if isinstance(text, str):
            if self.rendering_strategy == "continuous":
                return self._checked(self.continuous.text(text, pixel_shift, return_offset_mapping), [text])
            return self.render_text(text, max_length=max_length, rtl=rtl)
        if isinstance(text, tuple) and len(text) == 2 and all(isinstance(t, str) for t in text):
            if self.rendering_strategy == "continuous":
                encoding = self.continuous.pair(
                    *text, text_a_max_length, rtl, stride, return_overflowing_patches, return_offset_mapping
                )
                return self._checked(encoding, list(text))
            return self.render_pair(text, text_a_max_length, rtl, stride, return_overflowing_patches)
        if isinstance(text, list) and all(isinstance(w, str) for w in text):
            return self.render_words(text, max_length=max_length, rtl=rtl)
        detail = type(text).__name__
        if isinstance(text, list | tuple):
            detail += " of " + ", ".join(sorted({type(t).__name__ for t in text}))
        raise TypeError(
            f"renderer input must be str, a (str, str) pair or a list[str] of words, got {detail}"
        )

    @property
    def continuous(self) -> ContinuousLayout:
        """The published PIXEL layout on this renderer's backend (for the current ``max_seq_length``/``rgb``)."""
        return ContinuousLayout(
            self.backend, self.pixels_per_patch, self.max_seq_length, self.rgb, self.left_padding
        )

    def _checked(self, encoding: Encoding, texts: list[str]) -> Encoding:
        self._warn_missing(encoding.num_missing_glyphs, texts)
        return encoding

    def render_text(self, text: str, max_length: int | None = None, rtl: bool = False) -> Encoding:
        """A sentence: split on whitespace (never drawn); RTL text is drawn in reversed word order.

        ``continuous`` draws the whole text as one run and ignores ``max_length`` and ``rtl``, as published.
        """
        if self.rendering_strategy == "continuous":
            return self._checked(self.continuous.text(text), [text])
        words, rtl = self._drawn_words(text, rtl)
        return self._encode(words, max_length, rtl)

    @staticmethod
    def _drawn_words(text: str, rtl: bool = False) -> tuple[list[str], bool]:
        """The words of a sentence in drawing order (RTL: reversed) and the RTL flag."""
        words = split_words(text)
        rtl = rtl or is_rtl(" ".join(words))
        return (words[::-1] if rtl else words), rtl

    def render_words(self, words: list[str], max_length: int | None = None, rtl: bool = False) -> Encoding:
        """Pre-tokenised words, used as given; RTL only reverses characters inside blocks, not the word order."""
        if self.rendering_strategy == "continuous":
            return self._checked(self.continuous.words(list(words)), list(words))
        return self._encode(list(words), max_length, rtl or is_rtl(" ".join(words)))

    def render_batch(self, texts: list[str]) -> list[Encoding]:
        """``[self(text) for text in texts]``, the same Encodings, with the per-strip fixed costs shared.

        For ``bigrams`` with the cache on and str inputs: the new words of all texts are measured at once, and
        the strips holding new words are composited from glyphs in one pass (side by side, each clipped to its
        own width as a single strip is). Strips of words met before use the tiles, as ``render_text`` does.
        Otherwise (other strategies, no cache, non-str inputs) the texts are rendered one by one. The caches
        are emptied only between chunks of the batch: a chunk holds at most as many strips as the budget has
        room for (counting ``2 * max_seq_length`` patches a strip: its words past the truncation are measured too),
        one strip when it has none.
        """
        if not (self.legacy and self.use_cache and all(isinstance(t, str) for t in texts)):
            return [self(text) for text in texts]
        out: list[Encoding] = []
        while len(out) < len(texts):
            self._begin()
            room = max(1, self.words.headroom // max(1, 2 * self.max_seq_length))
            out += self._render_chunk(texts[len(out) : len(out) + room])
        return out

    def _render_chunk(self, texts: list[str]) -> list[Encoding]:
        """``render_text`` of every text after one ``_begin`` (bigrams, cache on)."""
        P, S, cache = self.pixels_per_patch, self.max_seq_length, self.words
        prepared = [
            self._drawn_words(text) for text in texts
        ]  # as ``render_text`` passes them to ``_encode``
        words_of = [google_quirk(words) for words, _ in prepared]
        ids_of: list[np.ndarray] = [np.empty(0, np.int64)] * len(texts)
        for flag in (False, True):  # measure the new words of every strip at once
            mine = [k for k, (_, rtl) in enumerate(prepared) if rtl == flag]
            if not mine:
                continue
            ids = cache.lookup([w for k in mine for w in words_of[k]], flag)
            ends = np.cumsum([len(words_of[k]) for k in mine]).tolist()
            for k, lo, hi in zip(mine, [0, *ends], ends, strict=False):
                ids_of[k] = ids[lo:hi]
        layouts = [
            layout_cached_words(words, rtl, 0, S, S, P, cache, ids)
            for words, (_, rtl), ids in zip(words_of, prepared, ids_of, strict=True)
        ]
        composed = [k for k, layout in enumerate(layouts) if cache.new_in_strip(layout.piece.ids)]
        gray_of = {}
        for lo in range(0, len(composed), _COMPOSE_GROUP):
            group = composed[lo : lo + _COMPOSE_GROUP]
            grays = cache.from_glyphs_many([layouts[k].piece for k in group], S)
            gray_of.update(zip(group, grays, strict=True))
        encodings = []
        for k, ((words, _), layout) in enumerate(zip(prepared, layouts, strict=True)):
            eos = min(layout.end, S - 1)  # quirk (published): a full canvas loses its last patch
            gray = gray_of.get(k)
            if gray is None:
                pixels, missing = self._draw([layout], [eos])
            else:
                missing = int(cache.unknown[layout.piece.ids].sum())
                pixels = self._channels(gray)
                pixels[:, eos * P : (eos + 1) * P] = 0
            self._warn_missing(missing, words)
            encodings.append(self._text_encoding(layout, eos, pixels, missing))
        return encodings

    # -- the one code path --------------------------------------------------------------------------------------
    def _blocks_of(self, word: str, rtl: bool) -> list[Block]:
        return word_blocks(self.rendering_strategy, word, rtl, self.pixels_per_patch)

    def _plans(self, words: list[str], rtl: bool) -> list[WordPlan]:
        """Measure words (from the tile cache when on)."""
        if self.use_cache:
            return self.cache.plans(words, (rtl, False), lambda w: self._blocks_of(w, rtl))
        P = self.pixels_per_patch
        return [
            WordPlan(blocks, [block_patches(self.backend, b, P) for b in blocks])
            for blocks in (self._blocks_of(word, rtl) for word in words)
        ]

    def _begin(self) -> None:
        """Before measuring a strip: the tile cache may only be emptied between strips, never during one."""
        if self.use_cache:
            (self.words if self.legacy else self.cache).begin()

    def _layout(self, words: list[str], rtl: bool, start: int, max_length: int) -> SentenceLayout:
        if self.legacy:
            words = google_quirk(words)
            if self.use_cache:
                P = self.pixels_per_patch
                return layout_cached_words(words, rtl, start, max_length, self.max_seq_length, P, self.words)
        plans = self._plans(words, rtl)
        return layout_words(words, plans, start, max_length, self.legacy, self.max_seq_length, rtl)

    def _channels(self, gray: np.ndarray) -> np.ndarray:
        """``gray`` as the renderer returns pixels: itself, or ``[H, W, 3]`` when ``rgb``."""
        if not self.rgb:
            return gray
        pixels = np.empty((*gray.shape, 3), np.uint8)  # three strided copies: faster than np.repeat here
        pixels[..., 0] = pixels[..., 1] = pixels[..., 2] = gray
        return pixels

    def _draw(self, layouts: list[SentenceLayout], black: list[int]) -> tuple[np.ndarray, int]:
        """Strip pixels for the laid-out words with black separator/EOS patches; also the missing-glyph count."""
        P, num_patches = self.pixels_per_patch, self.max_seq_length
        pixels = None
        if layouts[0].piece is not None:  # bigrams: word tiles built from the per-code-point glyph cache
            pieces = [layout.piece for layout in layouts]
            ids = pieces[0].ids if len(pieces) == 1 else np.concatenate([piece.ids for piece in pieces])
            missing = int(self.words.unknown[ids].sum())
            gray = self.words.assemble(pieces, num_patches)
            if gray is not None:
                pixels = self._channels(gray)
        elif self.use_cache:
            words = [w for layout in layouts for w in layout.words]
            missing = sum(plan.unknown for _, plan, _ in words)
            coverage = self.cache.assemble(words, num_patches)
            if coverage is not None:
                gray = np.invert(coverage)
                pixels = np.repeat(gray[:, :, None], 3, axis=2) if self.rgb else gray
        else:
            placed = [item for layout in layouts for item in layout.placed]
            missing = sum(self.backend.extent(run).unknown_glyphs for _, b in placed for run in b.runs)
        if pixels is None:
            placed = [(pos * P, b) for layout in layouts for pos, b in layout.placed]
            pixels = draw_direct(self.backend, placed, num_patches * P, P, self.rgb)
        for patch in black:
            pixels[:, patch * P : (patch + 1) * P] = 0
        return pixels, missing

    def _encode(
        self,
        words: list[str],
        max_length: int | None,
        rtl: bool,
    ) -> Encoding:
        max_length = self.max_seq_length if max_length is None else max_length
        self._begin()
        layout = self._layout(words, rtl, 0, max_length)
        eos = min(
            layout.end, self.max_seq_length - 1
        )  # quirk (published): a full canvas loses its last patch
        pixels, missing = self._draw([layout], [eos])
        self._warn_missing(missing, words)
        return self._text_encoding(layout, eos, pixels, missing)

    @staticmethod
    def _text_encoding(layout: SentenceLayout, eos: int, pixels: np.ndarray, missing: int) -> Encoding:
        """The Encoding of one laid-out text (str or word list) whose EOS patch is ``eos``."""
        return Encoding(
            pixel_values=pixels,
            num_text_patches=eos,
            sep_patches=[eos],
            word_starts=[*layout.word_starts, layout.end],
            word_patch_map=layout.word_patch_map,
            truncated=layout.truncated,
            num_missing_glyphs=missing,
        )

    def render_pair(
        self,
        pair: tuple[str, str],
        text_a_max_length: int | None = None,
        rtl: bool = False,
        stride: int = 0,
        return_overflowing_patches: bool = False,
    ) -> Encoding:
        """text_a, a black separator patch, text_b, the black EOS patch; text_b overflow as extra Encodings.

        For the patch-aligned strategies (``continuous`` pairs go through ``ContinuousLayout.pair``).
        """
        words_a, words_b = split_words(pair[0]), split_words(pair[1])
        rtl = rtl or (is_rtl(" ".join(words_a)) and is_rtl(" ".join(words_b)))
        if rtl:
            words_a, words_b = words_a[::-1], words_b[::-1]
        a_max = self.max_seq_length if text_a_max_length is None else text_a_max_length
        first = self._pair_encoding(words_a, words_b, rtl, a_max)
        if return_overflowing_patches:
            first.overflowing_patches = self._overflow(words_a, words_b, rtl, a_max, stride, first)
        return first

    def _pair_encoding(self, words_a: list[str], words_b: list[str], rtl: bool, a_max: int) -> Encoding:
        self._begin()
        a = self._layout(words_a, rtl, 0, min(a_max, self.max_seq_length - 2))
        sep = a.end
        b = self._layout(words_b, rtl, sep + 1, self.max_seq_length)
        eos = min(b.end, self.max_seq_length - 1)
        pixels, missing = self._draw([a, b], [sep, eos])
        self._warn_missing(missing, words_a + words_b)
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
        )

    def _overflow(
        self, words_a: list[str], words_b: list[str], rtl: bool, a_max: int, stride: int, first: Encoding
    ) -> list[Encoding]:
        """QA windows over text_b: word ranges chosen as the published renderer chooses them, each window drawn
        as a pair of text_a and those words. Each window's map adds ``full_text_b``, ``sliced_word_patch_map_b``
        (published) and ``text_b_word_offset`` (the index of its first word in text_b's drawn order)."""
        maps = first.word_patch_map
        full_b = maps["full_text_b"]
        a_end = maps["text_a"]["first_patch_after_last_word"]
        kept_last = maps["text_b"]["word_list_truncation_index"]
        windows = []
        for lo, hi in overflow_word_ranges(full_b, a_end, kept_last, stride, self.max_seq_length):
            sliced = slice_word_map(full_b, lo, hi)
            words = [entry["word"] for entry in sliced["word_order_on_canvas"].values()]
            window = self._pair_encoding(words_a, words, rtl, a_max)
            window.word_patch_map.update(
                full_text_b=full_b, sliced_word_patch_map_b=sliced, text_b_word_offset=lo
            )
            windows.append(window)
        return windows

    @staticmethod
    def _warn_missing(missing: int, words: list[str]) -> None:
        if missing:
            sample = " ".join(words)[:60]
            warnings.warn(
                f"{missing} glyph(s) missing from every font while rendering {sample!r}", stacklevel=3
            )
