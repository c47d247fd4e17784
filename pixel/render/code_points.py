"""The published ``bigrams`` placement, vectorised over code points: every code point its own run, two per block.

Shared by the word cache (measuring new words) and the ``bigrams`` engine (the blocks of the rare strips drawn
directly).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pixel.render.glyph_cache import GlyphCache


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
