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
from collections.abc import Sequence

import numpy as np

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

    def assemble(self, placed: Sequence[tuple[int, Block, _Entry]], num_patches: int) -> np.ndarray | None:
        """A8 coverage ``uint8 [P, num_patches * P]`` of blocks at patch indices, or None if it cannot be exact."""
        P = self.P
        strip = np.zeros((num_patches + 2, P, P), dtype=np.uint8)  # (tiles incl. one margin per side, P, P)
        live = [item for item in placed if item[2].n]
        if any(e.direct for _, _, e in placed):
            return None
        if live:
            pos = np.fromiter((p for p, _, _ in live), dtype=np.int64, count=len(live))
            n = np.fromiter((e.n for _, _, e in live), dtype=np.int64, count=len(live))
            base = np.fromiter((e.base for _, _, e in live), dtype=np.int64, count=len(live))
            first = np.cumsum(n) - n
            step = np.arange(int(n.sum())) - np.repeat(first, n)
            dest = np.repeat(pos, n) + step + 1
            keep = dest <= num_patches
            strip[dest[keep]] = self._tiles[(np.repeat(base, n) + step)[keep]]
            for chain in _ink_chains(live):
                self._paste_chain(strip, chain, num_patches)
        return strip[1:-1].transpose(1, 0, 2).reshape(P, num_patches * P)

    def _paste_chain(
        self, strip: np.ndarray, chain: list[tuple[int, Block, _Entry]], num_patches: int
    ) -> None:
        """Overwrite the tiles of a chain of interacting blocks with cairo's own drawing of that chain."""
        origin = chain[0][0]
        key = tuple((p - origin, b) for p, b, _ in chain)
        tiles = self._chains.get(key)
        if tiles is None:
            span = chain[-1][0] + chain[-1][2].n - origin
            full = self._draw_blocks(key, span)
            m = _SCRATCH_MARGIN
            inner = full[:, (m - 1) * self.P : (m + span + 1) * self.P]
            tiles = self._chains[key] = inner.reshape(self.P, span + 2, self.P).transpose(1, 0, 2)
            self._chain_tiles += span + 2
        # Strip index = tile + 1; write from the first to the last tile the chain owns or inks.
        lo = origin + (0 if chain[0][2].left else 1)
        hi = min(chain[-1][0] + chain[-1][2].n + (2 if chain[-1][2].right else 1), num_patches + 2)
        if lo < hi:
            strip[lo:hi] = tiles[lo - origin : hi - origin]


def _ink_chains(live: Sequence[tuple[int, Block, _Entry]]) -> list[list[tuple[int, Block, _Entry]]]:
    """Maximal runs of consecutive blocks where one block's margin ink reaches a tile of the next."""
    chains, current, reach = [], [], -1  # reach: last tile the previous block's ink reaches
    for item in live:
        pos, _, e = item
        if current and reach >= (pos - 1 if e.left else pos):
            current.append(item)
        else:
            if len(current) > 1:
                chains.append(current)
            current = [item]
        reach = pos + e.n if e.right else pos + e.n - 1
    if len(current) > 1:
        chains.append(current)
    return chains
