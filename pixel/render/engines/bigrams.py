"""The ``code_points`` engine: the published PIXEL-M4 ``bigrams`` renderer on exact glyph and word caches.

Every code point is its own run (``code_point_bigrams``), so a word is a row of cached glyphs at integer x:
words are measured and composited from the per-code-point ``GlyphCache`` and, once text repeats, gathered
from the word -> patch-tile ``WordCache`` (both exact; see their modules). Truncation and the word map keep the
published quirks (``layout_words``, quirk by quirk, computed here from word bounds). The uncached reference
path of ``bigrams`` is the ``blocks`` engine.
"""

from __future__ import annotations

import logging
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

import numpy as np

from pixel.render.code_points import code_point_layout
from pixel.render.config import RendererConfig
from pixel.render.encoding import Encoding
from pixel.render.engines.base import PatchEngine, blacken, drawn_words, text_encoding
from pixel.render.glyph_cache import GlyphCache
from pixel.render.layout import SentenceLayout, google_quirk
from pixel.render.strategies import Block
from pixel.render.word_cache import Piece, WordCache
from pixel.render.word_map import word_patch_maps

logger = logging.getLogger(__name__)

# Strips composited from glyphs in one call by ``batch``: its temporaries (~100 KB a strip) then stay in the
# CPU cache; 16 or more strips per call were slower per strip than one (measured on SIB-200 en).
_COMPOSE_GROUP = 8


@dataclass
class CachedLayout(SentenceLayout):
    """A ``SentenceLayout`` of cached words: the words to draw (``WordCache`` ids and where they go) and their
    text; the blocks (patch index, block), for the rare strips drawn directly, are computed on demand."""

    piece: Piece | None = None
    drawn_words: list[str] = field(default_factory=list)
    rtl: bool = False
    start: int = 0
    pixels_per_patch: int = 16
    glyphs: GlyphCache | None = None

    @property
    def placed(self) -> list[tuple[int, Block]]:
        assert self.glyphs is not None  # (set by ``layout_cached_words``)
        lay = code_point_layout(self.drawn_words, self.rtl, self.pixels_per_patch, self.glyphs)
        bounds = [*lay.first.tolist(), len(lay.chars)]
        patches = (self.start + lay.block_patch).tolist()
        return [
            (p, Block(tuple(lay.chars[a:b]))) for p, a, b in zip(patches, bounds, bounds[1:], strict=False)
        ]


