"""The published ``word_patch_map`` (PIXEL-M4 bigrams renderer) and its QA overflow windows, in its own units.

``word_patch_map`` describes where every word of a strip starts, with character-length bookkeeping that the
published code kept for QA alignment. Two maps come out of one layout: the *full* map (every word, as measured)
and the *truncated* map (the words kept; this is the one an ``Encoding`` carries, pairs add the full text_b map as
``full_text_b``). Keys, as published:

- ``sum_len_words``: characters of the words joined by single spaces;
- ``total_number_of_words``, ``word_list_truncation_index`` (index of the last word, -1 for none),
  ``text_is_truncated``, ``is_rtl``, ``first_patch_after_last_word``;
- ``word_order_on_canvas[i]``: ``start_patch_index``, ``word``, ``word_len`` (with one space, except the last
  word left-to-right, or the first word right-to-left), ``sentence_len_ltr`` (cumulative, this word included)
  and ``sentence_len_rtl`` (what remains, this word included).

Quirk (published) "single word measured twice": the measuring pass of the published renderer walks the first
word, the middle words and the last word, so a one-word text is measured twice. Its full map has two entries for
that word and a doubled ``first_patch_after_last_word``, and its ``text_is_truncated`` is set once the doubled
width exceeds the limit, though nothing is cut (``Encoding.truncated`` reports what really happened).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from itertools import accumulate


class WordOrder(Mapping):
    """``word_order_on_canvas``: entries built on access (the map is rarely read, strips are rendered often)."""

    def __init__(self, words: list[str], starts: list[int], rtl: bool, count: int) -> None:
        self._words, self._starts, self._rtl, self._count = words, starts, rtl, count
        self._cumulative: list[int] | None = None

    def __len__(self) -> int:
        return self._count

    def __iter__(self):
        return iter(range(self._count))

    def _word_len(self, i: int) -> int:
        word, entries = self._words[min(i, len(self._words) - 1)], len(self._starts)
        first, last = i == 0, i == entries - 1
        spaced = not (last and not self._rtl) and not (first and self._rtl)
        return len(word) + spaced

    def __getitem__(self, i: int) -> dict:
        if not isinstance(i, int) or not 0 <= i < self._count:
            raise KeyError(i)
        if self._cumulative is None:
            self._cumulative = list(accumulate(self._word_len(k) for k in range(len(self._starts))))
        before = self._cumulative[i - 1] if i else 0
        total = len(" ".join(self._words))
        return {
            "start_patch_index": self._starts[i],
            "word": self._words[min(i, len(self._words) - 1)],
            "word_len": self._word_len(i),
            "sentence_len_ltr": self._cumulative[i],
            "sentence_len_rtl": total - before,
        }


def word_patch_maps(
    words: list[str],
    starts: list[int],
    end: int,
    kept: int,
    drawn_end: int,
    truncated: bool,
    max_length: int,
    rtl: bool,
    legacy: bool,
) -> tuple[dict, dict]:
    """(full, truncated) maps for ``words`` measured at ``starts`` (first patch after them: ``end``).

    ``kept`` words were kept and the drawing ended at patch ``drawn_end``. ``legacy`` (the published bigrams
    renderer) measures a one-word text twice (see the module docstring).
    """
    starts = list(starts)
    measured_end = end
    if legacy and len(words) == 1:
        starts.append(end)
        measured_end = end + (end - starts[0])
    order = WordOrder(words, starts, rtl, len(starts))
    length = len(" ".join(words))
    # len(" ".join(words[:kept])), from the few words dropped (one join per strip)
    kept_length = length - sum(map(len, words[kept:])) - (len(words) - kept) if kept else 0
    full = {
        "sum_len_words": length,
        "total_number_of_words": len(words),
        "word_order_on_canvas": order,
        "text_is_truncated": False,
        "word_list_truncation_index": len(words) - 1,
        "is_rtl": rtl,
        "first_patch_after_last_word": measured_end,
    }
    cut = {
        "sum_len_words": kept_length,
        "total_number_of_words": kept,
        "word_order_on_canvas": WordOrder(words, starts, rtl, min(kept, len(starts))),
        "text_is_truncated": truncated or (legacy and measured_end > max_length),
        "word_list_truncation_index": kept - 1,
        "is_rtl": rtl,
        "first_patch_after_last_word": drawn_end,
    }
    return full, cut


def slice_word_map(full: dict, first: int, last: int) -> dict:
    """The published slice of a full map: words ``first..last`` (both included), keeping their start patches."""
    order = full["word_order_on_canvas"]
    keys = [k for k in order if first <= k <= last]
    sliced = dict(full)
    sliced["word_order_on_canvas"] = {k: order[k] for k in keys}
    sliced["word_list_truncation_index"] = keys[-1] if keys else -1
    sliced["total_number_of_words"] = len(keys)
    return sliced


def overflow_word_ranges(full_b: dict, a_end: int, kept_last: int, stride: int, max_seq_length: int) -> list:
    """Word ranges ``(first, last)`` of text_b for the QA overflow windows, chosen as the published renderer does.

    ``full_b`` is text_b's full map (start patches on the pair's strip), ``a_end`` the first patch after text_a,
    ``kept_last`` the index of the last word of text_b the first strip kept. A window starts one word before the
    word whose start is nearest to ``stride`` patches before the end of the previous window (so windows overlap by
    two words even with ``stride`` 0), and ends one word before the word nearest to a full window's worth of
    patches later, then shrinks until it fits. Where the published code would fail (a name read before it is
    set, a key that does not exist) no further windows are made.
    """
    order = full_b["word_order_on_canvas"]
    last = full_b["word_list_truncation_index"]
    b_end = full_b["first_patch_after_last_word"]
    L = max_seq_length

    def start(i: int) -> int:
        return order[i]["start_patch_index"]

    def closest_minus_one(x: int) -> int:
        return min(order, key=lambda i: math.floor(abs(x - start(i)))) - 1

    def length(first: int, end: int) -> int:
        return start(end + 1) - start(first) + a_end + 2

    per_window = L - (a_end + 4)
    ranges: list[tuple[int, int]] = []
    end_last, first_last, end_new = kept_last, -1, None
    try:
        while end_last < last:
            first_new = closest_minus_one(start(end_last) - stride)
            if first_new <= first_last:  # very long words: move on by one word at least
                first_new = first_last + 1
                if first_new == last - 1:
                    if end_new is not None and length(first_new, end_new) + b_end - start(first_new) < L - 1:
                        ranges.append((first_new, last))
                    break  # (published: otherwise the last word is lost)
            end_new = closest_minus_one(start(first_new) + per_window)
            size = length(first_new, end_new)
            while size > L - 1:
                end_new = min(end_new - 1, end_last + 1)
                size = length(first_new, end_new)
            if end_new == last - 1:
                if size + b_end - start(end_new) > L - 1:
                    end_new -= 1
                else:
                    ranges.append((first_new, last))
                    break
            end_last, first_last = end_new, first_new
            if first_new <= end_new:
                ranges.append((first_new, end_new))
    except KeyError:
        pass
    return ranges
