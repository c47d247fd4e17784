"""Exact word -> patch-tile cache for the published ``bigrams`` strategy, built from the glyph cache.

A ``bigrams`` word starts on a patch boundary and its code points sit at integer x, so its pixels inside its own
patches are the same wherever it lands, unless another word's ink reaches in. A word is laid out once
(``code_point_layout``), its glyphs composited exactly by ``GlyphCache`` (8-bit OVER in drawing order) and its
own patches stored as tiles, already in the strip's memory layout (rows, then columns) and inverted (white
background). A strip is then one gather of the tiles of its words.

Tiles pay off only when text repeats. A word is therefore first only measured (patches advanced, glyphs and
their x); a strip holding a word met for the first time is composited from the glyphs of all its words in drawing
order (``GlyphCache.compose``, exact by the same argument), as new text always is. Once a strip holds only words
met before (text repeats), its words are tiled. Memory is charged for the tiles a measured word will have, so the
budget holds either way.

Ink outside a word's own patches (overhang: a glyph reaching left of the word or past its last patch, or a word
that advances by zero patches) is not rare: about one word per English strip, three per Hindi strip (a headline
one pixel past the patch, into the next word's headline). Each such pixel column is fixed in one of two exact
ways:
- inked by at most two words, the later one with a single glyph there (checked against a stored bound on the
  columns two of its glyphs share): the later word's image OVER the earlier word's image, one vectorised 8-bit
  OVER for all such columns (the earlier word's glyphs were drawn first, then that single glyph on top);
- otherwise (three words, or two glyphs of the later word): recomputed from the glyphs of every word whose ink
  reaches the column, in drawing order.
So the strip equals drawing every code point in order with cairo, by construction. Overhang nearly always lies
in a junction: two neighbouring words and the columns around their border that either inks past its patches,
within the pair's patches and inked by no third word. Those pixels depend on the two words alone, so a junction's
fixed columns are stored (by the pair of word ids) and copied when it is met again. The memory budget counts the
tiles (a word's edge columns and junctions are a small fraction of them) and the glyphs of every measured word;
glyph and word caches are emptied together between strips.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import NamedTuple

import numpy as np

from pixel.render.code_points import code_point_layout
from pixel.render.glyph_cache import OVER_TABLE, GlyphCache

_NO_LIMIT = 1 << 62
# Bits of ``WordCache.state``, one byte per word, so a strip checks all three with one gather.
_DIRECT, _UNTILED, _SPILLS = 1, 2, 4
# cairo's 8-bit OVER on gray (inverted coverage) pixels, flat: source s, destination d at [(s << 8) | d].
_GRAY_OVER = np.invert(OVER_TABLE[::-1, ::-1]).reshape(-1)


_FIELDS = (
    "total",
    "base",
    "ink_lo",
    "ink_hi",
    "unknown",
    "circles",
    "direct",
    "glyph_start",
    "glyph_count",
    "edge_start",
    "edge_left",
    "multi_lo",
    "multi_hi",
    "spills",
    "tiled",
    "state",
)


class Piece(NamedTuple):
    """Words drawn side by side from patch ``start`` on (a strip holds one piece, a pair two)."""

    start: int
    ids: np.ndarray  # int64 [n]: word ids
    first: np.ndarray  # int64 [n]: first patch of every word, relative to ``start``
    total: np.ndarray  # int64 [n]: patches every word advances
    starts: list[int]  # first patch of every word on the strip (at least n entries)
    end: int  # patch after the last word


def _grown(array: np.ndarray, used: int, extra: int, cap: int = _NO_LIMIT) -> np.ndarray:
    """``array`` with room for ``used + extra`` rows (doubled up to ``cap``; the budget is checked between strips)."""
    if used + extra <= len(array):
        return array
    out = np.zeros((max(min(2 * len(array), cap), used + extra), *array.shape[1:]), array.dtype)
    out[:used] = array[:used]
    return out


class WordCache:
    """Per (word, RTL flag): patches advanced, tiles, ink extent, missing glyphs, and its glyphs for overhang.

    A word is added in two steps. Measuring (when a strip first holds it) lays it out: patches advanced, glyph
    ids and x, missing glyphs. Its tiles, ink extent and overhang columns are built only when a strip made of words
    met before holds it (see ``assemble``): a stream of new text is composited from glyphs and never pays for tiles.
    """

    def __init__(self, glyphs: GlyphCache, max_megabytes: float = 64.0) -> None:
        self.glyphs, self.P = glyphs, glyphs.P
        self.max_tiles = max(1024, int(max_megabytes * 2**20) // (self.P * self.P))
        # A tile row (P bytes) is moved as one item; numpy copies 16-byte numbers fastest.
        self._row = np.dtype(np.complex128) if self.P == 16 else np.dtype((np.void, self.P))
        self.clear()

    def clear(self) -> None:
        self._tables: dict[bool, dict[str, int]] = {False: {}, True: {}}
        self._count = 0
        self._strip_first = 0  # first word measured during the current strip
        capacity = 1024
        self.total = np.zeros(capacity, np.int64)  # patches the word advances
        self.base = np.zeros(capacity, np.int64)  # its first tile in the store
        # Inked pixel columns [ink_lo, ink_hi), relative to its first pixel column.
        self.ink_lo = np.zeros(capacity, np.int64)
        self.ink_hi = np.zeros(capacity, np.int64)
        self.unknown = np.zeros(capacity, np.int64)
        self.circles = np.zeros(capacity, np.int64)  # dotted circles in its code points, each shaped alone
        self.direct = np.zeros(capacity, bool)
        self.glyph_start = np.zeros(capacity, np.int64)  # its glyphs in glyph_ids / glyph_x
        self.glyph_count = np.zeros(capacity, np.int64)
        # Ink outside its own patches, composited from its glyphs alone: columns [ink_lo, 0) then
        # [total * P, ink_hi), stored densely from edge_start (edge_left columns on the left).
        self.edge_start = np.zeros(capacity, np.int64)
        self.edge_left = np.zeros(capacity, np.int64)
        self.edges = np.zeros((1024, self.P), np.uint8)  # (column, row) gray, as the strip
        self._edges_used = 0
        # Columns [multi_lo, multi_hi) (relative to its start) hold every column two of its glyphs ink.
        self.multi_lo = np.zeros(capacity, np.int64)
        self.multi_hi = np.zeros(capacity, np.int64)
        self.spills = np.zeros(capacity, bool)  # ink outside its own patches
        self.tiled = np.zeros(capacity, bool)  # tiles and the facts above built (else only measured)
        self.state = np.zeros(capacity, np.uint8)  # _DIRECT | _UNTILED | _SPILLS: the three flags above
        self._facts: dict[int, tuple[int, ...]] = {}  # overhang facts of tiled words (``_word_facts``)
        # Gray columns ``uint8 [P, n]`` of every junction met (``_junctions``), by (word id, next word id).
        self._joins: dict[tuple[int, int], np.ndarray] = {}
        self._join_columns = 0
        self._white = np.full((self.P, 1), 255, np.uint8)
        self._steps = np.arange(0)  # 0, 1, 2, ... (tile offsets within a piece)
        self.glyph_ids = np.zeros(4096, np.int64)
        self.glyph_x = np.zeros(4096, np.int64)  # pixel x relative to the word start
        self._glyphs_used = 0
        self.tiles = np.zeros((1024, self.P, self.P), np.uint8)  # (tile, row, column), inverted coverage
        self._tiles_used = 0
        self._patches = 0  # patches of every measured word: the tiles it has or will have

    def __len__(self) -> int:
        return self._count

    @property
    def _charged(self) -> int:
        """Memory held, in tiles: every measured word is charged for the tiles it will have, plus its glyphs
        and the junction columns (with a tile's worth per junction for the dictionary)."""
        return (
            self._patches
            + self._glyphs_used * 16 // (self.P * self.P)
            + (self._join_columns + len(self._joins) * self.P) // self.P
        )

    @property
    def headroom(self) -> int:
        """Tiles that may still be charged before the budget is reached (negative when over it)."""
        return self.max_tiles - self._charged

    def begin(self) -> None:
        """Call before each strip; the word cache holds glyph ids, so both caches are emptied together."""
        if self._charged > self.max_tiles or self.glyphs.over_budget:
            self.glyphs.clear()
            self.clear()
        self._strip_first = self._count

    def lookup(self, words: list[str], rtl: bool) -> np.ndarray:
        """Word ids ``int64 [n]``, measuring the words not seen yet (all at once)."""
        table = self._tables[rtl]
        try:  # warm: every word known (one pass, no sentinel check)
            return np.fromiter(map(table.__getitem__, words), np.int64, len(words))
        except KeyError:
            pass
        self._measure(list(dict.fromkeys([word for word in words if word not in table])), rtl)
        return np.fromiter(map(table.__getitem__, words), np.int64, len(words))

    def _measure(self, words: list[str], rtl: bool) -> None:
        """Lay new words out (patches advanced, glyphs and their x, missing glyphs); tiles come later."""
        P, g, n_words = self.P, self.glyphs, len(words)
        lay = code_point_layout(words, rtl, P, g)  # words side by side from patch 0
        ids, lengths = lay.glyphs, lay.lengths
        first = self._count
        self._reserve(n_words, len(ids))
        rows = slice(first, first + n_words)
        self.total[rows] = lay.totals
        self._patches += int(lay.totals.sum())
        self.state[rows] = _UNTILED
        if g.direct[ids].any():  # rare (missing glyphs are direct too); new rows are 0 else
            owner = np.arange(n_words).repeat(lengths)
            self.unknown[rows] = np.bincount(owner, g.unknown[ids], n_words)
            self.direct[rows] = np.bincount(owner, g.direct[ids], n_words) > 0
            self.state[rows] |= self.direct[rows].astype(np.uint8)  # _DIRECT
        circles = g.circles[ids]
        if circles.any():  # only text with marks or syllable-shaped scripts
            self.circles[rows] = np.bincount(np.arange(n_words).repeat(lengths), circles, n_words)
        self.glyph_start[rows] = self._glyphs_used + lay.word_first
        self.glyph_count[rows] = lengths
        used = slice(self._glyphs_used, self._glyphs_used + len(ids))
        self.glyph_ids[used] = ids
        self.glyph_x[used] = lay.xs - (lay.word_patch * P).repeat(lengths)
        self._glyphs_used += len(ids)
        self._count += n_words
        self._tables[rtl].update(zip(words, range(first, first + n_words), strict=True))

    def tile(self, wids: np.ndarray | None = None) -> None:
        """Build tiles, ink extent and overhang facts of measured words ``wids`` (default: all), all at once."""
        P, g = self.P, self.glyphs
        todo = (
            (~self.tiled[: self._count]).nonzero()[0] if wids is None else np.unique(wids[~self.tiled[wids]])
        )
        if not len(todo):
            return
        total, lengths = self.total[todo], self.glyph_count[todo]
        n_words = len(todo)
        first = lengths.cumsum() - lengths
        index = np.arange(int(lengths.sum())) + (self.glyph_start[todo] - first).repeat(lengths)
        ids = self.glyph_ids[index]
        starts = np.concatenate(([0], total.cumsum()))  # patches, words side by side
        xs = self.glyph_x[index] + (starts[:-1] * P).repeat(lengths)
        owner = np.arange(n_words).repeat(lengths)  # word of every glyph
        n = g.ink_columns[ids]
        lo = xs + g.ink_left[ids]
        ink_lo, ink_hi = np.full(n_words, _NO_LIMIT), np.full(n_words, -_NO_LIMIT)
        np.minimum.at(ink_lo, owner[n > 0], lo[n > 0])
        np.maximum.at(ink_hi, owner[n > 0], (lo + n)[n > 0])
        empty = ink_lo >= ink_hi
        ink_lo[empty], ink_hi[empty] = starts[:-1][empty] * P, starts[:-1][empty] * P
        # Each word's own patches, composited from its glyphs only.
        dest, src = g.entries(ids, xs)
        mine = owner.repeat(n)
        inside = (dest >= starts[:-1][mine] * P) & (dest < starts[1:][mine] * P)
        coverage = np.zeros((int(starts[-1]) * P, P), np.uint8)  # (columns, rows)
        g.composite(coverage, dest[inside], src[inside])
        # Its ink outside them (overhang), composited from its glyphs only, densely per word.
        left, right = starts[:-1] * P, starts[1:] * P
        edge_left = np.maximum(left - ink_lo, 0)
        edge_count = edge_left + np.maximum(ink_hi - right, 0)
        edge_first = edge_count.cumsum() - edge_count
        d, w = dest[~inside], mine[~inside]
        at = edge_first[w] + np.where(d < left[w], d - left[w] + edge_left[w], d - right[w] + edge_left[w])
        edges = np.zeros((int(edge_count.sum()), P), np.uint8)
        g.composite(edges, at, src[~inside])
        # Where two of its own glyphs may ink one column: a glyph starting left of the ink reach of the glyphs
        # before it in its word (a bound; per-word offsets keep the running maximum inside each word).
        inked = (n > 0).nonzero()[0]
        shift = owner[inked] * (1 << 40)
        reach = np.maximum.accumulate(lo[inked] + n[inked] + shift)
        late = ((lo[inked][1:] + shift[1:] < reach[:-1]) & (shift[1:] == shift[:-1])).nonzero()[0] + 1
        multi_lo, multi_hi = np.full(n_words, _NO_LIMIT), np.full(n_words, -_NO_LIMIT)
        word, glyph = owner[inked[late]], inked[late]
        np.minimum.at(multi_lo, word, lo[glyph] - left[word])
        np.maximum.at(
            multi_hi, word, np.minimum(reach[late - 1] - shift[late], lo[glyph] + n[glyph]) - left[word]
        )
        self.tiles = _grown(self.tiles, self._tiles_used, int(starts[-1]), self.max_tiles)
        self.edges = _grown(self.edges, self._edges_used, len(edges))
        self.base[todo] = self._tiles_used + starts[:-1]
        self.ink_lo[todo], self.ink_hi[todo] = ink_lo - left, ink_hi - left
        tiles = self.tiles[self._tiles_used : self._tiles_used + int(starts[-1])]
        tiles[:] = coverage.reshape(-1, P, P).transpose(0, 2, 1)  # (tile, row, column)
        np.invert(tiles, out=tiles)
        self.edge_start[todo], self.edge_left[todo] = self._edges_used + edge_first, edge_left
        self.edges[self._edges_used : self._edges_used + len(edges)] = np.invert(edges)
        self._edges_used += len(edges)
        self.multi_lo[todo], self.multi_hi[todo] = multi_lo, multi_hi
        self.spills[todo] = edge_count > 0
        self._tiles_used += int(starts[-1])
        self.tiled[todo] = True
        self.state[todo] = (self.state[todo] & _DIRECT) | np.where(edge_count > 0, _SPILLS, 0).astype(
            np.uint8
        )

    def _reserve(self, words: int, glyphs: int) -> None:
        """Room for more words and glyphs; rows past the used ones are always zero (arrays only grow or reset)."""
        if self._count + words > len(self.total):
            for name in _FIELDS:
                setattr(self, name, _grown(getattr(self, name), self._count, words))
        self.glyph_ids = _grown(self.glyph_ids, self._glyphs_used, glyphs)
        self.glyph_x = _grown(self.glyph_x, self._glyphs_used, glyphs)

    def assemble(self, pieces: list[Piece], num_patches: int) -> np.ndarray | None:
        """Gray pixels ``uint8 [P, num_patches * P]`` of the pieces' words (``Piece``), drawn in order.

        None if a word must be drawn by cairo.
        """
        P = self.P
        wids = pieces[0].ids if len(pieces) == 1 else np.concatenate([piece.ids for piece in pieces])
        state = self.state[wids]
        flags = int(np.bitwise_or.reduce(state))
        if flags & _DIRECT:
            return None
        if flags & _UNTILED:  # some word is measured only
            untiled = wids[(state & _UNTILED) > 0]
            if untiled.max() >= self._strip_first:
                return self._from_glyphs(pieces, num_patches)  # new text: drawn from glyphs
            self.tile(untiled)  # only words met before: text repeats, so they are tiled now
            state = self.state[wids]
            flags = int(np.bitwise_or.reduce(state))
        strip = np.empty((P, num_patches, P), np.uint8)  # (row, patch, column)
        rows = strip.view(self._row).reshape(P, num_patches)
        store = self.tiles.view(self._row).reshape(len(self.tiles), P)  # (tile, row)
        if len(self._steps) < num_patches:
            self._steps = np.arange(num_patches)
        done = 0  # patches written (tiles or white)
        for piece in pieces:
            count = min(piece.end, num_patches) - piece.start
            if count <= 0:
                continue
            strip[:, done : piece.start] = 255  # white before the piece
            src = (self.base[piece.ids] - piece.first).repeat(piece.total)[:count]
            src += self._steps[:count]
            rows[:, piece.start : piece.start + count] = np.take(store, src, axis=0).T
            done = piece.start + count
        strip[:, done:] = 255
        flat = strip.reshape(P, num_patches * P)
        if flags & _SPILLS:  # some word inks outside its own patches: the columns concerned are fixed exactly
            out = state.nonzero()[0]  # (every word is tiled and none direct: state is 0 or _SPILLS)
            starts = (
                pieces[0].starts
                if len(pieces) == 1
                else [s for piece in pieces for s in piece.starts[: len(piece.ids)]]
            )
            joins = self._junctions(wids[out].tolist(), out.tolist(), wids, starts, flat.shape[1])
            if joins is not None and all(key in self._joins for key, _, _ in joins):
                for key, a, b in joins:  # met before: the exact columns, stored
                    flat[:, a:b] = self._joins[key]
                return flat
            L = [s * P for s in starts[: len(wids)]]
            if not self._overhang_pairs(flat, wids, L, out.tolist()):
                left = np.array(L, np.int64)
                total = self.total[wids]
                right, lo, hi = left + total * P, left + self.ink_lo[wids], left + self.ink_hi[wids]
                self._overhang(flat, wids, left, right, lo, hi)
            for key, a, b in joins or ():
                if key not in self._joins:
                    self._joins[key] = flat[:, a:b].copy()
                    self._join_columns += b - a
        return flat

    def _from_glyphs(self, pieces: list[Piece], num_patches: int) -> np.ndarray:
        """``assemble`` composited from the glyphs of every word in drawing order (no tiles needed)."""
        P = self.P
        if len(pieces) == 1:
            wids, left = pieces[0].ids, (pieces[0].first + pieces[0].start) * P
        else:
            wids = np.concatenate([piece.ids for piece in pieces])
            left = np.concatenate([piece.first + piece.start for piece in pieces]) * P
        count = self.glyph_count[wids]
        first = count.cumsum() - count
        index = np.arange(int(first[-1] + count[-1])) + (self.glyph_start[wids] - first).repeat(count)
        xs = self.glyph_x[index] + left.repeat(count)
        columns = self.glyphs.compose(self.glyph_ids[index], xs, num_patches * P)  # (width, P) coverage
        np.invert(columns, out=columns)
        return np.ascontiguousarray(columns.T)  # (P, width) gray, C order as the tile path returns

    def new_in_strip(self, wids: np.ndarray) -> bool:
        """Whether ``assemble`` composites these words from glyphs: none drawn directly, some measured during
        the current strip (or batch) and not tiled."""
        state = self.state[wids]
        if not len(wids) or int(np.bitwise_or.reduce(state)) & _DIRECT:
            return False
        untiled = wids[(state & _UNTILED) > 0]
        return bool(len(untiled)) and int(untiled.max()) >= self._strip_first

    def from_glyphs_many(self, pieces: list[Piece], num_patches: int) -> np.ndarray:
        """``_from_glyphs`` of many strips (one piece each) in one composite: gray ``uint8 [n, P, num_patches * P]``.

        The strips lie side by side on one canvas; each keeps only its own ink (see ``GlyphCache.compose_strips``).
        """
        P, width, n = self.P, num_patches * self.P, len(pieces)
        wids = np.concatenate([piece.ids for piece in pieces])
        per_strip = np.fromiter((len(piece.ids) for piece in pieces), np.int64, n)
        strip = np.arange(n).repeat(per_strip)  # strip of every word
        left = np.concatenate([piece.first + piece.start for piece in pieces]) * P + strip * width
        count = self.glyph_count[wids]
        first = count.cumsum() - count
        total = int(first[-1] + count[-1]) if len(count) else 0
        index = np.arange(total) + (self.glyph_start[wids] - first).repeat(count)
        xs = self.glyph_x[index] + left.repeat(count)
        columns = self.glyphs.compose_strips(self.glyph_ids[index], xs, strip.repeat(count), n, width)
        np.invert(columns, out=columns)
        return np.ascontiguousarray(columns.reshape(n, width, P).transpose(0, 2, 1))  # (n, P, width) gray

    def _word_facts(self, wid: int) -> tuple[int, ...]:
        """A tiled word's (width, ink_lo, ink_hi, its edge column at x = 0, multi_lo, multi_hi) as Python ints."""
        facts = self._facts.get(wid)
        if facts is None:
            facts = self._facts[wid] = (
                int(self.total[wid]) * self.P,
                int(self.ink_lo[wid]),
                int(self.ink_hi[wid]),
                int(self.edge_start[wid] + self.edge_left[wid]),
                int(self.multi_lo[wid]),
                int(self.multi_hi[wid]),
            )
        return facts

    def _junctions(
        self, out_ids: list[int], out: list[int], wids: np.ndarray, starts: list[int], width: int
    ) -> list | None:
        """The junctions holding all overhang: ((word id, next word id), first column, end column) each.

        A junction is two neighbouring words on the strip and the columns around their border that either inks
        outside its own patches (the earlier one right of its patches, the later one left of its own), within
        the two words' patches and inked by no third word. Its pixels then depend on the two words alone, so
        once fixed exactly (``_overhang_pairs``/``_overhang``) they are stored and reused (``_joins``). None if
        some overhang is not in such a junction. ``out``: the indices (``out_ids``: the ids) of the words inking
        outside their patches, ``starts``: every word's first patch.
        """
        P, n, facts = self.P, len(wids), self._word_facts
        ink = {}  # word index -> absolute (left, right, ink_lo, ink_hi)
        for i, wid in zip(out, out_ids, strict=True):
            span, lo, hi = facts(wid)[:3]
            x = starts[i] * P
            ink[i] = (x, x + span, x + lo, x + hi)
        joins = []
        for i, (x, R, LO, HI) in ink.items():
            for a in (i - 1,) * (LO < x) + (i,) * (HI > R):  # the pairs (a, a + 1) it inks across
                if a < 0 or a + 1 >= n:
                    return None
                fa, fb = ink.get(a), ink.get(a + 1)
                if fa is None:  # ink within its own patches
                    xa = starts[a] * P
                    fa = (xa, xa + facts(int(wids[a]))[0], xa, xa)
                if fb is None:
                    xb = starts[a + 1] * P
                    fb = (xb, xb + facts(int(wids[a + 1]))[0], xb, xb)
                border = fa[1]
                first, end = min(border, fb[2]), max(border, fa[3])
                if fb[0] != border or first < fa[0] or end > fb[1] or end > width:
                    return None  # not neighbours in one piece, or ink past the pair's patches or the strip
                for k, f in ink.items():
                    if f[2] < end and f[3] > first and k != a and k != a + 1:
                        return None  # a third word inks the junction
                joins.append(((int(wids[a]), int(wids[a + 1])), first, end))
        return joins

    def _overhang_pairs(self, strip: np.ndarray, wids: np.ndarray, L: list[int], out: list[int]) -> bool:
        """Overhang where each column is inked by at most two words, the later with one glyph there.

        ``L``: every word's first pixel column; ``out``: the (indices of the) words inking outside their
        patches. The column is then the later word's image OVER the earlier word's image (each word alone, from
        its tile or its edge columns): cairo drew the earlier word's glyphs, then the later word's single glyph
        on top. Returns False (nothing written) when some column needs the general path. A handful of columns
        per strip: plain Python on ints, then one vectorised OVER.
        """
        width = strip.shape[1]
        facts = {}  # word index -> (L, R, LO, HI, edge column at x = 0, multi_lo, multi_hi), absolute x
        inked: set[int] = set()
        for i in out:
            span, lo, hi, edge, multi_lo, multi_hi = self._word_facts(int(wids[i]))
            x = L[i]
            R, LO, HI = x + span, x + lo, x + hi
            facts[i] = (x, R, LO, HI, edge, multi_lo, multi_hi)
            inked.update(range(max(LO, 0), min(x, HI, width)), range(max(R, LO, 0), min(HI, width)))
        if not inked:
            return True
        columns = sorted(inked)
        n = len(columns)
        spilled = list(facts.items())  # drawing order (``out`` is sorted)
        edge_rows, under, over = [], [], []  # stack rows: n strip columns, the edge rows, one blank row
        for k, c in enumerate(columns):
            owner = bisect_right(L, c) - 1  # the word whose patches hold column c, if any
            inkers = {i: f for i, f in spilled if f[2] <= c < f[3]}
            if owner >= 0 and owner not in inkers:
                f = facts.get(owner)
                if f is None:
                    span, lo, hi, edge, multi_lo, multi_hi = self._word_facts(int(wids[owner]))
                    x = L[owner]
                    f = facts[owner] = (x, x + span, x + lo, x + hi, edge, multi_lo, multi_hi)
                if f[1] > c and f[2] <= c < f[3]:
                    inkers[owner] = f
            if len(inkers) > 2:
                return False
            refs = []
            for i in sorted(inkers):  # drawing order
                x, R, _, _, edge, _, _ = inkers[i]
                if i == owner and R > c:
                    refs.append(k)  # its tile, already in the strip
                    continue
                edge_rows.append(edge + (c - x if c < x else c - R))
                refs.append(n + len(edge_rows) - 1)
            if len(refs) == 2:
                x, _, _, _, _, multi_lo, multi_hi = inkers[max(inkers)]
                if multi_lo <= c - x < multi_hi:
                    return False  # two glyphs of the later word ink it: the general path
                under.append(refs[0])
            else:
                under.append(-1)
            over.append(refs[-1])
        # (P, n + len(edge_rows) + 1) gray: the strip columns, the edge columns, white (-1: OVER white is a copy)
        stack = np.concatenate((strip[:, columns], self.edges[edge_rows].T, self._white), axis=1)
        strip[:, columns] = _GRAY_OVER[(stack[:, over].astype(np.intp) << 8) | stack[:, under]]
        return True

    def _overhang(self, strip, wids, left, right, lo, hi) -> None:
        """Recompute, from glyphs in drawing order, every column inked outside its word's own patches."""
        P, width = self.P, strip.shape[1]
        out = ((lo < left) | (hi > right)).nonzero()[0]
        a = np.clip(np.concatenate([lo[out], right[out]]), 0, width)  # spans [lo, left) and [right, hi)
        b = np.clip(np.concatenate([left[out], hi[out]]), 0, width)
        n = np.maximum(b - a, 0)
        first = n.cumsum() - n
        fix = np.unique(np.arange(int(first[-1] + n[-1])) + (a - first).repeat(n))  # sorted columns
        if not len(fix):
            return
        involved = np.searchsorted(fix, lo) < np.searchsorted(fix, hi)  # words inking a fixed column
        wids, left = wids[involved], left[involved]
        count = self.glyph_count[wids]
        first = count.cumsum() - count
        index = np.arange(int(first[-1] + count[-1])) + (self.glyph_start[wids] - first).repeat(count)
        dest, src = self.glyphs.entries(self.glyph_ids[index], self.glyph_x[index] + left.repeat(count))
        at = np.minimum(np.searchsorted(fix, dest), len(fix) - 1)
        keep = fix[at] == dest
        columns = np.zeros((len(fix), P), np.uint8)
        self.glyphs.composite(columns, at[keep], src[keep])
        strip[:, fix] = np.invert(columns.T)
