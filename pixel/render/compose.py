"""Drawing placed blocks onto a strip: directly with cairo, or from an exact block -> patch-tile cache.

Exactness of the cache. Every block starts on a patch boundary and cairo rounds glyph positions to whole
pixels, so a block drawn alone onto a blank canvas gives the same coverage wherever it lands. Where no other ink
is present, cairo's 8-bit OVER onto blank coverage is the identity, so those patch tiles are simply gathered.
Glyph ink overhangs patch boundaries (up to a few pixels), and 8-bit OVER is not associative, so tiles that two
blocks ink are never composited in numpy: the chain of blocks involved is drawn by cairo on a small canvas (and
that drawing is cached). Ink that reaches more than one patch beyond its block, or ink in a block that advances
by zero patches, makes the caller draw the whole strip directly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from pixel.render.layout import WordPlan
from pixel.render.pango import PangoBackend, new_canvas, surface_coverage, surface_to_array
from pixel.render.strategies import Block

_SCRATCH_MARGIN = 3  # patches of scratch canvas on each side of a block, to see how far its ink reaches


def run_offsets(backend: PangoBackend, block: Block) -> tuple[list[int], int]:
    """x of each run relative to the block start, and the block width in pixels (before padding)."""
    if block.cell:
        return [i * block.cell for i in range(len(block.runs))], block.cell * len(block.runs)
    xs, x = [], 0
    for run in block.runs:
        xs.append(x)
        x += backend.extent(run).width
    return xs, x


def block_patches(backend: PangoBackend, block: Block, pixels_per_patch: int) -> int:
    """Patches a block advances: ``ceil((width + pad) / P)`` (the published 'unbounded' ceil-to-patch)."""
    return math.ceil((run_offsets(backend, block)[1] + block.pad) / pixels_per_patch)


def draw_direct(
    backend: PangoBackend, placed: Sequence[tuple[int, Block]], width: int, pixels_per_patch: int, rgb: bool
) -> np.ndarray:
    """The reference path: every run laid out and drawn by Pango onto the full strip, as the published code does."""
    surface, context = new_canvas(width, pixels_per_patch, rgb)
    for x0, block in placed:
        xs, _ = run_offsets(backend, block)
        for run, x in zip(block.runs, xs, strict=True):
            backend.draw(context, run, x0 + x, pixels_per_patch)
    return surface_to_array(surface, rgb)


class _Entry:
    """A cached block: ``n`` core tiles at ``base`` in the tile store; whether ink reaches the margin tiles."""

    __slots__ = ("base", "n", "left", "right", "direct", "unknown")

    def __init__(self, base: int, n: int, left: bool, right: bool, direct: bool, unknown: int) -> None:
        self.base, self.n, self.left, self.right = base, n, left, right
        self.direct, self.unknown = direct, unknown


class BlockCache:
    """Exact block -> patch-tile cache with bounded memory (emptied between strips once over its budget).

    Tiles that receive ink from a neighbouring block are not composited from cached tiles: the chain of blocks
    whose ink meets is drawn by cairo onto a small canvas, exactly as on the full strip (glyph positions are
    integers, so drawing is translation invariant), and that result is cached per chain.
    """

    def __init__(self, backend: PangoBackend, pixels_per_patch: int, max_megabytes: float = 64.0) -> None:
        self.backend = backend
        self.P = pixels_per_patch
        self.max_tiles = max(1024, int(max_megabytes * 2**20) // (pixels_per_patch * pixels_per_patch))
        self.clear()

    def clear(self) -> None:
        self._entries: dict[Block, _Entry] = {}
        self._plans: dict[tuple, WordPlan] = {}
        self._chains: dict[tuple, np.ndarray] = {}
        self._chain_tiles = 0
        self._tiles = np.zeros((min(4096, self.max_tiles), self.P, self.P), dtype=np.uint8)
        self._used = 0

    def __len__(self) -> int:
        return len(self._entries)

    def begin(self) -> None:
        """Call before each strip: memory is bounded by emptying the cache between strips, never during one."""
        if self._used + self._chain_tiles > self.max_tiles:
            self.clear()

    def entry(self, block: Block) -> _Entry:
        found = self._entries.get(block)
        if found is None:
            found = self._entries[block] = self._render(block)
        return found

    def _draw_blocks(self, blocks: Sequence[tuple[int, Block]], num_patches: int) -> np.ndarray:
        """A8 coverage of blocks drawn in order at patch offsets, on a canvas with scratch margins on both sides."""
        P, m = self.P, _SCRATCH_MARGIN
        surface, context = new_canvas((num_patches + 2 * m) * P, P, rgb=False)
        for pos, block in blocks:
            xs, _ = run_offsets(self.backend, block)
            for run, x in zip(block.runs, xs, strict=True):
                self.backend.draw(context, run, (m + pos) * P + x, P)
        return surface_coverage(surface)

    def _store(self, tiles: np.ndarray) -> int:
        if self._used + len(tiles) > len(self._tiles):
            size = max(min(self.max_tiles, 2 * len(self._tiles)), self._used + len(tiles))
            grown = np.zeros((size, self.P, self.P), np.uint8)
            grown[: self._used] = self._tiles[: self._used]
            self._tiles = grown
        base = self._used
        self._tiles[base : base + len(tiles)] = tiles
        self._used += len(tiles)
        return base

    def _render(self, block: Block) -> _Entry:
        P, m = self.P, _SCRATCH_MARGIN
        n = block_patches(self.backend, block, P)
        unknown = sum(self.backend.extent(run).unknown_glyphs for run in block.runs)
        full = self._draw_blocks([(0, block)], n)  # (P, (n + 2m) * P)
        inner = full[:, (m - 1) * P : (m + n + 1) * P]  # core plus one margin tile per side
        if n == 0 or full.sum(dtype=np.int64) != inner.sum(dtype=np.int64):
            # Ink more than a patch beyond the block, or ink with zero advance: drawn directly, never cached.
            return _Entry(0, n, False, False, direct=bool(full.any()), unknown=unknown)
        tiles = inner.reshape(P, n + 2, P).transpose(1, 0, 2)  # (n + 2, P, P)
        return _Entry(
            self._store(tiles[1:-1]), n, bool(tiles[0].any()), bool(tiles[-1].any()), False, unknown
        )

    def plan(self, key: tuple, make_blocks: Callable[[], list[Block]]) -> WordPlan:
        """The measured word for ``key``, with the tile arrays assembly gathers from (cached per word)."""
        found = self._plans.get(key)
        if found is None:
            blocks = make_blocks()
            entries = [self.entry(b) for b in blocks]
            found = self._plans[key] = WordPlan(blocks, [e.n for e in entries])
            found.tiles = _WordTiles(entries, found.patches, blocks)
        return found

    def count_unknown(self, words: Sequence[tuple[int, WordPlan, int]]) -> int:
        return sum(plan.tiles.unknown for _, plan, _ in words)

    def assemble(self, words: Sequence[tuple[int, WordPlan, int]], num_patches: int) -> np.ndarray | None:
        """A8 coverage ``uint8 [P, num_patches * P]`` of laid-out words, or None if it cannot be exact."""
        P = self.P
        strip = np.zeros((num_patches + 2, P, P), dtype=np.uint8)  # (tiles incl. one margin per side, P, P)
        parts = []
        for start, plan, count in words:
            t = plan.tiles
            if t.direct:
                return None
            k = len(t.rel) if count == len(plan.blocks) else int(np.searchsorted(t.index, count))
            if k:
                parts.append((start, t, k))
        if not parts:
            return strip[1:-1].transpose(1, 0, 2).reshape(P, num_patches * P)
        pos = np.concatenate([t.rel[:k] + start for start, t, k in parts])
        n = np.concatenate([t.n[:k] for _, t, k in parts])
        base = np.concatenate([t.base[:k] for _, t, k in parts])
        first = np.cumsum(n) - n
        step = np.arange(int(first[-1] + n[-1])) - np.repeat(first, n)
        dest = np.repeat(pos, n) + step + 1
        keep = dest <= num_patches
        strip[dest[keep]] = self._tiles[(np.repeat(base, n) + step)[keep]]
        if any(t.margin_ink for _, t, _ in parts):
            left = np.concatenate([t.left[:k] for _, t, k in parts])
            right = np.concatenate([t.right[:k] for _, t, k in parts])
            reach_right, reach_left = pos + n - 1 + right, pos - left
            touching = np.flatnonzero(reach_right[:-1] >= reach_left[1:])  # block i's ink meets block i + 1's
            if len(touching):
                blocks = [b for _, t, k in parts for b in t.blocks[:k]]
                for lo, hi in _runs(touching):
                    self._paste_chain(
                        strip,
                        [
                            (int(pos[i]), blocks[i], int(n[i]), bool(left[i]), bool(right[i]))
                            for i in range(lo, hi + 1)
                        ],
                        num_patches,
                    )
        return strip[1:-1].transpose(1, 0, 2).reshape(P, num_patches * P)

    def _paste_chain(
        self, strip: np.ndarray, chain: list[tuple[int, Block, int, bool, bool]], num_patches: int
    ) -> None:
        """Overwrite the tiles of a chain of touching blocks with cairo's own drawing of that chain."""
        origin = chain[0][0]
        key = tuple((p - origin, b) for p, b, _, _, _ in chain)
        tiles = self._chains.get(key)
        end = chain[-1][0] + chain[-1][2]  # first tile after the chain's last block
        if tiles is None:
            span, m = end - origin, _SCRATCH_MARGIN
            inner = self._draw_blocks(key, span)[:, (m - 1) * self.P : (m + span + 1) * self.P]
            tiles = self._chains[key] = inner.reshape(self.P, span + 2, self.P).transpose(1, 0, 2)
            self._chain_tiles += span + 2
        # Strip index = tile + 1; write from the first to the last tile the chain owns or inks.
        lo = origin + (0 if chain[0][3] else 1)
        hi = min(end + (2 if chain[-1][4] else 1), num_patches + 2)
        if lo < hi:
            strip[lo:hi] = tiles[lo - origin : hi - origin]


