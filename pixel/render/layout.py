"""Placing words on the strip: patch offsets, word starts, word-level truncation, the published bookkeeping."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from pixel.render.strategies import Block

logger = logging.getLogger(__name__)

GOOGLE_SEARCH_PREFIX = "http://www.google.com/search"


@dataclass
class SentenceLayout:
    """Blocks to draw (patch index, block) and what the Encoding reports about them."""

    placed: list[tuple[int, Block]] = field(default_factory=list)
    word_starts: list[int] = field(default_factory=list)  # kept words only
    end: int = 0  # first patch after the last kept word
    truncated: bool = False
    word_patch_map: dict = field(default_factory=dict)


def google_quirk(words: list[str]) -> list[str]:
    """Quirk (published, a UD v2.10 edge case): a lone token starting with a Google search URL becomes the prefix."""
    if len(words) == 1 and words[0].startswith(GOOGLE_SEARCH_PREFIX):
        return [GOOGLE_SEARCH_PREFIX]
    return words


def layout_words(
    words: list[str],
    blocks_of: Callable[[str], list[Block]],
    patches_of: Callable[[Block], int],
    start: int,
    max_length: int,
    legacy: bool,
    max_seq_length: int,
    rtl: bool = False,
) -> SentenceLayout:
    """Measure every word, truncate at word level, and return the blocks to draw.

    ``start``/``max_length`` are patch indices on the strip. With ``legacy`` (the published bigrams renderer):
    - Quirk "conservative truncation": when the text overflows, walk back to the last word that starts within
      ``max_length`` and drop that word too; if even the first word does not fit it is kept and clipped.
    - Quirk "skip at the last patch": if a non-final kept word ends exactly at patch ``max_seq_length - 1``, the
      remaining kept words are not drawn although the metadata lists them.
    Otherwise the longest prefix of words that leaves room for the EOS patch is kept (a first word that does not
    fit is cut at block level).
    """
    word_blocks = [blocks_of(w) for w in words]
    starts, ends, offset = [], [], start
    for blocks in word_blocks:
        starts.append(offset)
        offset += sum(patches_of(b) for b in blocks)
        ends.append(offset)
    kept, truncated, cut_first = len(words), False, None
    if legacy and offset > max_length:
        i = len(words) - 1
        while i >= 0 and starts[i] > max_length:
            i -= 1
        kept, truncated = max(i, 1), True
        if i <= 0:
            logger.warning(
                "the first word alone is longer than %d patches; it is kept and clipped", max_length
            )
    elif not legacy and words and offset >= max_length:
        kept, truncated = sum(1 for e in ends if e < max_length), True
        if kept == 0:
            kept, cut_first = 1, max_length - 1 - start
    out = SentenceLayout(word_starts=starts[:kept], truncated=truncated)
    out.end = ends[kept - 1] if kept else start
    for k in range(kept):
        pos = starts[k]
        for block in word_blocks[k]:
            n = patches_of(block)
            if cut_first is not None and pos + n > start + cut_first:
                break
            out.placed.append((pos, block))
            pos += n
        if cut_first is not None:
            out.end = pos
        if legacy and k < kept - 1 and ends[k] == max_seq_length - 1:
            break
    out.word_patch_map = _word_patch_map(words, starts, kept, truncated, rtl)
    return out


def _word_patch_map(words: list[str], starts: list[int], kept: int, truncated: bool, rtl: bool) -> dict:
    """The published ``word_patch_map``; character lengths count one trailing space per word (QA alignment)."""
    total = sum(len(w) + 1 for w in words)
    order, before = {}, 0
    for i, (word, start) in enumerate(zip(words, starts, strict=True)):
        order[i] = {
            "start_patch_index": start,
            "word": word,
            "word_len": len(word),
            "sentence_len_ltr": before,
            "sentence_len_rtl": total - before - len(word) - 1,
        }
        before += len(word) + 1
    return {
        "sum_len_words": total,
        "total_number_of_words": len(words),
        "word_order_on_canvas": order,
        "text_is_truncated": truncated,
        "word_list_truncation_index": kept,
        "is_rtl": rtl,
    }
