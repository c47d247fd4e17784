"""Exact per-code-point glyph cache and vectorised compositing, for the published ``bigrams`` strategy.

``bigrams`` lays out every code point on its own and places it at an integer x (metric hinting makes widths
integral); its y depends only on that layout's height. cairo rounds glyph positions to whole pixels, so the
coverage one code point leaves on a blank canvas is the same wherever it is drawn: we draw each code point once
(the new code points of a strip side by side on one scratch canvas, each in a window of its own) and keep its
inked columns. A strip is then the in-order 8-bit OVER composite of these images at their x offsets,
which is exactly what cairo does when it draws the layouts one after the other onto the strip:

    d' = s + mul(d, 255 - s),  mul(a, b) = ((t >> 8) + t) >> 8,  t = a * b + 0x80     (A8 coverage)

Compositing is done per pixel column. Every (glyph, column) pair is an entry; columns that only one glyph inks
are a plain gather; columns inked by several glyphs are composited in drawing order, one vectorised pass per
depth (the k-th glyph of every such column in pass k; a lookup table of cairo's 8-bit OVER), so the result is
exact by construction. Glyphs whose ink reaches the edge of their scratch window, or that Pango draws as
missing-glyph boxes, are flagged: the caller then draws that strip directly with cairo.
"""

from __future__ import annotations

import numpy as np

from pixel.render.glyphs import inserted_dotted_circles, may_need_a_base
from pixel.render.pango import PangoBackend, new_canvas, surface_coverage

_CODE_POINTS = 0x110000


def _over_table() -> np.ndarray:
    """``uint8 [256, 256]``: cairo's 8-bit OVER of source coverage s onto destination coverage d, at [s, d]."""
    s, d = np.meshgrid(np.arange(256, dtype=np.uint32), np.arange(256, dtype=np.uint32), indexing="ij")
    t = d * (255 - s) + 0x80
    return (s + (((t >> 8) + t) >> 8)).astype(np.uint8)


OVER_TABLE = _over_table()


def _grown(array: np.ndarray, used: int, extra: int) -> np.ndarray:
    """``array`` with room for ``used + extra`` rows (at least doubled when it grows)."""
    if used + extra <= len(array):
        return array
    out = np.zeros((max(2 * len(array), used + extra), *array.shape[1:]), array.dtype)
    out[:used] = array[:used]
    return out


