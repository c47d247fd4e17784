"""CoNLL-U treebanks: reading (with the `conllu` library), attachment scores, and writing predicted trees.

Only syntactic words (integer IDs) are kept: multiword-token ranges (`1-2`) and empty nodes (`8.1`) are skipped, as
the published reader and the CoNLL 2018 evaluation do. Relations lose their subtype (`nmod:poss` -> `nmod`).

Every sentence is checked where it is read: IDs in sequence, an integer HEAD within the sentence, and, unless
`trees=False`, a well-formed tree (exactly one word with HEAD 0, no cycles), since a parser would silently train on a
broken one. POS tagging needs only UPOS and reads with `trees=False`, so files with placeholder trees (every HEAD 0)
or none (HEAD `_`, as POS predictions are written) stay usable for it; so do parser inputs to predict on and argmax
parser predictions, which need not be trees.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import conllu
import numpy as np

from pixel.tasks.base import open_text

__all__ = [
    "UD_HEAD_LABELS",
    "UPOS_LABELS",
    "Sentence",
    "attachment_scores",
    "find_cycle",
    "read_conllu",
    "score_conllu",
    "sentence_from_words",
    "write_conllu",
]

# The 38 universal relations (plus "_") of the published parser head, in its order: ids are positions here.
UD_HEAD_LABELS = [
    "_", "acl", "advcl", "advmod", "amod", "appos", "aux", "case", "cc", "ccomp", "clf", "compound", "conj", "cop",
    "csubj", "dep", "det", "discourse", "dislocated", "expl", "fixed", "flat", "goeswith", "iobj", "list", "mark",
    "nmod", "nsubj", "nummod", "obj", "obl", "orphan", "parataxis", "punct", "reparandum", "root", "vocative", "xcomp",
]  # fmt: skip
UPOS_LABELS = [
    "ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT", "SCONJ",
    "SYM", "VERB", "X",
]  # fmt: skip
_NUM_COLUMNS = 10


@dataclass
class Sentence:
    """One sentence's syntactic words; `tokens` is the parsed `conllu.TokenList` (comments, MWTs) for writing back."""

    words: list[str]
    upos: list[str]
    heads: list[int]  # 0 = root, h = word h (1-based)
    rels: list[str]  # universal relation, subtype stripped
    source: str = ""
    lines: list[int] | None = None  # 1-based line of each word in `source`
    tokens: conllu.TokenList | None = None

    def where(self, word: int) -> str:
        if self.lines:
            return f"{self.source}:{self.lines[min(word, len(self.lines) - 1)]}"
        return self.source or "<input>"

    @property
    def tags(self) -> list[str]:
        return self.upos


def _blocks(path: Path) -> Iterator[list[tuple[int, str]]]:
    """Sentence blocks as (1-based line number, line) pairs; blank lines separate sentences."""
    block: list[tuple[int, str]] = []
    for number, line in enumerate(open_text(path), start=1):
        line = line.rstrip("\r\n")
        if line.strip():
            block.append((number, line))
        elif block:
            yield block
            block = []
    if block:
        yield block


def _parse_block(path: Path, block: list[tuple[int, str]]) -> conllu.TokenList:
    try:
        parsed = conllu.parse("\n".join(line for _, line in block) + "\n\n")
    except conllu.exceptions.ParseException:
        for number, line in block:  # find the offending line
            if not line.startswith("#"):
                try:
                    conllu.parse(line + "\n\n")
                except conllu.exceptions.ParseException as error:
                    raise ValueError(f"{path}:{number}: malformed CoNLL-U line ({error}): {line!r}") from None
        raise ValueError(f"{path}:{block[0][0]}: malformed CoNLL-U sentence") from None
    if len(parsed) != 1:
        raise ValueError(f"{path}:{block[0][0]}: expected one sentence in this block, got {len(parsed)}")
    return parsed[0]


