"""Placing words on the strip: patch offsets, word starts, word-level truncation, the published bookkeeping."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from pixel.render.strategies import Block
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
    # A first word whose first block alone does not fit is drawn cut at this patch (its EOS patch), never dropped.
    clip: int | None = None

    @property
    def placed(self) -> list[tuple[int, Block]]:
        """Every block to draw with its patch index, in drawing order."""
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
