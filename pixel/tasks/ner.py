"""Named-entity recognition (`ner`): CoNLL files or HF datasets, a label on each word's first patch, seqeval.

Inputs:
- CoNLL text (`train.txt`, `dev.txt`, `test.txt`, …): one `token … tag` per line (first column = token, last = tag),
  blank lines and `-DOCSTART-` lines separate sentences;
- an HF dataset with `tokens` / `ner_tags` columns, saved with `save_to_disk` (a `DatasetDict` folder: the split
  folders are found by `find_split`, "dev" -> "validation") or loaded from the Hub with `load_hf_ner`.
Labels come from a label file ("O" first if missing), the dataset's `ClassLabel` names, or the data (all splits
present; "O" first, then sorted).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from pixel.tasks.base import (
    IGNORE_INDEX,
    Baseline,
    RenderedDataset,
    Task,
    fitted_on,
    open_text,
    read_label_list,
    split_file,
)
from pixel.tasks.tagging import (
    TaggedSentence,
    WordTagEncoder,
    check_labels,
    compact_words_np,
    majority_tag,
    scored_predictions,
    token_logits_to_word_predictions,
    word_aligned,
)

if TYPE_CHECKING:
    from pixel.data.processor import PIXELProcessor

__all__ = ["NERTask", "load_hf_ner", "ner_metrics", "read_conll_ner", "read_label_file", "write_conll_ner"]

logger = logging.getLogger(__name__)

_SPLIT_FILES = ("{split}.txt", "{split}.conll", "{split}.bio", "{split}.iob2", "{split}.tsv")
_HF_SPLITS = {"train": ("train",), "dev": ("validation", "dev", "valid"), "test": ("test",)}


def read_conll_ner(path: Path) -> list[TaggedSentence]:
    """Sentences of a CoNLL NER file; a line without a tag column raises ValueError naming file and line."""
    path = Path(path)
    sentences: list[TaggedSentence] = []
    words: list[str] = []
    tags: list[str] = []
    lines: list[int] = []

    def flush() -> None:
        if words:
            sentences.append(TaggedSentence(list(words), list(tags), str(path), list(lines)))
        words.clear()
        tags.clear()
        lines.clear()

    for number, line in enumerate(open_text(path), start=1):
        line = line.rstrip("\r\n")
        if not line.strip() or line.startswith("-DOCSTART-"):
            flush()
            continue
        columns = line.split("\t") if "\t" in line else line.split()
        if len(columns) < 2 or not columns[0].strip() or not columns[-1].strip():
            raise ValueError(f"{path}:{number}: expected 'token tag', got {line!r}")
        words.append(columns[0].strip())
        tags.append(columns[-1].strip())
        lines.append(number)
    flush()
    return sentences


def _hf_sentences(dataset: Any, source: str) -> list[TaggedSentence]:
    for column in ("tokens", "ner_tags"):
        if column not in dataset.column_names:
            raise ValueError(f"{source}: no {column!r} column (columns: {', '.join(dataset.column_names)})")
    names = _class_label_names(dataset)
    sentences = []
    for row, example in enumerate(dataset):
        tags = example["ner_tags"]
        if tags and not isinstance(tags[0], str):
            if names is None:
                raise ValueError(f"{source}: integer ner_tags without ClassLabel names; pass a label file")
            tags = [names[t] for t in tags]
        if example["tokens"]:  # the published JIT dataset filters empty examples too
            sentences.append(TaggedSentence(list(example["tokens"]), list(tags), source, [row] * len(tags)))
    return sentences


def _class_label_names(dataset: Any) -> list[str] | None:
    feature = dataset.features["ner_tags"]
    inner = getattr(feature, "feature", None)
    return list(inner.names) if inner is not None and hasattr(inner, "names") else None


def load_hf_ner(name_or_path: str | Path, split: str, config: str | None = None) -> list[TaggedSentence]:
    """Sentences of an HF dataset split: a `save_to_disk` folder (Dataset or DatasetDict) or a Hub dataset name."""
    import datasets

    path = Path(name_or_path)
    if path.exists():
        loaded = datasets.load_from_disk(str(path))
        if isinstance(loaded, datasets.DatasetDict):
            loaded = loaded[_hf_split_name(list(loaded), split, path)]
        return _hf_sentences(loaded, str(path))
    dataset = datasets.load_dataset(str(name_or_path), config)
    return _hf_sentences(
        dataset[_hf_split_name(list(dataset), split, name_or_path)], f"{name_or_path}[{split}]"
    )


def _hf_split_name(available: list[str], split: str, where: Any) -> str:
    for name in _HF_SPLITS.get(split, (split,)):
        if name in available:
            return name
    raise FileNotFoundError(f"{where}: no {split} split (available: {', '.join(available)})")


def read_label_file(path: Path) -> list[str]:
    """One label per line (`read_label_list`: no blank lines between labels, no duplicates); "O" is put first if the
    file lacks it."""
    labels = read_label_list(path)
    return labels if "O" in labels else ["O", *labels]


def ner_metrics(predicted: list[list[str]], gold: list[list[str]]) -> dict[str, float]:
    """seqeval precision, recall, F1 (entity level, conlleval semantics) and token accuracy."""
    from seqeval.metrics import accuracy_score, f1_score, precision_score, recall_score

    return {
        "precision": float(precision_score(gold, predicted, zero_division=0)),
        "recall": float(recall_score(gold, predicted, zero_division=0)),
        "f1": float(f1_score(gold, predicted, zero_division=0)),
        "accuracy": float(accuracy_score(gold, predicted)),
    }


def write_conll_ner(
    sentences: Sequence[TaggedSentence], predicted: Sequence[Sequence[str]], path: Path
) -> None:
    """`token<TAB>predicted tag` lines, a blank line after each sentence. Words dropped by truncation get "O"."""
    dropped = 0
    with open(path, "w", encoding="utf-8") as f:
        for sentence, tags in zip(sentences, predicted, strict=True):
            dropped += max(len(sentence.words) - len(tags), 0)
            for i, word in enumerate(sentence.words):
                f.write(f"{word}\t{tags[i] if i < len(tags) else 'O'}\n")
            f.write("\n")
    if dropped:
        logger.warning("%s: %d words dropped by truncation were written with tag O", path, dropped)


@dataclass
class NERTask(Task):
    """`ner` with `PIXELForTokenClassification`; best model on seqeval `f1`."""

    name: str = "ner"
    model_class_name: str = "PIXELForTokenClassification"
    metric_for_best_model: str = "f1"
    default_max_seq_length: int = 196
    label_names: list[str] | None = None  # set by `dataset()`; compute_metrics maps ids back to tags with it

    def find_split(self, data_dir: Path, split: str) -> Path:
        data_dir = Path(data_dir)
        if (data_dir / "dataset_dict.json").is_file():
            available = [p.name for p in data_dir.iterdir() if p.is_dir()]
            return data_dir / _hf_split_name(available, split, data_dir)
        return split_file(data_dir, split, _SPLIT_FILES)

    def read(self, path: Path) -> list[TaggedSentence]:
        path = Path(path)
        return load_hf_ner(path, "train") if path.is_dir() else read_conll_ner(path)

    def labels(self, data_dir: Path, label_file: Path | None = None) -> list[str]:
        if label_file is not None:
            return read_label_file(label_file)
        data_dir = Path(data_dir)
        if (data_dir / "dataset_dict.json").is_file():
            import datasets

            loaded = datasets.load_from_disk(str(data_dir))
            names = _class_label_names(next(iter(loaded.values())))
            if names is not None:
                return names
        tags: set[str] = set()
        for split in ("train", "dev", "test"):
            try:
                path = self.find_split(data_dir, split)
            except FileNotFoundError:
                continue
            tags.update(tag for sentence in self.read(path) for tag in sentence.tags)
        if not tags:
            raise FileNotFoundError(f"no NER data in {data_dir} to infer labels from; pass a label file")
        return ["O", *sorted(tags - {"O"}, key=lambda t: (t[2:], t))]

    def dataset(
        self, examples: Sequence[TaggedSentence], processor: PIXELProcessor, labels: list[str]
    ) -> RenderedDataset:
        check_labels(examples, "tags", labels)
        self.label_names = list(labels)
        label2id = {t: i for i, t in enumerate(labels)}
        return RenderedDataset(examples, WordTagEncoder(processor, label2id))

    def preprocess_logits_for_metrics(self, logits: Any, labels: Any) -> torch.Tensor:
        return token_logits_to_word_predictions(logits, labels)

    def compute_metrics(self, eval_pred: Any) -> dict[str, float]:
        if self.label_names is None:
            raise RuntimeError("NERTask.compute_metrics needs the label list: build a dataset with it first")
        names = self.label_names
        predicted, gold = word_aligned(np.asarray(eval_pred.predictions), np.asarray(eval_pred.label_ids))
        return ner_metrics(
            [[names[i] for i in row] for row in predicted], [[names[i] for i in row] for row in gold]
        )

    def baseline(
        self, gold: Any, dataset: RenderedDataset, train: Sequence[TaggedSentence] | None, labels: list[str]
    ) -> Baseline:
        """The train split's most frequent tag for every word: with "O", no entity (seqeval F1 0)."""
        label_ids = np.asarray(gold)
        words = compact_words_np(label_ids, label_ids != IGNORE_INDEX)  # (N, L) gold ids of the scored words
        top, from_eval = majority_tag(train, "tags", labels, words)
        names = [[labels[i] for i in row if i != IGNORE_INDEX] for row in words]
        metrics = ner_metrics([[labels[top]] * len(row) for row in names], names)
        description = f"majority tag {labels[top]!r} of {fitted_on(from_eval)} for every word"
        return Baseline(metrics, description, from_eval)

    def predicted_classes(self, predictions: Any, gold: Any) -> np.ndarray:
        return scored_predictions(predictions)

    def write_predictions(
        self, examples: Sequence[TaggedSentence], predictions: np.ndarray, labels: list[str], path: Path
    ) -> None:
        rows = [[labels[int(p)] for p in row if p >= 0] for row in np.asarray(predictions)]
        write_conll_ner(examples, rows, path)

    def encode_raw(self, text: str, line: int = 1, source: str = "<input>") -> TaggedSentence:
        words = text.split()
        return TaggedSentence(words, ["O"] * len(words), source, [line] * len(words))