def _sentence(
    path: Path, block: list[tuple[int, str]], tokens: conllu.TokenList, trees: bool
) -> Sentence | None:
    token_lines = [(n, line) for n, line in block if not line.startswith("#")]
    words: list[str] = []
    upos: list[str] = []
    heads: list[int] = []
    rels: list[str] = []
    lines: list[int] = []
    for (number, line), token in zip(token_lines, tokens, strict=True):
        if not isinstance(token["id"], int):
            continue  # multiword range or empty node
        if len(token) < _NUM_COLUMNS:
            raise ValueError(
                f"{path}:{number}: expected {_NUM_COLUMNS} columns, found {len(token)}: {line!r}"
            )
        if token["id"] != len(words) + 1:
            raise ValueError(
                f"{path}:{number}: word ID {token['id']} out of sequence (expected {len(words) + 1})"
            )
        if token["head"] is None and trees:
            raise ValueError(f"{path}:{number}: HEAD must be an integer, got '_': {line!r}")
        words.append(token["form"])
        upos.append(token["upos"])
        # HEAD `_` (allowed without trees) becomes 0, a placeholder: tagging ignores heads, parser input needs none
        heads.append(0 if token["head"] is None else token["head"])
        rels.append(str(token["deprel"]).split(":")[0])
        lines.append(number)
    if not words:
        return None
    for head, number in zip(heads, lines, strict=True):
        if not 0 <= head <= len(words):
            raise ValueError(f"{path}:{number}: HEAD {head} outside the sentence (0..{len(words)})")
    if trees:
        _check_tree(path, block[0][0], tokens.metadata.get("sent_id"), heads, lines)
    return Sentence(words, upos, heads, rels, source=str(path), lines=lines, tokens=tokens)


def find_cycle(heads: Sequence[int]) -> list[int] | None:
    """Words (1-based) of a cycle in `heads` (0 = root, h = word h; all within range), or None if every word
    reaches the root."""
    unseen, on_path, reaches_root = 0, 1, 2
    state = [reaches_root] + [unseen] * len(heads)  # index 0 is the root
    for start in range(1, len(heads) + 1):
        walk, word = [], start
        while state[word] == unseen:
            state[word] = on_path
            walk.append(word)
            word = heads[word - 1]
        if state[word] == on_path:
            return walk[walk.index(word) :]
        for visited in walk:
            state[visited] = reaches_root
    return None


def _check_tree(path: Path, first_line: int, sent_id: str | None, heads: list[int], lines: list[int]) -> None:
    """A dependency tree has exactly one word with HEAD 0 and no cycles; else ValueError naming file, line, sentence."""
    sentence = f"sentence {sent_id}" if sent_id else f"the sentence starting on line {first_line}"
    roots = [word for word, head in enumerate(heads, start=1) if head == 0]
    if not roots:
        raise ValueError(
            f"{path}:{first_line}: {sentence} has no root (no word with HEAD 0); "
            "fix the HEAD column so that exactly one word has HEAD 0"
        )
    if len(roots) > 1:
        raise ValueError(
            f"{path}:{lines[roots[1] - 1]}: {sentence} has {len(roots)} roots (words "
            f"{', '.join(map(str, roots))} have HEAD 0); fix the HEAD column so that exactly one word has HEAD 0"
        )
    cycle = find_cycle(heads)
    if cycle:
        chain = " -> ".join(map(str, [*cycle, cycle[0]]))
        raise ValueError(
            f"{path}:{lines[cycle[0] - 1]}: {sentence} has a HEAD cycle ({chain}); "
            "fix the HEAD column so that every word's heads lead to the root"
        )


def read_conllu(path: Path, trees: bool = True) -> list[Sentence]:
    """All sentences of a CoNLL-U file; a malformed line or (with `trees`) a sentence that is not a tree raises
    ValueError naming the file and line (see the module docstring)."""
    path = Path(path)
    sentences = []
    for block in _blocks(path):
        sentence = _sentence(path, block, _parse_block(path, block), trees)
        if sentence is not None:
            sentences.append(sentence)
    return sentences


def sentence_from_words(
    words: Sequence[str],
    sent_id: str | None = None,
    text: str | None = None,
    source: str = "<input>",
    line: int | None = None,
) -> Sentence:
    """A sentence to predict on. The encoders get placeholder gold columns (heads 0, relation "_", UPOS "X"); the
    tokens written back leave what is not predicted unknown (`_`: HEAD, DEPREL, UPOS), so a POS-only prediction is
    well-formed CoNLL-U rather than a tree of roots. `sent_id` and `text` become the `# sent_id` / `# text`
    comments; `line` (in `source`) is where error messages point.
    """
    n = len(words)
    metadata = conllu.Metadata(
        {key: value for key, value in (("sent_id", sent_id), ("text", text)) if value is not None}
    )
    tokens = _unknown_tokens(words, metadata)
    lines = [line] * n if line is not None else None
    return Sentence(list(words), ["X"] * n, [0] * n, ["_"] * n, source=source, lines=lines, tokens=tokens)


