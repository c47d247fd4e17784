"""``PangoCairoTextRenderer``: text -> ``Encoding``, with the rendering strategy as a parameter."""

from __future__ import annotations

import inspect
import warnings
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Any, cast

import numpy as np

from pixel.render.compose import TileCache, block_patches, draw_direct
from pixel.render.continuous import ContinuousLayout
from pixel.render.encoding import Encoding
from pixel.render.fonts import SCRIPT_FONT_PREFERENCES, RenderSettings, default_fonts
from pixel.render.glyph_cache import GlyphCache
from pixel.render.glyphs import DottedCircles
from pixel.render.layout import (
    SentenceLayout,
    WordPlan,
    google_quirk,
    layout_cached_words,
    layout_words,
)
from pixel.render.pango import PangoBackend
from pixel.render.persistence import (
    SETTINGS,
    RendererPersistence,
    check_bool,
    check_int,
    check_setting,
    reject_unknown,
)
from pixel.render.strategies import Block, is_rtl, split_words, word_blocks
from pixel.render.word_cache import Piece, WordCache
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
    ``max_seq_length`` and ``rgb`` may be changed after construction. ``font_color``, ``background_color`` and
    ``pad_size`` are the published constructor's (kept in released configs) and, as there, unused.
    ``left_padding`` (``continuous`` only) is where text starts: 0 px in PIXEL-M4's copy of the PIXEL renderer
    (default), 2 px in the original PIXEL repository.

    Every setting is checked where it is set (here, as an attribute, or from a config), with an error naming
    it, its value and what is allowed (``check_setting``); unknown keywords are a ``TypeError``. Limits:
    ``max_seq_length`` up to ``max_strip_patches(pixels_per_patch)`` (2041 patches of 16 px: cairo's widest
    image is 32,767 px), a font of 1 to 1,024 px (``font_size * dpi / 72``), patches of 2 to 256 px.
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
        font_color: str = "black",
        background_color: str = "white",
        pad_size: int = 3,
        **unknown: Any,
    ) -> None:
        reject_unknown(type(self).__name__, unknown, _INIT_PARAMETERS)
        # In this order, so that each setting is checked against those it depends on (``__setattr__``).
        self.font_size, self.dpi, self.pixels_per_patch = font_size, dpi, pixels_per_patch
        self.max_seq_length, self.rgb = max_seq_length, rgb
        self.rendering_strategy, self.language = rendering_strategy, language
        # use_cache=False: the reference path, doing the published renderer's work (a layout per run) throughout.
        # ``continuous`` always lays out whole sentences, as published (its runs are not patch-aligned).
        self.use_cache = use_cache
        self.left_padding = left_padding
        self.cache_megabytes = cache_megabytes
        settings: RenderSettings | None = check_setting("render_settings", render_settings, {})
        self.font_file, self.fallback_dirs = self._fonts(font_file, fallback_fonts_dir)
        if settings is None:
            # The published strategies keep fontconfig's order (pixels as published); new ones prefer script fonts.
            modern = font_file is None and rendering_strategy not in ("bigrams", "continuous")
            settings = RenderSettings(preferred_fallbacks=SCRIPT_FONT_PREFERENCES if modern else ())
        self.render_settings = settings
        self._backend: PangoBackend | None = None
        self._cache: TileCache | None = None
        self._glyphs: GlyphCache | None = None
        self._words: WordCache | None = None
        self._circles: DottedCircles | None = None

    def _fonts(
        self, font_file: str | Path | None, fallback_fonts_dir: str | Path | list[str] | None
    ) -> tuple[str, tuple[Path, ...]]:
        """The main font file and the fallback folders (the strategy's defaults where none are given)."""
        if not isinstance(font_file, str | Path | None):
            raise TypeError(
                f"font_file={font_file!r} must be a path to a .ttf/.otf file or None (default fonts)"
            )
        dirs = [fallback_fonts_dir] if isinstance(fallback_fonts_dir, str | Path) else fallback_fonts_dir
        if dirs is not None and (
            not isinstance(dirs, list | tuple) or not all(isinstance(d, str | Path) for d in dirs)
        ):
            raise TypeError(
                f"fallback_fonts_dir={fallback_fonts_dir!r} must be a folder, a list of folders or None"
            )
        given_dirs = None if dirs is None else tuple(Path(d) for d in dirs)
        if font_file is None:
            default_file, default_dirs = default_fonts(self.rendering_strategy)
            font, fallback_dirs = str(default_file), default_dirs if given_dirs is None else given_dirs
        else:
            if not Path(font_file).is_file():
                raise FileNotFoundError(f"font file not found: {font_file}")
            font, fallback_dirs = str(font_file), given_dirs or ()
        for folder in fallback_dirs:
            if not Path(folder).is_dir():
                raise FileNotFoundError(f"fallback fonts folder not found: {folder}")
        return font, fallback_dirs

    def __setattr__(self, name: str, value: Any) -> None:
        # Settings are checked wherever they are set: here, by callers (``renderer.max_seq_length = n``, as
        # finetuning does) and by ``from_pretrained`` (config values and overrides).
        if name in SETTINGS:
            value = check_setting(name, value, self.__dict__)
        super().__setattr__(name, value)

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

    @property
    def dotted_circles(self) -> DottedCircles:
        """Counts the dotted circles HarfBuzz inserts into runs (``Encoding.num_inserted_dotted_circles``)."""
        if self._circles is None:
            self._circles = DottedCircles(self.backend)
        return self._circles

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in _PANGO_STATE}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        for name in _PANGO_STATE:
            setattr(self, name, None)

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
        **unknown: Any,
    ) -> Encoding:
        """Render ``text``: a sentence, a ``(text_a, text_b)`` pair or a list of pre-tokenised words.

        ``max_length`` (patches, at most ``max_seq_length``) cuts str and word-list input (patch-aligned
        strategies); ``rtl`` forces right-to-left; ``text_a_max_length``, ``stride`` and
        ``return_overflowing_patches`` are for pairs (QA windows); ``return_offset_mapping`` (str and pairs) and
        ``pixel_shift`` (str) are for ``continuous``, as published. Keywords an input does not use are ignored
        with a warning; unknown keywords and bad values raise.
        """
        if unknown:
            reject_unknown("renderer(...)", unknown, _CALL_KEYWORDS)
        kind = _input_kind(text)
        values = (
            max_length,
            rtl,
            text_a_max_length,
            stride,
            return_overflowing_patches,
            return_offset_mapping,
            pixel_shift,
        )
        if values != _CALL_DEFAULT_VALUES:  # (the common call, all defaults, needs no checks)
            self._check_call(kind, dict(zip(_CALL_DEFAULTS, values, strict=True)))
        continuous = self.rendering_strategy == "continuous"
        if kind == "pair":
            assert isinstance(text, tuple)  # (narrowing: ``_input_kind`` checked it)
            if continuous:
                encoding = self.continuous.pair(
                    *text, text_a_max_length, rtl, stride, return_overflowing_patches, return_offset_mapping
                )
                return self._checked(encoding, list(text))
            return self._render_pair(text, text_a_max_length, rtl, stride, return_overflowing_patches)
        if kind == "words":
            assert isinstance(text, list)
            if continuous:
                return self._checked(self.continuous.words(list(text)), list(text))
            return self._encode(list(text), max_length, rtl or is_rtl(" ".join(text)))
        assert isinstance(text, str)
        if continuous:
            return self._checked(self.continuous.text(text, pixel_shift, return_offset_mapping), [text])
        words, rtl = self._drawn_words(text, rtl)
        return self._encode(words, max_length, rtl)

    def _check_call(self, kind: str, arguments: dict[str, Any]) -> None:
        """Check the keyword values of a call; warn about those that ``kind`` of input does not use."""
        L, P = self.max_seq_length, self.pixels_per_patch
        if arguments["max_length"] is not None:
            check_int("max_length", arguments["max_length"], 1, L, f"patches, at most max_seq_length={L}")
        if arguments["text_a_max_length"] is not None:
            check_int("text_a_max_length", arguments["text_a_max_length"], 1, None, "patches of text_a")
        check_int("stride", arguments["stride"], 0, L - 1, "patches the QA windows overlap by")
        check_int("pixel_shift", arguments["pixel_shift"], 1 - P, P - 1, "pixels the text moves left")
        for name in ("rtl", "return_overflowing_patches", "return_offset_mapping"):
            check_bool(name, arguments[name])
        used = _USED_KEYWORDS[self.rendering_strategy == "continuous", kind]
        ignored = [f"{k}={v!r}" for k, v in arguments.items() if k not in used and v != _CALL_DEFAULTS[k]]
        if ignored:
            warnings.warn(
                f"{', '.join(ignored)}: not used for {kind} input with the {self.rendering_strategy} strategy "
                "(ignored, as the published renderer did)",
                stacklevel=3,
            )

    def render_text(self, text: str, max_length: int | None = None, rtl: bool = False) -> Encoding:
        """A sentence: split on whitespace (never drawn); RTL text is drawn in reversed word order.

        ``continuous`` draws the whole text as one run and ignores ``max_length`` and ``rtl``, as published.
        """
        return self(text, max_length=max_length, rtl=rtl)

    def render_words(self, words: list[str], max_length: int | None = None, rtl: bool = False) -> Encoding:
        """Pre-tokenised words, used as given; RTL only reverses characters inside blocks, not the word order."""
        return self(list(words), max_length=max_length, rtl=rtl)

    def render_pair(
        self,
        pair: tuple[str, str],
        text_a_max_length: int | None = None,
        rtl: bool = False,
        stride: int = 0,
        return_overflowing_patches: bool = False,
    ) -> Encoding:
        """text_a, a black separator patch, text_b, the black EOS patch; text_b overflow as extra Encodings."""
        return self(
            cast("tuple[str, str]", tuple(pair)),  # any other length is refused by ``_input_kind``
            text_a_max_length=text_a_max_length,
            rtl=rtl,
            stride=stride,
            return_overflowing_patches=return_overflowing_patches,
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

    @staticmethod
    def _drawn_words(text: str, rtl: bool = False) -> tuple[list[str], bool]:
        """The words of a sentence in drawing order (RTL: reversed) and the RTL flag."""
        words = split_words(text)
        rtl = rtl or is_rtl(" ".join(words))
        return (words[::-1] if rtl else words), rtl

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
        pieces: list[Piece] = []
        for layout in layouts:
            assert layout.piece is not None  # ``layout_cached_words`` always builds one
            pieces.append(layout.piece)
        composed = [k for k, piece in enumerate(pieces) if cache.new_in_strip(piece.ids)]
        gray_of: dict[int, np.ndarray] = {}
        for lo in range(0, len(composed), _COMPOSE_GROUP):
            group = composed[lo : lo + _COMPOSE_GROUP]
            grays = cache.from_glyphs_many([pieces[k] for k in group], S)
            gray_of.update(zip(group, grays, strict=True))
        encodings = []
        for k, ((words, _), layout, piece) in enumerate(zip(prepared, layouts, pieces, strict=True)):
            eos = min(layout.end, S - 1)  # quirk (published): a full canvas loses its last patch
            gray = gray_of.get(k)
            if gray is None:
                pixels, missing, circles = self._draw([layout], [eos])
            else:
                missing = int(cache.unknown[piece.ids].sum())
                circles = self.dotted_circles.code_points(layout.drawn_words)
                pixels = self._channels(gray)
                pixels[:, eos * P : (eos + 1) * P] = 0
            self._warn_missing(missing, words)
            encodings.append(self._text_encoding(layout, eos, pixels, missing, circles))
        return encodings

    # -- the one code path --------------------------------------------------------------------------------------
    def _blocks_of(self, word: str, rtl: bool) -> list[Block]:
        return word_blocks(self.rendering_strategy, word, rtl, self.pixels_per_patch)

    def _plans(self, words: list[str], rtl: bool) -> list[WordPlan]:
        """Measure words (from the tile cache when on)."""
        if self.use_cache:
            return self.cache.plans(words, (rtl, False), lambda w: self._new_word_blocks(w, rtl))
        P = self.pixels_per_patch
        return [
            WordPlan(blocks, [block_patches(self.backend, b, P) for b in blocks])
            for blocks in (self._blocks_of(word, rtl) for word in words)
        ]

    def _new_word_blocks(self, word: str, rtl: bool) -> list[Block]:
        """The blocks of a word the tile cache meets for the first time, with the dotted circles of its runs counted
        now: each run is measured and counted in turn, so Pango lays it out once for both (its width is cached
        for the tile cache, which measures it next)."""
        blocks = self._blocks_of(word, rtl)
        backend, count = self.backend, self.dotted_circles.run
        for block in blocks:
            for run in block.runs:
                backend.extent(run)
                count(run)
        return blocks

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

    def _draw(self, layouts: list[SentenceLayout], black: list[int]) -> tuple[np.ndarray, int, int]:
        """Strip pixels for the laid-out words with black separator/EOS patches; also the missing-glyph count and
        the dotted circles HarfBuzz inserted into the drawn runs."""
        P, num_patches = self.pixels_per_patch, self.max_seq_length
        pixels = None
        # A word wider than the room left is cut by cairo at its EOS patch (``SentenceLayout.clip``).
        clipped = any(layout.clip is not None for layout in layouts)
        if layouts[0].piece is not None:  # bigrams: word tiles built from the per-code-point glyph cache
            pieces: list[Piece] = []
            for layout in layouts:
                assert layout.piece is not None  # every layout of a bigrams strip has one
                pieces.append(layout.piece)
            ids = pieces[0].ids if len(pieces) == 1 else np.concatenate([piece.ids for piece in pieces])
            missing = int(self.words.unknown[ids].sum())
            circles = sum(self.dotted_circles.code_points(layout.drawn_words) for layout in layouts)
            gray = self.words.assemble(pieces, num_patches)
            if gray is not None:
                pixels = self._channels(gray)
        elif self.use_cache and not clipped:
            words = [w for layout in layouts for w in layout.words]
            missing = sum(plan.unknown for _, plan, _ in words)
            circles = self._plan_circles(layouts, words)
            coverage = self.cache.assemble(words, num_patches)
            if coverage is not None:
                gray = np.invert(coverage)
                pixels = np.repeat(gray[:, :, None], 3, axis=2) if self.rgb else gray
        else:
            placed = [item for layout in layouts for item in layout.placed]
            missing = sum(self.backend.extent(run).unknown_glyphs for _, b in placed for run in b.runs)
            circles = self.dotted_circles.runs(run for _, b in placed for run in b.runs)
        if pixels is None:
            placed, clips = [], []
            for layout in layouts:
                blocks = layout.placed
                placed += [(pos * P, b) for pos, b in blocks]
                clips += [None if layout.clip is None else layout.clip * P] * len(blocks)
            pixels = draw_direct(
                self.backend, placed, num_patches * P, P, self.rgb, clips if clipped else None
            )
        for patch in black:
            pixels[:, patch * P : (patch + 1) * P] = 0
        return pixels, missing, circles

    def _plan_circles(self, layouts: list[SentenceLayout], words: list[tuple[int, WordPlan, int]]) -> int:
        """Dotted circles in the drawn blocks of laid-out ``words`` (those of ``layouts``).

        A word's count is kept on its plan, so a strip of counted words costs two C-level maps.
        """
        try:
            total = sum(map(_CIRCLES, map(_PLAN, words)))
        except TypeError:  # words not counted yet (``WordPlan.circles`` is None)
            runs = self.dotted_circles.runs
            for _, plan, _ in words:
                if plan.circles is None:
                    plan.circles = runs(run for block in plan.blocks for run in block.runs)
            total = sum(map(_CIRCLES, map(_PLAN, words)))
        for layout in layouts:  # truncation cuts only a lone first word (``layout_words``)
            if len(layout.words) == 1 and layout.words[0][2] < len(layout.words[0][1].blocks):
                _, plan, drawn = layout.words[0]
                assert plan.circles is not None  # counted above
                cut = [run for block in plan.blocks[:drawn] for run in block.runs]
                total += self.dotted_circles.runs(cut) - plan.circles
        return total

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
        pixels, missing, circles = self._draw([layout], [eos])
        self._warn_missing(missing, words)
        return self._text_encoding(layout, eos, pixels, missing, circles)

    @staticmethod
    def _text_encoding(
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

    def _render_pair(
        self,
        pair: tuple[str, str],
        text_a_max_length: int | None,
        rtl: bool,
        stride: int,
        return_overflowing_patches: bool,
    ) -> Encoding:
        """``render_pair`` for the patch-aligned strategies (``continuous`` pairs: ``ContinuousLayout.pair``)."""
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
        pixels, missing, circles = self._draw([a, b], [sep, eos])
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
        for lo, hi in overflow_word_ranges(full_b, a_end, kept_last, stride, self.max_seq_length):
            sliced = slice_word_map(full_b, lo, hi)
            words = [entry["word"] for entry in sliced["word_order_on_canvas"].values()]
            window = self._pair_encoding(words_a, words, rtl, a_max)
            assert window.word_patch_map is not None
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


def _input_kind(text: Any) -> str:
    """``"str"``, ``"pair"`` or ``"words"``; ``TypeError`` for anything else."""
    if isinstance(text, str):
        return "str"
    if isinstance(text, tuple) and len(text) == 2 and all(isinstance(t, str) for t in text):
        return "pair"
    if isinstance(text, list) and all(isinstance(w, str) for w in text):
        return "words"
    detail = type(text).__name__
    if isinstance(text, list | tuple):
        detail += f" of {len(text)}: " + ", ".join(sorted({type(t).__name__ for t in text}))
    raise TypeError(f"renderer input must be str, a (str, str) pair or a list[str] of words, got {detail}")


_PLAN, _CIRCLES = itemgetter(1), attrgetter("circles")  # of a laid-out word (start, plan, blocks drawn)
_PANGO_STATE = ("_backend", "_cache", "_glyphs", "_words", "_circles")  # rebuilt lazily, never pickled
_INIT_PARAMETERS = tuple(inspect.signature(PangoCairoTextRenderer.__init__).parameters)[1:-1]
_CALL_DEFAULTS = {
    name: parameter.default
    for name, parameter in inspect.signature(PangoCairoTextRenderer.__call__).parameters.items()
    if parameter.default is not inspect.Parameter.empty
}
_CALL_DEFAULT_VALUES = tuple(_CALL_DEFAULTS.values())
_CALL_KEYWORDS = ("text", *_CALL_DEFAULTS)
# (continuous?, input kind) -> the keywords that input uses; the others are ignored (with a warning).
_PAIR_KEYWORDS = frozenset({"text_a_max_length", "rtl", "stride", "return_overflowing_patches"})
_USED_KEYWORDS = {
    (False, "str"): frozenset({"max_length", "rtl"}),
    (False, "words"): frozenset({"max_length", "rtl"}),
    (False, "pair"): _PAIR_KEYWORDS,
    (True, "str"): frozenset({"return_offset_mapping", "pixel_shift"}),
    (True, "words"): frozenset(),
    (True, "pair"): _PAIR_KEYWORDS | {"return_offset_mapping"},
}
