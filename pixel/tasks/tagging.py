"""Word-level tagging shared by POS and NER: a label on each word's first patch, word-aligned predictions.

Predictions leave `preprocess_logits_for_metrics` *word-aligned*: row b holds the predicted label id of word 0, 1, …
of example b (the words the renderer kept), then -100. Gold labels are compacted the same way in `compute_metrics`, so
metrics and writers never need the word starts again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from pixel.tasks.base import IGNORE_INDEX, majority_id

if TYPE_CHECKING:
    from pixel.data.processor import PIXELProcessor
    from pixel.render import Encoding

__all__ = [
    "TaggedSentence",
    "WordTagEncoder",
    "check_labels",
    "compact_words",
    "majority_tag",
    "scored_predictions",
    "token_logits_to_word_predictions",
    "word_starts",
]

logger = logging.getLogger(__name__)


@dataclass
class TaggedSentence:
    """Words with one tag each; `source`/`lines` say where each word came from (for error messages)."""

    words: list[str]
    tags: list[str]
    source: str = ""
    lines: list[int] | None = None  # 1-based line (or row) of each word in `source`

    def where(self, word: int) -> str:
        if self.lines:
            return f"{self.source}:{self.lines[min(word, len(self.lines) - 1)]}"
        return self.source or "<input>"


def check_labels(examples: Sequence[Any], attr: str, labels: Sequence[str]) -> None:
    """Fail before training if any word carries a label outside `labels`, naming the file and line."""
    known = set(labels)
    for example in examples:
        for i, tag in enumerate(getattr(example, attr)):
            if tag not in known:
                raise ValueError(
                    f"{example.where(i)}: unknown label {tag!r}; known labels: {', '.join(labels)}"
                )


def word_starts(encoding: Encoding) -> list[int]:
    """The first patch of each kept word, then the EOS patch: every strategy gives them for a word list."""
    assert encoding.word_starts is not None, "the Encoding of a word list has word_starts"
    return encoding.word_starts


@dataclass
class WordTagEncoder:
    """Renders `example.words` and puts `label2id[tag]` on the first patch of every kept word (`labels [L]`)."""

    processor: PIXELProcessor
    label2id: dict[str, int]
    tag_attr: str = "tags"
    _warned: set[int] = field(default_factory=set, repr=False)

    @property
    def max_seq_length(self) -> int:
        return self.processor.max_seq_length

    def render(self, example: Any) -> Encoding:
        encoding = self.processor.renderer(list(example.words))
        kept = len(word_starts(encoding)) - 1
        if kept < len(example.words) and id(example) not in self._warned:
            self._warned.add(id(example))
            logger.warning(
                "%s: truncation at %d patches drops %d of %d words (not scored)",
                example.where(0),
                self.max_seq_length,
                len(example.words) - kept,
                len(example.words),
            )
        return encoding

    def dropped_words(self, example: Any) -> int:
        return len(example.words) - (len(word_starts(self.processor.renderer(list(example.words)))) - 1)

    def __call__(self, example: Any) -> dict[str, Any]:
        encoding = self.render(example)
        labels = torch.full((self.max_seq_length,), IGNORE_INDEX, dtype=torch.long)
        tags = getattr(example, self.tag_attr)
        for start, tag in zip(word_starts(encoding)[:-1], tags, strict=False):
            if start < self.max_seq_length:
                labels[start] = self.label2id[tag]
        return {"encoding": encoding, "labels": labels}  # labels (L,)


def compact_words(values: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """Left-pack `values [B, L]` at the positions where `keep [B, L]` is true, -100 after (order preserved)."""
    order = torch.argsort((~keep).to(torch.int8), dim=1, stable=True)  # kept positions first, in order
    packed = torch.gather(values, 1, order)
    return packed.masked_fill(~torch.gather(keep, 1, order), IGNORE_INDEX)


def compact_words_np(values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    packed = compact_words(torch.as_tensor(values), torch.as_tensor(keep))
    return packed.numpy()


def token_logits_to_word_predictions(logits: Any, labels: torch.Tensor | None) -> torch.Tensor:
    """`logits [B, L, C]` -> word-aligned predicted ids `[B, L]` (first patch of each labelled word, -100 after)."""
    if isinstance(logits, tuple | list):
        logits = logits[0]
    predictions = logits.argmax(-1)  # (B, L)
    if labels is None:  # no gold positions: keep per-patch predictions
        return predictions
    return compact_words(predictions, labels != IGNORE_INDEX)


def word_aligned(
    eval_predictions: np.ndarray, label_ids: np.ndarray
) -> tuple[list[list[int]], list[list[int]]]:
    """Per example, the (predicted, gold) label ids of the kept words, from word-aligned predictions and patch labels."""
    gold = compact_words_np(label_ids, label_ids != IGNORE_INDEX)
    pred_rows, gold_rows = [], []
    for pred_row, gold_row in zip(eval_predictions, gold, strict=True):
        n = int((gold_row != IGNORE_INDEX).sum())
        pred_rows.append([int(p) for p in pred_row[:n]])
        gold_rows.append([int(g) for g in gold_row[:n]])
    return pred_rows, gold_rows


def majority_tag(
    train: Sequence[Any] | None, tag_attr: str, labels: Sequence[str], gold: np.ndarray
) -> tuple[int, bool]:
    """(id of the most frequent tag over the words of `train`, False), or over the `gold` ids (-100 skipped) when
    `train` is None or has no words, True: the single tag the majority-tag baseline predicts for every word."""
    label2id = {label: i for i, label in enumerate(labels)}
    ids = [label2id[tag] for example in train or () for tag in getattr(example, tag_attr)]
    if not ids:
        return majority_id(gold, len(labels)), True
    return majority_id(ids, len(labels)), False


def scored_predictions(predictions: np.ndarray) -> np.ndarray:
    """The predicted ids of all scored words, from word-aligned predictions `[N, L]` (-100 past each example's)."""
    predictions = np.asarray(predictions)
    return predictions[predictions != IGNORE_INDEX]
