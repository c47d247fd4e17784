"""Placing words on the strip: patch offsets, word starts, word-level truncation, the published bookkeeping."""

from __future__ import annotations

import logging
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from pixel.render.glyph_cache import GlyphCache
from pixel.render.strategies import Block
from pixel.render.word_cache import Piece, WordCache
from pixel.render.word_map import word_patch_maps

logger = logging.getLogger(__name__)

GOOGLE_SEARCH_PREFIX = "http://www.google.com/search"


class WordPlan:
    """A measured word: its blocks and the patches each advances; the tile cache adds where its tiles are."""

    __slots__ = ("blocks", "patches", "total", "base", "left", "right", "direct", "unknown", "circles")

    def __init__(self, blocks: list[Block], patches: list[int]) -> None:
        self.blocks, self.patches, self.total = blocks, patches, sum(patches)
        self.base, self.left, self.right, self.direct, self.unknown = 0, False, False, False, 0
        self.circles: int | None = None  # dotted circles HarfBuzz inserts into its runs (once first drawn)

    def relative(self) -> list[tuple[int, Block]]:
        """(patch offset within the word, block) for every block."""
        out, pos = [], 0
        for block, n in zip(self.blocks, self.patches, strict=True):
            out.append((pos, block))
            pos += n
        return out


@dataclass
class SentenceLayout:
    """Words to draw (start patch, plan, number of its blocks drawn) and what the Encoding reports about them."""

    words: list[tuple[int, WordPlan, int]] = field(default_factory=list)
    word_starts: list[int] = field(default_factory=list)  # kept words only
    end: int = 0  # first patch after the last kept word
    truncated: bool = False
    word_patch_map: dict = field(default_factory=dict)  # the published map of the kept words
    full_word_patch_map: dict = field(default_factory=dict)  # ... and of every word as measured
    # Set by ``layout_cached_words`` instead of ``words``: the blocks to draw (patch index, block), computed on
    # demand for the rare strips that are drawn directly.
    blocks: Callable[[], list[tuple[int, Block]]] | None = None
    # Set by ``layout_cached_words``: the words to draw (``WordCache`` ids and where they go) and their text.
    piece: Piece | None = None
    drawn_words: list[str] = field(default_factory=list)
    # A first word whose first block alone does not fit is drawn cut at this patch (its EOS patch), never dropped.
    clip: int | None = None

    @property
    def placed(self) -> list[tuple[int, Block]]:
        """Every block to draw with its patch index, in drawing order."""
        if self.blocks is not None:
            return self.blocks()
        out = []
        for start, plan, count in self.words:
            pos = start
            for block, n in zip(plan.blocks[:count], plan.patches, strict=False):
                out.append((pos, block))
                pos += n
        return out


def google_quirk(words: list[str]) -> list[str]:
    """Quirk (published, a UD v2.10 edge case): a lone token starting with a Google search URL becomes the prefix."""
    if len(words) == 1 and words[0].startswith(GOOGLE_SEARCH_PREFIX):
        return [GOOGLE_SEARCH_PREFIX]
    return words


def layout_words(
    words: list[str],
    plans: list[WordPlan],
    start: int,
    max_length: int,
    legacy: bool,
    max_seq_length: int,
    rtl: bool = False,
) -> SentenceLayout:
    """Measure every word, truncate at word level, and return the words to draw.

    ``start``/``max_length`` are patch indices on the strip; ``plans`` are the measured words. With
    ``legacy`` (the published bigrams renderer):
    - Quirk "conservative truncation": when the text overflows, walk back from the second-to-last word (the last
      one is never considered) to the last word that starts within ``max_length`` and drop that word too; if even
      the first word does not fit it is kept and clipped.
    - Quirk "skip at the last patch": if a non-final kept word ends exactly at patch ``max_seq_length - 1``, the
      remaining kept words are not drawn although the metadata lists them.
    Otherwise the longest prefix of words that leaves room for the EOS patch is kept (a first word that does not
    fit is cut at block level; a first block that does not fit, e.g. a long word in ``words``, is drawn cut at
    the EOS patch, ``clip``).
    """
    last = len(words) - 1
    starts, offset = [], start
    for plan in plans:
        starts.append(offset)
        offset += plan.total
    kept, truncated, cut_first = len(words), False, False
    if legacy and words and offset > max_length:  # (no words: nothing to cut, as the cached path)
        i = last - 1
        while i >= 0 and starts[i] > max_length:
            i -= 1
        kept, truncated = max(i, 1), True
        if i <= 0:
            logger.warning(
                "text longer than %d patches: truncation keeps only its first word (clipped if too long)",
                max_length,
            )
    elif not legacy and words and offset >= max_length:
        kept, truncated = sum(1 for s, p in zip(starts, plans, strict=True) if s + p.total < max_length), True
        if kept == 0:
            kept, cut_first = 1, True
    out = SentenceLayout(word_starts=starts[:kept], truncated=truncated)
    out.end = starts[kept - 1] + plans[kept - 1].total if kept else start
    drawn_end = out.end
    for k in range(kept):
        count = len(plans[k].blocks)
        if cut_first:  # keep the blocks that leave room for the EOS patch
            count, pos = 0, starts[0]
            while count < len(plans[0].blocks) and pos + plans[0].patches[count] < max_length:
                pos += plans[0].patches[count]
                count += 1
            if count == 0 and plans[0].blocks:  # its first block is wider than the room: drawn cut at the EOS
                count, pos = 1, max(pos, max_length - 1)
                out.clip = pos
            out.end = pos
        out.words.append((starts[k], plans[k], count))
        if legacy and k < kept - 1 and starts[k] + plans[k].total == max_seq_length - 1:
            drawn_end = out.end = max_seq_length - 1
            break
    out.full_word_patch_map, out.word_patch_map = word_patch_maps(
        words, starts, offset, kept, drawn_end, truncated, max_length, rtl, legacy
    )
    return out