class BigramsEngine(PatchEngine):
    def __init__(self, config: RendererConfig) -> None:
        super().__init__(config)
        self._glyphs: GlyphCache | None = None
        self._words: WordCache | None = None

    @property
    def glyphs(self) -> GlyphCache:
        """The per-code-point cache (every code point is its own layout here)."""
        if self._glyphs is None:
            config = self.config
            self._glyphs = GlyphCache(self.backend, config.pixels_per_patch, config.cache_megabytes)
        return self._glyphs

    @property
    def words_cache(self) -> WordCache:
        """The word -> patch-tile cache, built on ``glyphs``."""
        if self._words is None:
            self._words = WordCache(self.glyphs, self.config.cache_megabytes)
        return self._words

    def _begin(self) -> None:
        self.words_cache.begin()

    def _layout(self, words: list[str], rtl: bool, start: int, max_length: int) -> CachedLayout:
        config = self.config
        return layout_cached_words(
            google_quirk(words),
            rtl,
            start,
            max_length,
            config.max_seq_length,
            config.pixels_per_patch,
            self.words_cache,
        )

    def _draw(self, layouts: list[SentenceLayout], black: list[int]) -> tuple[np.ndarray, int, int]:
        pieces: list[Piece] = []
        for layout in layouts:
            assert isinstance(layout, CachedLayout) and layout.piece is not None  # (``_layout`` made them)
            pieces.append(layout.piece)
        ids = pieces[0].ids if len(pieces) == 1 else np.concatenate([piece.ids for piece in pieces])
        cache = self.words_cache
        missing, circles = int(cache.unknown[ids].sum()), int(cache.circles[ids].sum())
        gray = cache.assemble(pieces, self.config.max_seq_length)
        pixels = self._draw_direct(layouts) if gray is None else self.channels(gray)
        return blacken(pixels, black, self.config.pixels_per_patch), missing, circles

    def batch(self, texts: list[str]) -> list[Encoding]:
        """``[self.text(text) for text in texts]``, the same Encodings, with the per-strip fixed costs shared.

        The new words of all texts are measured at once, and the strips holding new words are composited from
        glyphs in one pass (side by side, each clipped to its own width as a single strip is). Strips of words
        met before use the tiles, as ``text`` does. The caches are emptied only between chunks of the batch: a
        chunk holds at most as many strips as the budget has room for (counting ``2 * max_seq_length`` patches
        a strip: its words past the truncation are measured too), one strip when it has none.
        """
        out: list[Encoding] = []
        while len(out) < len(texts):
            self._begin()
            room = max(1, self.words_cache.headroom // max(1, 2 * self.config.max_seq_length))
            out += self._chunk(texts[len(out) : len(out) + room])
        return out

    def _chunk(self, texts: list[str]) -> list[Encoding]:
        """``text`` of every text after one ``_begin``."""
        P, S, cache = self.config.pixels_per_patch, self.config.max_seq_length, self.words_cache
        prepared = [drawn_words(text) for text in texts]  # as ``text`` passes them to ``_encode``
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
        for k, (layout, piece) in enumerate(zip(layouts, pieces, strict=True)):
            eos = min(layout.end, S - 1)  # quirk (published): a full canvas loses its last patch
            gray = gray_of.get(k)
            if gray is None:
                pixels, missing, circles = self._draw([layout], [eos])
            else:
                missing, circles = int(cache.unknown[piece.ids].sum()), int(cache.circles[piece.ids].sum())
                pixels = blacken(self.channels(gray), [eos], P)
            encodings.append(text_encoding(layout, eos, pixels, missing, circles))
        return encodings


def layout_cached_words(
    words: list[str],
    rtl: bool,
    start: int,
    max_length: int,
    max_seq_length: int,
    pixels_per_patch: int,
    cache: WordCache,
    ids: np.ndarray | None = None,
) -> CachedLayout:
    """``layout_words`` for the published bigrams (quirks included), from the word cache.

    Each word's patches are looked up (words not seen yet are laid out by ``code_point_layout``, all at once),
    unless ``ids`` (``int64 [len(words)]``, from ``cache.lookup(words, rtl)``) is given.
    The result carries the words to draw (``piece``: ids and places, for ``WordCache.assemble``); its
    ``placed`` blocks (for the rare strips drawn directly) come from ``code_point_layout``.
    """
    if ids is None:
        ids = cache.lookup(words, rtl)
    totals = cache.total[ids]
    ends = totals.cumsum()
    bounds = [start, *(ends + start if start else ends).tolist()]  # word starts, then the end of the last
    out, drawn = _published_cut(bounds, max_length, max_seq_length)
    out.piece = Piece(start, ids[:drawn], (ends - totals)[:drawn], totals[:drawn], bounds, bounds[drawn])
    out.drawn_words = words[:drawn]
    out.rtl, out.start, out.pixels_per_patch, out.glyphs = rtl, start, pixels_per_patch, cache.glyphs
    out.full_word_patch_map, out.word_patch_map = word_patch_maps(
        words,
        bounds[:-1],
        bounds[-1],
        len(out.word_starts),
        out.end,
        out.truncated,
        max_length,
        rtl,
        legacy=True,
    )
    return out


def _published_cut(bounds: list[int], max_length: int, max_seq_length: int) -> tuple[CachedLayout, int]:
    """The published truncation from word bounds: the layout (metadata) and the number of words drawn.

    ``bounds``: the start patch of every word, then the patch after the last (non-decreasing). Quirk
    "conservative truncation" and quirk "skip at the last patch": see ``layout_words``.
    """
    kept, truncated = len(bounds) - 1, False
    if kept and bounds[-1] > max_length:
        i = min(bisect_right(bounds, max_length, 0, kept) - 1, kept - 2)
        kept, truncated = max(i, 1), True
        if i <= 0:
            logger.warning(
                "text longer than %d patches: truncation keeps only its first word (clipped if too long)",
                max_length,
            )
    out = CachedLayout(word_starts=bounds[:kept], truncated=truncated)
    out.end = bounds[kept] if kept else bounds[0]
    drawn = kept
    if kept > 1:  # the first non-final kept word ending at the last patch
        hit = bisect_left(bounds, max_seq_length - 1, 1, kept)
        if hit < kept and bounds[hit] == max_seq_length - 1:
            drawn, out.end = hit, max_seq_length - 1
    return out, drawn
