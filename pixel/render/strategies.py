"""Rendering strategies: how words are cut into blocks, each block starting at a fresh patch.

A ``Block`` is the unit every strategy produces: one or more text runs, each laid out by Pango on its own (no
shaping across runs), placed one after the other by logical width (or in fixed cells for ``mono``). A block
occupies ``ceil((width + pad) / P)`` patches. Because every block starts on a patch boundary, identical blocks
give identical pixels wherever they occur, which is what makes the block cache exact.

Strategies:
- ``bigrams``: the published PIXEL-M4 renderer: 2 code points per block, each code point its own run.
- ``grapheme_bigrams``: 2 shaping clusters (``shaping_clusters``: UAX #29 grapheme clusters joined where a
  Brahmic syllable continues) per block shaped as one run; CJK one cluster per block; Arabic/Hebrew words whole
  (joining and bidi by Pango).
- ``words``: one block per word, shaped as a whole.
- ``mono``: monospaced cells (Lotz et al., 2023): every shaping cluster in a fixed half-patch cell, 2 per
  patch, each word starting at a new patch.
- ``continuous``: the published PIXEL renderer: a sentence is one shaped run; word lists draw ``word + " "``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, NamedTuple

import regex

from pixel.render.pango import is_rtl_char

# A grapheme cluster, then every following cluster that cannot be shaped apart from it: one that starts with a
# mark (UAX #29 leaves spacing marks such as Myanmar aa U+102C and visarga U+1038 on their own) or a joiner, or
# one that follows a virama or invisible stacker (Khmer coeng U+17D2, Myanmar U+1039, Balinese adeg-adeg,
# Sinhala al-lakuna + ZWJ, Kannada and Tamil viramas: UAX #29 keeps conjuncts together only in six Indic
# scripts). Pure killers (Myanmar asat, Thai phinthu) end a syllable, so the next cluster stays apart.
_SHAPING_CLUSTER = regex.compile(
    r"\X(?:(?<=[\p{ccc=9}--\p{InSC=Pure_Killer}][\u200c\u200d]?)\X|(?=[\p{M}\u200c\u200d])\X)*", regex.V1
)
# Scripts whose clusters are about a full patch wide: one cluster per block in grapheme_bigrams.
_WIDE_SCRIPT = regex.compile(
    r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}\p{Bopomofo}\p{Yi}\uFF00-\uFFEF\u3000-\u303F]"
)
_JOINING_SCRIPT = regex.compile(r"[\p{Arabic}\p{Hebrew}\p{Syriac}\p{Thaana}\p{Nko}]")


class Block(NamedTuple):
    """Runs drawn from one patch boundary; the block-cache key (a tuple, so hashing is cheap)."""

    runs: tuple[str, ...]
    cell: int = 0  # 0: runs follow each other by logical width; > 0: run i is drawn at x = i * cell
    pad: int = 0  # extra pixels counted before rounding up to whole patches


def code_point_bigrams(word: str, rtl: bool) -> list[Block]:
    """``oatmeal`` -> oa|tm|ea|l, each code point its own run.

    Quirk (published): chunks are code points, not grapheme clusters, so combining marks are cut from their
    base and drawn with a dotted circle. For RTL the chunk order and the characters inside each chunk are
    reversed (``abcde`` -> e|dc|ba) so the word reads correctly from left to right.
    """
    chunks = [word[i : i + 2] for i in range(0, len(word), 2)]
    if rtl:
        chunks = [chunk[::-1] for chunk in reversed(chunks)]
    return [Block(tuple(chunk)) for chunk in chunks]


def shaping_clusters(word: str) -> list[str]:
    """``word`` cut where HarfBuzz can shape each piece alone without a dotted circle (``_SHAPING_CLUSTER``).

    ``သုံး`` -> [``သုံး``] (UAX #29: ``သုံ|း``); ``ខ្មែរ`` -> [``ខ្មែ``, ``រ``]; ``किताब`` -> [``कि``, ``ता``, ``ब``].
    """
    return _SHAPING_CLUSTER.findall(word)


def grapheme_bigrams(word: str, rtl: bool) -> list[Block]:
    """Two shaping clusters per block, shaped together; CJK alone; Arabic/Hebrew words whole."""
    if _JOINING_SCRIPT.search(word):
        return [Block((word,))]  # Pango shapes joining forms and orders the run (bidi) itself
    blocks: list[Block] = []
    pending: list[str] = []
    for cluster in shaping_clusters(word):
        if _WIDE_SCRIPT.match(cluster):
            if pending:
                blocks.append(Block(("".join(pending),)))
                pending = []
            blocks.append(Block((cluster,)))
            continue
        pending.append(cluster)
        if len(pending) == 2:
            blocks.append(Block(("".join(pending),)))
            pending = []
    if pending:
        blocks.append(Block(("".join(pending),)))
    if rtl:
        blocks.reverse()
    return blocks


def whole_word(word: str, rtl: bool) -> list[Block]:
    return [Block((word,))] if word else []


def mono_cells(word: str, rtl: bool, cell: int) -> list[Block]:
    """Each shaping cluster (``shaping_clusters``) in a fixed cell, two cells per patch, so characters sit at fixed
    positions; a cluster is a run of its own, so a cell never cuts a syllable HarfBuzz must shape whole (a wide
    syllable, e.g. Myanmar, inks past its cell)."""
    blocks: list[Block] = []
    pending: list[str] = []
    for cluster in shaping_clusters(word):
        if _WIDE_SCRIPT.match(cluster):  # a CJK character fills both cells of its patch
            if pending:
                blocks.append(Block(tuple(pending), cell=cell))
                pending = []
            blocks.append(Block((cluster,), cell=cell))
            continue
        pending.append(cluster)
        if len(pending) == 2:
            blocks.append(Block(tuple(pending), cell=cell))
            pending = []
    if pending:
        blocks.append(Block(tuple(pending), cell=cell))
    if rtl:
        blocks = [Block(b.runs[::-1], cell=cell) for b in reversed(blocks)]
    return blocks


BlockFunction = Callable[[str, bool, int], list["Block"]]  # (word, rtl, pixels per patch) -> its blocks


class Strategy(NamedTuple):
    """What a rendering strategy is: the facts the renderer's parts read, never its name.

    ``engine`` picks the code that lays out and draws (``pixel.render.engines.make_engine``): ``"sentences"``
    shapes whole sentences (the published PIXEL renderer), ``"blocks"`` draws words cut into ``blocks``, each
    starting at a patch boundary, ``"code_points"`` is ``blocks`` with one run per code point, which the exact
    glyph and word caches of the published PIXEL-M4 renderer exploit. ``published``: a published renderer's
    pixels: GoNotoCurrent as the default main font, fontconfig's own fallback order, text lifted 2 px, and (for
    word blocks) the published truncation and word-map quirks.
    """

    name: str
    engine: Literal["sentences", "blocks", "code_points"]
    published: bool
    blocks: BlockFunction | None = None  # None: the text is not cut into blocks (``sentences``)


STRATEGIES: dict[str, Strategy] = {
    strategy.name: strategy
    for strategy in (
        Strategy("bigrams", "code_points", True, lambda word, rtl, P: code_point_bigrams(word, rtl)),
        Strategy("grapheme_bigrams", "blocks", False, lambda word, rtl, P: grapheme_bigrams(word, rtl)),
        Strategy("words", "blocks", False, lambda word, rtl, P: whole_word(word, rtl)),
        Strategy("mono", "blocks", False, lambda word, rtl, P: mono_cells(word, rtl, P // 2)),
        Strategy("continuous", "sentences", True),
    )
}


def split_words(text: str) -> list[str]:
    """Whitespace only separates words and is never drawn (``str.split`` semantics: any Unicode space)."""
    return text.strip().split()


_NOT_LETTERS = " \t\n\r\x0b\x0c0123456789!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
_NOT_LETTER_SET = frozenset(_NOT_LETTERS)
_NOT_LETTER_BYTES = _NOT_LETTERS.encode()
_RTL_CHAR: dict[str, bool] = {}  # is_rtl_char, memoised (a Pango call per letter otherwise)


def _rtl_char(char: str) -> bool:
    rtl = _RTL_CHAR.get(char)
    if rtl is None:
        rtl = _RTL_CHAR[char] = is_rtl_char(char)
    return rtl


def _letters_before(text: str, end: int) -> int:
    """Letters (every code point but the ASCII ones in ``_NOT_LETTERS``) in ``text[:end]``."""
    ascii_part = (text[:end] if end < len(text) else text).encode("ascii", "ignore")
    return end - len(ascii_part) + len(ascii_part.translate(None, _NOT_LETTER_BYTES))


def is_rtl(text: str) -> bool:
    """Majority vote of the first, middle and last letters (ASCII spaces, punctuation and digits removed).

    Quirk (published): a heuristic on three characters, not a bidi analysis.
    """
    count = _letters_before(text, len(text))
    if not count:
        return False
    first = next(c for c in text if c not in _NOT_LETTER_SET)
    last = next(c for c in reversed(text) if c not in _NOT_LETTER_SET)
    # The middle letter (``count // 2`` letters before it): from a proportional guess, walk to it.
    k = count // 2
    i = k * len(text) // count
    before = _letters_before(text, i)
    while before > k:
        i -= 1
        before -= text[i] not in _NOT_LETTER_SET
    while text[i] in _NOT_LETTER_SET or before < k:
        before += text[i] not in _NOT_LETTER_SET
        i += 1
    votes = _rtl_char(first) + _rtl_char(text[i])
    return votes == 2 or (votes == 1 and _rtl_char(last))
