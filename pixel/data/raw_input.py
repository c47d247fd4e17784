"""Raw text to predict on (``pixel predict``): one example per non-blank input line, numbered by its line.

Line numbers are the examples' ids (``# sent_id`` in CoNLL-U, ``id`` in TSV), so predictions join back to the
input; blank lines have nothing to predict and are reported, never dropped silently.

Word-level tasks split raw text on whitespace. Scripts written without spaces between words (Thai, Lao, Khmer,
Myanmar, Chinese, Japanese) then give whole phrases or sentences as single "words"; ``unsegmented_word`` finds them
so that the caller can warn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import regex

__all__ = ["UNSEGMENTED_MIN_CHARS", "UNSEGMENTED_SCRIPTS", "RawLine", "raw_lines", "unsegmented_word"]

UNSEGMENTED_SCRIPTS = ("Thai", "Lao", "Khmer", "Myanmar", "Han", "Hiragana", "Katakana")
# Real words of these scripts are short (Chinese ones 1-4 characters, Thai ones rarely above 10 code points), while
# an unsegmented clause is longer: 12 characters in one whitespace-separated word is then almost surely not a word.
UNSEGMENTED_MIN_CHARS = 12

_UNSEGMENTED = regex.compile("[" + "".join(rf"\p{{Script={s}}}" for s in UNSEGMENTED_SCRIPTS) + "]")
_SCRIPT = {s: regex.compile(rf"\p{{Script={s}}}") for s in UNSEGMENTED_SCRIPTS}


@dataclass(frozen=True)
class RawLine:
    number: int  # 1-based line number in the input
    text: str  # the line without surrounding whitespace


def raw_lines(text: str) -> tuple[list[RawLine], list[int]]:
    """The non-blank lines of ``text`` and the numbers of the blank (or whitespace-only) ones.

    Lines end at "\n" only (as ``wc -l``, ``sed`` and editors count them), not at the other characters that
    ``str.splitlines`` breaks on, so that line numbers match what the user sees.
    """
    lines, blank = [], []
    rows = text.split("\n")
    if rows[-1] == "":  # the newline that ends the last line starts no line of its own
        rows.pop()
    for number, line in enumerate(rows, start=1):
        if line.strip():
            lines.append(RawLine(number, line.strip()))
        else:
            blank.append(number)
    return lines, blank


def unsegmented_word(words: Sequence[str]) -> tuple[str, str] | None:
    """``(word, scripts)`` for the first word holding at least ``UNSEGMENTED_MIN_CHARS`` characters of scripts
    written without spaces (``scripts`` names them, e.g. "Han/Hiragana"); None if there is no such word."""
    for word in words:
        if len(_UNSEGMENTED.findall(word)) >= UNSEGMENTED_MIN_CHARS:
            return word, "/".join(s for s, pattern in _SCRIPT.items() if pattern.search(word))
    return None