def _runs(indices: np.ndarray) -> list[tuple[int, int]]:
    """Touching pairs (i, i + 1) -> maximal chains of block indices (first, last)."""
    runs, lo, prev = [], int(indices[0]), int(indices[0])
    for i in indices[1:].tolist():
        if i != prev + 1:
            runs.append((lo, prev + 1))
            lo = i
        prev = i
    runs.append((lo, prev + 1))
    return runs


class _WordTiles:
    """Arrays over a word's blocks that advance (n > 0): patch offset in the word, tiles, margin ink."""

    __slots__ = ("rel", "n", "base", "left", "right", "index", "blocks", "direct", "margin_ink", "unknown")

    def __init__(self, entries: list[_Entry], patches: list[int], blocks: list[Block]) -> None:
        offsets = np.cumsum([0, *patches[:-1]]) if patches else np.zeros(0, np.int64)
        live = [i for i, e in enumerate(entries) if e.n]
        self.index = np.array(live, dtype=np.int64)
        self.rel = offsets[self.index].astype(np.int64) if live else np.zeros(0, np.int64)
        self.n = np.array([entries[i].n for i in live], dtype=np.int64)
        self.base = np.array([entries[i].base for i in live], dtype=np.int64)
        self.left = np.array([entries[i].left for i in live], dtype=np.int64)
        self.right = np.array([entries[i].right for i in live], dtype=np.int64)
        self.blocks = [blocks[i] for i in live]
        self.direct = any(e.direct for e in entries)
        self.margin_ink = bool(self.left.any() or self.right.any())
        self.unknown = sum(e.unknown for e in entries)
