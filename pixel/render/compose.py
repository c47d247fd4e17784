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
from typing import cast

import numpy as np

from pixel.render.layout import WordPlan
from pixel.render.pango import CAIRO_MAX_WIDTH, PangoBackend, new_canvas, surface_coverage, surface_to_array
from pixel.render.strategies import Block

_SCRATCH_MARGIN = 3  # patches of scratch canvas on each side of a block, to see how far its ink reaches


def max_strip_patches(pixels_per_patch: int) -> int:
    """The longest strip (``max_seq_length``): the widest cairo image, less the scratch margins on both sides
    that the tile cache draws a strip's chains of words with (2041 patches of 16 px)."""
    return CAIRO_MAX_WIDTH // pixels_per_patch - 2 * _SCRATCH_MARGIN


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
    backend: PangoBackend,
    placed: Sequence[tuple[int, Block]],
    width: int,
    pixels_per_patch: int,
    rgb: bool,
    clips: Sequence[int | None] | None = None,
) -> np.ndarray:
    """The reference path: every run laid out and drawn by Pango onto the full strip, as the published code does.

    ``clips`` (one per placed block): the x at which that block's ink is cut (None: the strip's end), for a word
    wider than the strip, which is cut at its EOS patch.
    """
    surface, context = new_canvas(width, pixels_per_patch, rgb)
    for k, (x0, block) in enumerate(placed):
        clip = None if clips is None else clips[k]
        if clip is not None:
            context.save()
            context.rectangle(0, 0, clip, pixels_per_patch)
            context.clip()
        xs, _ = run_offsets(backend, block)
        for run, x in zip(block.runs, xs, strict=True):
            backend.draw(context, run, x0 + x, pixels_per_patch)
        if clip is not None:
            context.restore()
    return surface_to_array(surface, rgb)