def _unknown_tokens(words: Sequence[str], metadata: conllu.Metadata | None = None) -> conllu.TokenList:
    """Tokens of `words` with nothing known but ID and FORM (every other column `_`)."""
    return conllu.TokenList(
        [
            conllu.Token(
                id=i + 1,
                form=w,
                lemma="_",
                upos="_",
                xpos=None,
                feats=None,
                head=None,
                deprel="_",
                deps=None,
                misc=None,
            )
            for i, w in enumerate(words)
        ],
        metadata=metadata,
    )


def attachment_scores(
    pred_heads: Sequence[Sequence[int]],
    pred_rels: Sequence[Sequence[str | int]],
    gold_heads: Sequence[Sequence[int]],
    gold_rels: Sequence[Sequence[str | int]],
) -> dict[str, float]:
    """UAS and LAS x100 over all words (punctuation included), as the CoNLL 2018 shared task with gold tokens.

    LAS needs the head and the universal relation both right. Rows are per sentence; lengths must match.
    """
    total = head_ok = label_ok = 0
    for ph, pr, gh, gr in zip(pred_heads, pred_rels, gold_heads, gold_rels, strict=True):
        if not len(ph) == len(pr) == len(gh) == len(gr):
            raise ValueError("prediction and gold sentences differ in length")
        heads = np.asarray(ph) == np.asarray(gh)
        rels = np.asarray(pr, dtype=object) == np.asarray(gr, dtype=object)
        total += len(gh)
        head_ok += int(heads.sum())
        label_ok += int((heads & rels).sum())
    if total == 0:
        return {"uas": 0.0, "las": 0.0, "words": 0}
    return {"uas": 100.0 * head_ok / total, "las": 100.0 * label_ok / total, "words": total}


def score_conllu(gold: Sequence[Sentence], predicted: Sequence[Sentence]) -> dict[str, float]:
    """UAS/LAS of predicted sentences against gold ones with the same words (gold tokenisation)."""
    if len(gold) != len(predicted):
        raise ValueError(f"gold has {len(gold)} sentences, prediction {len(predicted)}")
    for g, p in zip(gold, predicted, strict=True):
        if g.words != p.words:
            raise ValueError(f"{p.where(0)}: words differ from the gold sentence at {g.where(0)}")
    return attachment_scores(
        [p.heads for p in predicted],
        [p.rels for p in predicted],
        [g.heads for g in gold],
        [g.rels for g in gold],
    )


def write_conllu(
    sentences: Sequence[Sentence],
    heads: Sequence[Sequence[int]] | None,
    rels: Sequence[Sequence[str]] | None,
    path: Path,
    upos: Sequence[Sequence[str]] | None = None,
) -> None:
    """Write `sentences` with predicted HEAD/DEPREL (and UPOS if given); other columns are kept, DEPS is blanked.
    With `heads=None` (a tagger) HEAD, DEPREL and DEPS stay as read (`_` for raw text).

    A prediction row may be shorter than its sentence (words dropped by truncation): those words are marked
    `Truncated=Yes` in MISC, attached to the predicted root with relation `dep` (so every tree stays well formed)
    and get UPOS `_`.
    """
    with open(path, "w", encoding="utf-8") as f:
        for i, sentence in enumerate(sentences):
            if sentence.tokens is not None:
                tokens = copy.deepcopy(sentence.tokens)
            else:
                tokens = _unknown_tokens(sentence.words)
            words = [t for t in tokens if isinstance(t["id"], int)]
            predicted = list(heads[i])[: len(words)] if heads is not None else None
            root = next((w + 1 for w, h in enumerate(predicted or []) if h == 0), 0)
            for w, token in enumerate(words):
                truncated = False
                if predicted is not None and rels is not None:
                    token["deps"] = None
                    truncated = w >= len(predicted)
                    if truncated:
                        token["head"], token["deprel"] = root, "dep"
                    else:
                        token["head"], token["deprel"] = int(predicted[w]), rels[i][w]
                if upos is not None:
                    truncated |= w >= len(upos[i])
                    token["upos"] = upos[i][w] if w < len(upos[i]) else "_"
                if truncated:
                    token["misc"] = {**(token["misc"] or {}), "Truncated": "Yes"}
            f.write(tokens.serialize())
