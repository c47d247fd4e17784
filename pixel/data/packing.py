"""Pack cleaned lines into blocks of at most N patches, measured by the renderer itself (REFERENCE §3.2 step 3).

The published preprocessing estimated widths from a per-character table that was not released, so blocks could
overflow and be truncated silently at render time. Here every block is checked with the renderer that will draw
it: a block is kept only if it renders untruncated with its EOS patch inside ``max_patches``. Line costs are
summed as a fast proposal (exact for the bigrams strategy, where words start at fresh patches and spaces are
not drawn) and each block is verified once, so non-additive strategies (continuous) are exact too.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pixel.render import PangoCairoTextRenderer

__all__ = ["BlockPacker", "PackingStats", "renderer_measure"]

# text -> number of text patches (EOS excluded), or None when it does not fit at all.
Measure = Callable[[str], int | None]


def renderer_measure(renderer: PangoCairoTextRenderer, max_patches: int) -> Measure:
    """A ``Measure`` backed by a copy of ``renderer`` whose canvas is one patch wider than ``max_patches``.

    The extra patch matters: a text that fills the whole canvas gets its EOS clamped onto its last patch, which
    would under-count by one; on the wider canvas such a text reports ``max_patches`` text patches and is rejected.
    """
    measurer = copy.copy(renderer)
    measurer.max_seq_length = max_patches + 1
    measurer.rgb = False  # only the patch accounting is used

    def measure(text: str) -> int | None:
        encoding = measurer(text)
        return None if encoding.truncated else int(encoding.num_text_patches)

    return measure


@dataclass
class PackingStats:
    """Counts of what packing kept and dropped; characters are non-space characters, so
    ``chars_in == chars_out + chars_dropped`` always holds."""

    lines: int = 0
    blocks: int = 0
    chars_in: int = 0
    chars_out: int = 0
    lines_split: int = 0
    words_dropped: int = 0
    chars_dropped_long_words: int = 0
    blocks_dropped_short: int = 0
    chars_dropped_short_blocks: int = 0

    @property
    def chars_dropped(self) -> int:
        return self.chars_dropped_long_words + self.chars_dropped_short_blocks

    def summary(self) -> str:
        share = self.chars_dropped / max(self.chars_in, 1)
        return (
            f"{self.lines} lines -> {self.blocks} blocks; dropped {self.chars_dropped} of {self.chars_in} chars "
            f"({share:.3%}): {self.words_dropped} words longer than a block ({self.chars_dropped_long_words} chars), "
            f"{self.blocks_dropped_short} short blocks ({self.chars_dropped_short_blocks} chars); "
            f"{self.lines_split} lines split at word boundaries"
        )


@dataclass
class BlockPacker:
    """Greedy packer: lines are joined with a space until the next one would not fit.

    Attributes:
        measure: exact patch accounting, usually ``renderer_measure(renderer, max_patches)``.
        max_patches: text patches + EOS per block (511 for PIXEL-M4: 512 with CLS).
        min_patches: blocks with fewer text patches are dropped (published: 22).
        clean: applied to every line first (e.g. a ``TextCleaner``); empty results are skipped.
        across_documents: keep filling a block with the next document's lines (short sentences, e.g. SIB-200).
    """

    measure: Measure
    max_patches: int
    min_patches: int = 22
    clean: Callable[[str], str] | None = None
    across_documents: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.min_patches < self.max_patches:
            raise ValueError(
                f"need 1 <= min_patches < max_patches; got {self.min_patches}, {self.max_patches}"
            )
        self.stats = PackingStats()

    @property
    def budget(self) -> int:
        return self.max_patches - 1  # the EOS patch

    def pack(self, documents: Iterable[str]) -> Iterator[str]:
        """Blocks from documents (lines split on "\\n"), in order."""
        lines: list[str] = []
        cost = 0
        for document in documents:
            for raw in document.split("\n"):
                line = self.clean(raw) if self.clean else " ".join(raw.split())
                if not line:
                    continue
                self.stats.lines += 1
                self.stats.chars_in += _visible(line)
                for piece, piece_cost in self._fit(line):
                    if lines and cost + piece_cost > self.budget:
                        yield from self._emit(lines)
                        lines, cost = [], 0
                    lines.append(piece)
                    cost += piece_cost
            if not self.across_documents and lines:
                yield from self._emit(lines)
                lines, cost = [], 0
        if lines:
            yield from self._emit(lines)

    def _fit(self, line: str) -> Iterator[tuple[str, int]]:
        """``line`` with its cost if it fits a block; else word-level pieces that do (unfit words dropped)."""
        cost = self.measure(line)
        if cost is not None and cost <= self.budget:
            yield line, cost
            return
        self.stats.lines_split += 1
        words: list[str] = []
        total = 0
        for word in line.split(" "):
            for part, part_cost in self._word_parts(word):
                if words and total + part_cost > self.budget:
                    yield from self._verified(words)
                    words, total = [], 0
                words.append(part)
                total += part_cost
        if words:
            yield from self._verified(words)

    def _word_parts(self, word: str) -> Iterator[tuple[str, int]]:
        """``word`` if it fits a block, else chunks of an even number of code points that do (space-free scripts
        such as Chinese write whole sentences as one "word"; even cuts keep the bigrams as they were). A chunk of
        two code points that still does not fit is dropped and counted."""
        cost = self.measure(word)
        if cost is not None and cost <= self.budget:
            yield word, cost
            return
        start = 0
        while start < len(word):
            lo, hi, best = 1, (len(word) - start + 1) // 2, None  # chunk length in bigrams
            while lo <= hi:
                mid = (lo + hi) // 2
                mid_cost = self.measure(word[start : start + 2 * mid])
                if mid_cost is not None and mid_cost <= self.budget:
                    best, lo = (mid, mid_cost), mid + 1
                else:
                    hi = mid - 1
            if best is None:
                self.stats.words_dropped += 1
                self.stats.chars_dropped_long_words += _visible(word[start:])
                return
            yield word[start : start + 2 * best[0]], best[1]
            start += 2 * best[0]

    def _verified(self, parts: list[str]) -> Iterator[tuple[str, int]]:
        """Join ``parts`` into as few pieces as fit, checking each with the renderer (exact for any strategy)."""
        start = 0
        while start < len(parts):
            end = len(parts)
            while True:
                text = " ".join(parts[start:end])
                cost = self.measure(text)
                if cost is not None and cost <= self.budget:
                    yield text, cost
                    break
                if end - start == 1:
                    # A single part was measured as fitting on its own; disagreeing now would be a renderer bug.
                    raise RuntimeError(f"renderer accounting is not stable for {text[:80]!r}")
                end -= 1
            start = end

    def _emit(self, lines: list[str]) -> Iterator[str]:
        for block, cost in self._verified(lines):
            chars = _visible(block)
            if cost < self.min_patches:
                self.stats.blocks_dropped_short += 1
                self.stats.chars_dropped_short_blocks += chars
                continue
            self.stats.blocks += 1
            self.stats.chars_out += chars
            yield block


def _visible(text: str) -> int:
    """Characters other than spaces: joining and splitting at spaces keeps this count, so stats add up."""
    return len(text) - text.count(" ")