class GlyphCache:
    """Per code point: advance width, missing-glyph and dotted-circle counts, inked columns (stored column-major
    in an atlas)."""

    def __init__(self, backend: PangoBackend, pixels_per_patch: int, max_megabytes: float = 64.0) -> None:
        self.backend, self.P = backend, pixels_per_patch
        self.scratch_origin = 8 * pixels_per_patch  # x at which a glyph is drawn on its scratch canvas
        self.scratch_width = 24 * pixels_per_patch
        self.max_columns = max(4096, int(max_megabytes * 2**20) // pixels_per_patch)
        # A pixel column (P coverage bytes) is moved as one item; numpy copies 16-byte numbers fastest.
        self._column = (
            np.dtype(np.complex128) if pixels_per_patch == 16 else np.dtype((np.void, pixels_per_patch))
        )
        self.clear()

    def clear(self) -> None:
        self._index: np.ndarray | None = None  # code point -> glyph id (-1: not drawn yet), allocated lazily
        self._count = 0
        self._used = 0
        capacity = 256
        self.width = np.zeros(capacity, np.int64)
        self.unknown = np.zeros(capacity, np.int64)
        self.circles = np.zeros(
            capacity, np.int64
        )  # dotted circles HarfBuzz inserts into the code point alone
        self.direct = np.zeros(capacity, bool)
        self.ink_left = np.zeros(capacity, np.int64)  # first inked column relative to the glyph's x
        self.ink_columns = np.zeros(capacity, np.int64)
        self.atlas_start = np.zeros(capacity, np.int64)
        self.atlas = np.zeros((4096, self.P), np.uint8)  # (columns, P): one pixel column per row

    def __len__(self) -> int:
        return self._count

    def begin(self) -> None:
        """Call before each strip: memory is bounded by emptying the cache between strips, never during one."""
        if self._used > self.max_columns:
            self.clear()

    @property
    def over_budget(self) -> bool:
        return self._used > self.max_columns

    def lookup(self, code_points: np.ndarray) -> np.ndarray:
        """Glyph ids ``int64 [n]`` of ``code_points`` (``uint32 [n]``), drawing the code points not seen yet."""
        if self._index is None:
            self._index = np.full(_CODE_POINTS, -1, np.int32)
        ids = self._index[code_points]
        if len(ids) and ids.min() < 0:
            new = np.unique(code_points[ids < 0])
            batch = max(1, 32767 // self.scratch_width)  # code points per scratch canvas (cairo's widest)
            for lo in range(0, len(new), batch):
                self._add(new[lo : lo + batch])
            ids = self._index[code_points]
        return ids.astype(np.int64)

    def _add(self, code_points: np.ndarray) -> None:
        """Measure and draw code points, each alone as the published renderer lays it out, and store their ink.

        They share one scratch canvas: code point k is drawn at ``k * W + scratch_origin`` in a window of its own
        (W = ``scratch_width`` columns), exactly as on a canvas of its own. Ink that reaches the edge of its window
        may be cut off (or reach a neighbour's window, whose own edge is then inked too): such code points are
        flagged to be drawn directly, as are missing glyphs (Pango draws boxes with several operations).
        """
        P, W, k = self.P, self.scratch_width, len(code_points)
        chars = [chr(cp) for cp in code_points.tolist()]
        surface, context = new_canvas(k * W, P, rgb=False)
        extents, circles = [], []
        for i, char in enumerate(chars):
            extents.append(self.backend.draw(context, char, i * W + self.scratch_origin, P))
            # Counted on the layout just drawn (``Encoding.num_inserted_dotted_circles``).
            circles.append(inserted_dotted_circles(self.backend, char) if may_need_a_base(char) else 0)
        coverage = surface_coverage(surface)  # (P, k * W)
        inked = np.asarray(coverage.reshape(P, k, W).any(axis=0))  # (k, W): inked columns of each window
        lo = inked.argmax(axis=1)
        hi = W - inked[:, ::-1].argmax(axis=1)
        width = np.array([e.width for e in extents], np.int64)
        unknown = np.array([e.unknown_glyphs for e in extents], np.int64)
        direct = inked[:, 0] | inked[:, -1] | (unknown > 0)
        n = np.where(inked.any(axis=1) & ~direct, hi - lo, 0)
        gids = slice(self._count, self._count + k)
        for name in ("width", "unknown", "circles", "direct", "ink_left", "ink_columns", "atlas_start"):
            setattr(self, name, _grown(getattr(self, name), self._count, k))
        self.width[gids], self.unknown[gids], self.direct[gids] = width, unknown, direct
        self.circles[gids] = circles
        self.ink_left[gids] = np.where(n > 0, lo - self.scratch_origin, 0)
        self.ink_columns[gids] = n
        first = n.cumsum() - n
        self.atlas_start[gids] = self._used + first
        total = int(n.sum())
        self.atlas = _grown(self.atlas, self._used, total)
        # Every stored column of the canvas, column-major: window i, column lo_i + j -> canvas column i * W + lo_i + j.
        columns = np.arange(total) + (np.arange(k) * W + lo - first).repeat(n)
        self.atlas[self._used : self._used + total] = coverage[:, columns].T
        self._used += total
        assert self._index is not None  # allocated by ``lookup``, the only caller
        self._index[code_points] = np.arange(self._count, self._count + k, dtype=np.int32)
        self._count += k

    def compose(self, glyphs: np.ndarray, xs: np.ndarray, width: int) -> np.ndarray:
        """A8 coverage ``uint8 [width, P]`` (column-major) of ``glyphs`` drawn in order at pixel offsets ``xs``."""
        columns = np.zeros((width, self.P), np.uint8)
        dest, src = self.entries(glyphs, xs)
        if len(dest) and (dest.min() < 0 or dest.max() >= width):
            visible = (dest >= 0) & (dest < width)
            dest, src = dest[visible], src[visible]
        self.composite(columns, dest, src)
        return columns

    def compose_strips(
        self, glyphs: np.ndarray, xs: np.ndarray, strip: np.ndarray, count: int, width: int
    ) -> np.ndarray:
        """``count`` strips side by side, each as ``compose`` draws it: ``uint8 [count * width, P]``.

        Glyph ``i`` belongs to strip ``strip[i]`` and is drawn at ``xs[i]`` on the whole canvas (its strip's
        offset ``strip[i] * width`` included). Ink outside its own strip's columns is dropped, exactly as
        ``compose`` drops ink outside ``[0, width)``, so no strip's ink reaches a neighbour.
        """
        columns = np.zeros((count * width, self.P), np.uint8)
        dest, src = self.entries(glyphs, xs)
        lo = (strip * width).repeat(self.ink_columns[glyphs])
        visible = (dest >= lo) & (dest < lo + width)
        self.composite(columns, dest[visible], src[visible])
        return columns

    def entries(self, glyphs: np.ndarray, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(strip column, atlas column) of every inked column of ``glyphs`` drawn at ``xs``, in drawing order."""
        n = self.ink_columns[glyphs]
        first = n.cumsum() - n
        start = self.atlas_start[glyphs]
        total = int(first[-1] + n[-1]) if len(n) else 0
        src = np.arange(total) + (start - first).repeat(n)
        return src + (xs + self.ink_left[glyphs] - start).repeat(n), src

    def composite(self, columns: np.ndarray, dest: np.ndarray, src: np.ndarray) -> None:
        """8-bit OVER of atlas columns ``src`` onto blank ``columns[dest]`` (``uint8 [width, P]``), in order.

        ``dest`` must lie in ``[0, width)``; columns inked once are a copy, the others are composited in order.
        """
        if not len(dest):
            return
        inked = np.bincount(dest, minlength=len(columns))  # glyphs inking every column
        # Whole columns moved as single items (see ``_column``), not as rows of bytes. Columns inked more than
        # once get some one of their glyphs here and are rewritten below.
        atlas = self.atlas.view(self._column).reshape(-1)
        columns.view(self._column).reshape(-1)[dest] = atlas[src]
        depth = int(inked.max())
        if depth > 1:
            multi = inked[dest] > 1
            self._composite(columns, dest[multi], src[multi], depth)

    def _composite(self, columns: np.ndarray, dest: np.ndarray, src: np.ndarray, depth: int) -> None:
        """8-bit OVER of atlas columns ``src`` onto blank ``columns[dest]`` in the given order.

        Every column in ``dest`` is inked at least twice, at most ``depth`` times.
        """
        order = dest.argsort(kind="stable")  # grouped by column, drawing order kept inside a column
        dest, src = dest[order], src[order]
        if depth == 2:  # every column exactly twice: (bottom, top) pairs
            self._over(columns, dest[0::2], src[0::2], blank=True)
            self._over(columns, dest[1::2], src[1::2])
            return
        starts = np.concatenate(([True], dest[1:] != dest[:-1])).nonzero()[0]
        rank = np.arange(len(dest)) - starts.repeat(np.diff(np.append(starts, len(dest))))
        for k in range(depth):
            self._over(columns, dest[rank == k], src[rank == k], blank=k == 0)

    def _over(self, columns: np.ndarray, dest: np.ndarray, src: np.ndarray, blank: bool = False) -> None:
        """``columns[dest] = OVER(atlas[src], columns[dest])`` (distinct ``dest``), cairo's 8-bit arithmetic."""
        atlas = self.atlas.view(self._column).reshape(-1)
        out = columns.view(self._column).reshape(-1)
        if blank:
            out[dest] = atlas[src]
            return
        s = atlas[src].view(np.uint8).astype(np.intp)
        d = out[dest].view(np.uint8)
        out[dest] = OVER_TABLE.reshape(-1)[(s << 8) | d].view(self._column)