class TileCache:
    """Exact word -> patch-tile cache with bounded memory (emptied between strips once over its budget).

    A word is drawn once by cairo, alone, at a patch boundary of a scratch canvas; its patch tiles are stored
    contiguously. Assembling a strip gathers the tiles of its words. Where a word's ink reaches into the
    neighbouring word's patch (overhang), the chain of touching words is drawn by cairo on a small canvas and
    pasted over (also cached), because 8-bit OVER compositing in numpy would not be associative.
    """

    def __init__(self, backend: PangoBackend, pixels_per_patch: int, max_megabytes: float = 64.0) -> None:
        self.backend = backend
        self.P = pixels_per_patch
        self.max_tiles = max(1024, int(max_megabytes * 2**20) // (pixels_per_patch * pixels_per_patch))
        self.clear()

    def clear(self) -> None:
        self._tables: dict[tuple, dict[str, WordPlan]] = {}
        self._chains: dict[tuple, np.ndarray] = {}
        self._chain_tiles = 0
        self._tiles = np.zeros((self.P, min(4096, self.max_tiles), self.P), dtype=np.uint8)  # (P, tiles, P)
        self._used = 0

    def __len__(self) -> int:
        return sum(map(len, self._tables.values()))

    def begin(self) -> None:
        """Call before each strip: memory is bounded by emptying the cache between strips, never during one."""
        if self._used + self._chain_tiles > self.max_tiles:
            self.clear()

    def _store(self, tiles: np.ndarray) -> int:
        """Append ``tiles`` (P, k, P); the store is tile-major in axis 1 so a gather is already strip-shaped."""
        k = tiles.shape[1]
        if self._used + k > self._tiles.shape[1]:
            size = max(min(self.max_tiles, 2 * self._tiles.shape[1]), self._used + k)
            grown = np.zeros((self.P, size, self.P), np.uint8)
            grown[:, : self._used] = self._tiles[:, : self._used]
            self._tiles = grown
        base = self._used
        self._tiles[:, base : base + k] = tiles
        self._used += k
        return base

    def _draw_blocks(self, blocks: Sequence[tuple[int, Block]], num_patches: int) -> np.ndarray:
        """A8 coverage of blocks drawn in order at patch offsets, on a canvas with scratch margins on both sides."""
        P, m = self.P, _SCRATCH_MARGIN
        surface, context = new_canvas((num_patches + 2 * m) * P, P, rgb=False)
        for pos, block in blocks:
            xs, _ = run_offsets(self.backend, block)
            for run, x in zip(block.runs, xs, strict=True):
                self.backend.draw(context, run, (m + pos) * P + x, P)
        return surface_coverage(surface)

    def plans(
        self, words: Sequence[str], variant: tuple, make_blocks: Callable[[str], list[Block]]
    ) -> list[WordPlan]:
        """The measured and drawn words (cached per ``variant``, e.g. the RTL flag, then per word)."""
        table = self._tables.get(variant)
        if table is None:
            table = self._tables[variant] = {}
        get = table.get
        out = [get(w) for w in words]
        for i, found in enumerate(out):
            if found is None:
                found = table.get(words[i])
                if found is None:
                    found = table[words[i]] = self._make_plan(make_blocks(words[i]))
                out[i] = found
        return cast("list[WordPlan]", out)  # every None was filled above

    def _make_plan(self, blocks: list[Block]) -> WordPlan:
        P, m = self.P, _SCRATCH_MARGIN
        plan = WordPlan(blocks, [block_patches(self.backend, b, P) for b in blocks])
        plan.unknown = sum(self.backend.extent(run).unknown_glyphs for b in blocks for run in b.runs)
        if (plan.total + 2 * m) * P > CAIRO_MAX_WIDTH:  # longer than any strip: no scratch canvas that wide
            plan.direct = True
            return plan
        full = self._draw_blocks(plan.relative(), plan.total)
        inner = full[
            :, (m - 1) * P : (m + plan.total + 1) * P
        ]  # the word's patches plus one margin each side
        if plan.total == 0 or full.sum(dtype=np.int64) != inner.sum(dtype=np.int64):
            # Ink more than a patch beyond the word, or ink with zero advance: such strips are drawn directly.
            plan.direct = bool(full.any())
            return plan
        tiles = inner.reshape(P, plan.total + 2, P)  # (P, total + 2, P)
        plan.base = self._store(tiles[:, 1:-1])
        plan.left, plan.right = bool(tiles[:, 0].any()), bool(tiles[:, -1].any())
        return plan

    def assemble(self, words: Sequence[tuple[int, WordPlan, int]], num_patches: int) -> np.ndarray | None:
        """A8 coverage ``uint8 [P, num_patches * P]`` of laid-out words, or None if it cannot be exact."""
        P = self.P
        strip = np.zeros((P, num_patches + 2, P), dtype=np.uint8)  # (P, tiles incl. one margin per side, P)
        live, inked = [], False
        for word in words:
            plan = word[1]
            if plan.direct or word[2] != len(plan.blocks):
                return None  # rare: partly drawn words (truncation quirks) or uncacheable ink
            if plan.total:
                live.append(word)
                inked = inked or plan.left or plan.right
        if live:
            pos = np.array([w[0] for w in live])
            n = np.array([w[1].total for w in live])
            base = np.array([w[1].base for w in live])
            first = np.cumsum(n) - n
            step = np.arange(int(first[-1] + n[-1])) - np.repeat(first, n)
            dest = np.repeat(pos, n) + step + 1
            keep = dest <= num_patches
            strip[:, dest[keep]] = self._tiles[:, (np.repeat(base, n) + step)[keep]]
            if inked:
                self._paste_touching(strip, live, pos, n, num_patches)
        return strip.reshape(P, (num_patches + 2) * P)[:, P:-P]

    def _paste_touching(self, strip, live, pos: np.ndarray, n: np.ndarray, num_patches: int) -> None:
        """Find chains of words whose margin ink meets a neighbour and paste cairo's drawing of each chain."""
        left = np.array([w[1].left for w in live], dtype=np.int64)
        right = np.array([w[1].right for w in live], dtype=np.int64)
        touching = np.flatnonzero(
            (pos + n - 1 + right)[:-1] >= (pos - left)[1:]
        )  # word i's ink meets i + 1's
        for lo, hi in _runs(touching) if len(touching) else []:
            self._paste_chain(strip, live[lo : hi + 1], num_patches)

    def _paste_chain(
        self, strip: np.ndarray, chain: list[tuple[int, WordPlan, int]], num_patches: int
    ) -> None:
        """Overwrite the tiles of a chain of touching words with cairo's own drawing of that chain."""
        origin = chain[0][0]
        key = tuple((p - origin, tuple(plan.blocks)) for p, plan, _ in chain)
        end = chain[-1][0] + chain[-1][1].total  # first tile after the chain
        tiles = self._chains.get(key)
        if tiles is None:
            span, m = end - origin, _SCRATCH_MARGIN
            placed = [(p - origin + r, b) for p, plan, _ in chain for r, b in plan.relative()]
            inner = self._draw_blocks(placed, span)[:, (m - 1) * self.P : (m + span + 1) * self.P]
            tiles = self._chains[key] = inner.reshape(self.P, span + 2, self.P)
            self._chain_tiles += span + 2
        # Strip index = tile + 1; write from the first to the last tile the chain owns or inks.
        lo = origin + (0 if chain[0][1].left else 1)
        hi = min(end + (2 if chain[-1][1].right else 1), num_patches + 2)
        if lo < hi:
            strip[:, lo:hi] = tiles[:, lo - origin : hi - origin]


def _runs(indices: np.ndarray) -> list[tuple[int, int]]:
    """Touching pairs (i, i + 1) -> maximal chains of indices (first, last)."""
    runs, lo, prev = [], int(indices[0]), int(indices[0])
    for i in indices[1:].tolist():
        if i != prev + 1:
            runs.append((lo, prev + 1))
            lo = i
        prev = i
    runs.append((lo, prev + 1))
    return runs