@dataclass(frozen=True, slots=True)
class CodePointLayout:
    """Words laid out side by side from pixel 0 as the published bigrams renderer places them (no truncation)."""

    chars: str  # the code points in drawing order (RTL: every word reversed)
    glyphs: np.ndarray  # int64 [n]: glyph id (``GlyphCache``) of every code point
    xs: np.ndarray  # int64 [n]: pixel x of every code point
    lengths: np.ndarray  # int64 [words]: code points per word
    totals: np.ndarray  # int64 [words]: patches every word advances
    first: np.ndarray  # int64 [blocks]: first code point of every block
    block_patch: np.ndarray  # int64 [blocks]: patch every block starts at
    word_first: np.ndarray  # int64 [words]: first code point of every word
    word_patch: np.ndarray  # int64 [words]: patch every word starts at


def code_point_layout(
    words: list[str], rtl: bool, pixels_per_patch: int, glyphs: GlyphCache
) -> CodePointLayout:
    """The blocks of ``code_point_bigrams``, vectorised over code points, words side by side from patch 0.

    A word's code points in pairs (RTL: the word reversed, the odd one first), each code point its own run placed
    at the sum of the widths before it in its block, each block advancing ``ceil(width / P)`` patches. Widths
    come from the per-code-point ``glyphs`` cache (code points not seen yet are drawn once, all together).
    """
    P = pixels_per_patch
    chars = "".join(w[::-1] for w in words) if rtl else "".join(words)
    ids = glyphs.lookup(np.frombuffer(chars.encode("utf-32-le", "surrogatepass"), np.uint32))
    width = glyphs.width[ids]
    lengths = np.fromiter(map(len, words), np.int64, len(words))
    word_first = lengths.cumsum() - lengths
    n_blocks = (lengths + 1) // 2
    block_end = n_blocks.cumsum()
    # First code point of every block: 2b into its word (RTL, reversed word: 0, then 2b - 1 for odd lengths).
    block_first = block_end - n_blocks
    b = np.arange(len(ids) and int(block_end[-1])) - block_first.repeat(n_blocks)
    first = word_first.repeat(n_blocks) + 2 * b
    if rtl:
        first -= (lengths % 2).repeat(n_blocks) * (b > 0)
    block_patches = -(-np.add.reduceat(width, first) // P) if len(first) else first
    patches_before = np.concatenate(([0], block_patches.cumsum()))  # empty words have no blocks
    word_patch = patches_before[block_first]
    totals = patches_before[block_end] - word_patch
    block_patch = patches_before[:-1]
    before = width.cumsum() - width  # x of every code point: its block's x + the widths before it there
    sizes = np.empty_like(first)  # code points per block
    sizes[:-1], sizes[-1:] = first[1:] - first[:-1], len(ids) - first[-1:]
    xs = before + (block_patch * P - before[first]).repeat(sizes)
    return CodePointLayout(chars, ids, xs, lengths, totals, first, block_patch, word_first, word_patch)


def layout_cached_words(
    words: list[str],
    rtl: bool,
    start: int,
    max_length: int,
    max_seq_length: int,
    pixels_per_patch: int,
    cache: WordCache,
    ids: np.ndarray | None = None,
) -> SentenceLayout:
    """``layout_words`` for the published bigrams (legacy quirks included), from the word cache.

    Each word's patches are looked up (words not seen yet are laid out by ``code_point_layout``, all at once),
    unless ``ids`` (``int64 [len(words)]``, from ``cache.lookup(words, rtl)``) is given.
    The result carries the words to draw (``piece``: ids and places, for ``WordCache.assemble``); its
    ``blocks`` (for the rare strips drawn directly) come from ``code_point_layout``.
    """
    if ids is None:
        ids = cache.lookup(words, rtl)
    totals = cache.total[ids]
    ends = totals.cumsum()
    bounds = [start, *(ends + start if start else ends).tolist()]  # word starts, then the end of the last
    out, drawn = _legacy_cut(bounds, max_length, max_seq_length)
    out.piece = Piece(start, ids[:drawn], (ends - totals)[:drawn], totals[:drawn], bounds, bounds[drawn])
    out.drawn_words = words[:drawn]
    out.blocks = partial(_code_point_blocks, out.drawn_words, rtl, start, pixels_per_patch, cache.glyphs)
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


def _legacy_cut(bounds: list[int], max_length: int, max_seq_length: int) -> tuple[SentenceLayout, int]:
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
    out = SentenceLayout(word_starts=bounds[:kept], truncated=truncated)
    out.end = bounds[kept] if kept else bounds[0]
    drawn = kept
    if kept > 1:  # the first non-final kept word ending at the last patch
        hit = bisect_left(bounds, max_seq_length - 1, 1, kept)
        if hit < kept and bounds[hit] == max_seq_length - 1:
            drawn, out.end = hit, max_seq_length - 1
    return out, drawn


def _code_point_blocks(
    words: list[str], rtl: bool, start: int, pixels_per_patch: int, glyphs: GlyphCache
) -> list[tuple[int, Block]]:
    """(patch index, block) of every block of ``words`` drawn from patch ``start`` on, in drawing order."""
    lay = code_point_layout(words, rtl, pixels_per_patch, glyphs)
    bounds = [*lay.first.tolist(), len(lay.chars)]
    patches = (start + lay.block_patch).tolist()
    return [(p, Block(tuple(lay.chars[a:b]))) for p, a, b in zip(patches, bounds, bounds[1:], strict=False)]
