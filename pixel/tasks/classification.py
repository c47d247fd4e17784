"""Sequence classification: SIB-200 (`sib`), generic single texts (`classification`) and pairs (`pair_classification`).

Data: `{split}.tsv|csv|json|jsonl` files in `data_dir` (dev may be `validation.*`), or an HF `DatasetDict` folder
saved with `save_to_disk`. SIB-200 is the TSV flavour with `index_id`, `category`, `text` and a `labels.txt`.
Pairs are rendered with the renderer's pair input (text_a, black separator patch, text_b). Regression
(`regression=True`, one output, MSE) reports Pearson/Spearman; classification reports accuracy and macro-F1.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from pixel.tasks.base import (
    Baseline,
    RenderedDataset,
    Task,
    fitted_on,
    majority_id,
    open_text,
    parse_json,
    read_json,
    read_label_list,
    split_file,
)

if TYPE_CHECKING:
    from pixel.data.processor import PIXELProcessor

__all__ = [
    "ClassificationTask",
    "TextEncoder",
    "TextExample",
    "classification_metrics",
    "classification_task",
    "glue_strip_spaces",
    "pair_classification_task",
    "read_examples",
    "regression_metrics",
    "sib_task",
]

_SPLIT_PATTERNS = {
    "train": ("train.tsv", "train.csv", "train.jsonl", "train.json"),
    "dev": tuple(f"{n}.{e}" for n in ("dev", "validation", "valid") for e in ("tsv", "csv", "jsonl", "json")),
    "test": ("test.tsv", "test.csv", "test.jsonl", "test.json"),
}
_HF_SPLITS = {"train": ("train",), "dev": ("validation", "dev", "valid"), "test": ("test",)}
_SINGLE_COLUMNS = ("text", "sentence", "content")
_PAIR_COLUMNS = (
    ("premise", "hypothesis"),
    ("sentence1", "sentence2"),
    ("question", "sentence"),
    ("question1", "question2"),
    ("text_a", "text_b"),
    ("text1", "text2"),
)
# Spaces the GLUE-style tokenised text has around punctuation, removed as the published `glue_strip_spaces` does.
_STRIP = (
    (" ,", ","), (" .", "."), (" !", "!"), (" ?", "?"), (" #", "#"), (" /", "/"), (' "', '"'), ('" ', '"'),
    (" '", "'"), ("' ", "'"), (" n't", "n't"), ("( ", "("), (" )", ")"), ("[ ", "["), (" ]", "]"),
)  # fmt: skip


def glue_strip_spaces(text: str) -> str:
    for old, new in _STRIP:
        text = text.replace(old, new)
    return text


@dataclass
class TextExample:
    """One text (or text pair) with its label as a string (class name or number); None when predicting."""

    text: str | tuple[str, str]
    label: str | None = None
    id: str = ""
    source: str = ""
    line: int = 0

    def where(self) -> str:
        return f"{self.source}:{self.line}" if self.line else (self.source or "<input>")


def _rows(path: Path) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    """(header, [(line, row)]) of a TSV/CSV/JSON/JSONL file or an HF dataset folder."""
    if path.is_dir():
        import datasets

        dataset = datasets.load_from_disk(str(path))
        return list(dataset.column_names), [(i + 1, row) for i, row in enumerate(dataset)]
    suffix = path.suffix.lower()
    if suffix in (".tsv", ".csv"):
        f = open_text(path, newline="")
        # TSV fields are not quoted (SIB-200 texts contain bare quotes); CSV follows RFC 4180.
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE) if suffix == ".tsv" else csv.reader(f)
        header = next(reader, [])
        rows = []
        for values in reader:
            if not values:
                continue
            if len(values) != len(header):
                raise ValueError(
                    f"{path}:{reader.line_num}: {len(values)} fields, but the header has {len(header)}"
                )
            rows.append((reader.line_num, dict(zip(header, values, strict=True))))
        return header, rows
    if suffix == ".jsonl":
        lines = enumerate(open_text(path), start=1)
        rows = [(n, parse_json(line, path, first_line=n)) for n, line in lines if line.strip()]
    elif suffix == ".json":
        data = read_json(path)
        data = data.get("data", data) if isinstance(data, dict) else data
        rows = [(i + 1, row) for i, row in enumerate(data)]
    else:
        raise ValueError(
            f"{path}: unsupported file type {suffix!r} (use .tsv, .csv, .json, .jsonl or a dataset folder)"
        )
    header = list(dict.fromkeys(key for _, row in rows for key in row))
    return header, rows


def _text_columns(path: Path, header: list[str], wanted: Sequence[str] | None, pair: bool) -> tuple[str, ...]:
    if wanted is not None:
        columns = tuple(wanted)
    else:
        options = _PAIR_COLUMNS if pair else tuple((c,) for c in _SINGLE_COLUMNS)
        columns = next((o for o in options if all(c in header for c in o)), options[0])
    if len(columns) not in (1, 2):
        raise ValueError(f"{path}: give one text column or two (a pair), got {len(columns)}: {columns}")
    return columns


def read_examples(
    path: Path,
    text_columns: Sequence[str] | None = None,
    label_column: str | None = "label",
    id_column: str | None = None,
    pair: bool = False,
    strip_spaces: bool = False,
) -> list[TextExample]:
    """Examples of one split; a missing column raises ValueError naming the file and its header."""
    path = Path(path)
    header, rows = _rows(path)
    columns = _text_columns(path, header, text_columns, pair)
    needed = [*columns, *(c for c in (label_column, id_column) if c)]
    missing = [c for c in needed if c not in header]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; the header is {header}")
    examples = []
    for line, row in rows:
        texts = tuple(str(row[c]) for c in columns)
        if strip_spaces:
            texts = tuple(glue_strip_spaces(t) for t in texts)
        label = row.get(label_column) if label_column else None
        examples.append(
            TextExample(
                text=(texts[0], texts[1]) if len(texts) == 2 else texts[0],
                label=None if label is None else str(label),
                id=str(row[id_column]) if id_column else str(line),
                source=str(path),
                line=line,
            )
        )
    return examples


@dataclass
class TextEncoder:
    """Renders a text (or pair) to its Encoding, with `labels []` when the example has a label."""

    processor: PIXELProcessor
    label2id: dict[str, int] | None  # None: regression (float labels)

    def __call__(self, example: TextExample) -> dict[str, Any]:
        features: dict[str, Any] = {"encoding": self.processor.renderer(example.text)}
        if example.label is not None:
            if self.label2id is None:
                features["labels"] = torch.tensor(float(example.label), dtype=torch.float32)
            else:
                features["labels"] = torch.tensor(self.label2id[example.label], dtype=torch.long)
        return features


def classification_metrics(predicted: np.ndarray, gold: np.ndarray) -> dict[str, float]:
    """Accuracy and macro-F1 (scikit-learn), as fractions."""
    from sklearn.metrics import accuracy_score, f1_score

    return {
        "accuracy": float(accuracy_score(gold, predicted)),
        "f1": float(f1_score(gold, predicted, average="macro", zero_division=0)),
    }


def regression_metrics(predicted: np.ndarray, gold: np.ndarray) -> dict[str, float]:
    """Pearson and Spearman correlation (scipy) and the mean squared error."""
    from scipy.stats import pearsonr, spearmanr

    predicted, gold = np.asarray(predicted, dtype=np.float64), np.asarray(gold, dtype=np.float64)
    return {
        "pearson": float(pearsonr(predicted, gold)[0]),
        "spearmanr": float(spearmanr(predicted, gold)[0]),
        "mse": float(np.mean((predicted - gold) ** 2)),
    }


@dataclass
class ClassificationTask(Task):
    """Sequence (pair) classification or regression with `PIXELForSequenceClassification`."""

    name: str = "classification"
    model_class_name: str = "PIXELForSequenceClassification"
    metric_for_best_model: str = "accuracy"
    default_max_seq_length: int = 256
    text_columns: tuple[str, ...] | None = (
        None  # None: "text"/"sentence", or a known pair such as premise/hypothesis
    )
    label_column: str = "label"
    id_column: str | None = None
    pair: bool = False
    regression: bool = False
    strip_spaces: bool = False  # the published glue_strip_spaces (SIB-200 applies it)
    pooling_mode: str = "mean"
    label_file_name: str | None = None  # a label list inside data_dir (SIB-200: labels.txt)
    top_k: int = 0  # `pixel predict --top_k`: the k best classes and their probabilities, written per example

    def __post_init__(self) -> None:
        if self.regression and self.metric_for_best_model in ("accuracy", "f1"):
            self.metric_for_best_model = "pearson"

    def find_split(self, data_dir: Path, split: str) -> Path:
        data_dir = Path(data_dir)
        if (data_dir / "dataset_dict.json").is_file():
            for name in _HF_SPLITS.get(split, (split,)):
                if (data_dir / name).is_dir():
                    return data_dir / name
            raise FileNotFoundError(f"{data_dir}: no {split} split folder ({' or '.join(_HF_SPLITS[split])})")
        return split_file(data_dir, split, _SPLIT_PATTERNS.get(split, (f"{split}.*",)))

    def read(self, path: Path) -> list[TextExample]:
        return read_examples(
            path,
            self.text_columns,
            self.label_column,
            self.id_column,
            pair=self.pair,
            strip_spaces=self.strip_spaces,
        )

    def labels(self, data_dir: Path, label_file: Path | None = None) -> list[str]:
        """Class names: a label file in its order; else `label_file_name` or the train labels, sorted (published)."""
        if self.regression:
            return ["score"]
        if label_file is not None:
            return read_label_list(Path(label_file))
        if self.label_file_name and (Path(data_dir) / self.label_file_name).is_file():
            return sorted(read_label_list(Path(data_dir) / self.label_file_name))
        labels = {e.label for e in self.read(self.find_split(data_dir, "train")) if e.label is not None}
        numeric = all(label.lstrip("-").isdigit() for label in labels)
        return sorted(labels, key=int if numeric else str)

    def dataset(
        self, examples: Sequence[TextExample], processor: PIXELProcessor, labels: list[str]
    ) -> RenderedDataset:
        label2id = None if self.regression else {label: i for i, label in enumerate(labels)}
        for example in examples:
            if example.label is None:
                continue
            if label2id is not None and example.label not in label2id:
                raise ValueError(
                    f"{example.where()}: unknown label {example.label!r}; known labels: {labels}"
                )
            if label2id is None:
                _check_float(example)
        return RenderedDataset(examples, TextEncoder(processor, label2id))

    def model_kwargs(self, labels: list[str]) -> dict[str, Any]:
        kwargs = {**super().model_kwargs(labels), "pooling_mode": self.pooling_mode}
        if self.regression:
            kwargs.update(num_labels=1, problem_type="regression")
        return kwargs

    def preprocess_logits_for_metrics(self, logits: Any, labels: Any) -> torch.Tensor:
        if isinstance(logits, tuple | list):
            logits = logits[0]
        return logits[..., 0].float() if self.regression else logits.argmax(-1)  # (B,)

    def compute_metrics(self, eval_pred: Any) -> dict[str, float]:
        predicted, gold = np.asarray(eval_pred.predictions), np.asarray(eval_pred.label_ids)
        return (
            regression_metrics(predicted, gold)
            if self.regression
            else classification_metrics(predicted, gold)
        )

    def baseline(
        self, gold: Any, dataset: RenderedDataset, train: Sequence[TextExample] | None, labels: list[str]
    ) -> Baseline:
        """The train split's majority class for every example (regression: its mean score)."""
        gold = np.asarray(gold)
        fit = [e.label for e in train or () if e.label is not None]
        from_eval = not fit
        if self.regression:
            mean = float(gold.mean()) if from_eval else float(np.mean([float(v) for v in fit]))
            # A constant prediction has no correlation with the gold scores: 0 is its Pearson/Spearman.
            metrics = {"pearson": 0.0, "spearmanr": 0.0, "mse": float(np.mean((gold - mean) ** 2))}
            return Baseline(metrics, f"mean score {mean:.4g} of {fitted_on(from_eval)}", from_eval)
        label2id = {label: i for i, label in enumerate(labels)}
        top = majority_id(gold if from_eval else [label2id[label] for label in fit], len(labels))
        metrics = classification_metrics(np.full_like(gold, top), gold)
        return Baseline(metrics, f"majority class {labels[top]!r} of {fitted_on(from_eval)}", from_eval)

    def predicted_classes(self, predictions: Any, gold: Any) -> np.ndarray | None:
        predictions = np.asarray(predictions)
        if self.regression:
            return None
        # (N,) from predicted ids, or from (N, C) class scores
        return predictions.argmax(-1) if predictions.ndim > 1 else predictions

    def class_probabilities(self, logits: Any, labels: Any) -> torch.Tensor:
        """Softmax over the classes `[B, C]`: what `write_predictions` takes to write the `top_k` best classes."""
        if isinstance(logits, tuple | list):
            logits = logits[0]
        return torch.softmax(logits.float(), dim=-1)

    def write_predictions(
        self, examples: Sequence[TextExample], predictions: np.ndarray, labels: list[str], path: Path
    ) -> None:
        """TSV: `id` (the example's line in its input: the raw text line, or the row's line in a TSV/CSV/JSONL
        file, its index for JSON and dataset folders), the task's own id column if it has one (SIB-200:
        `index_id`), the text column(s), gold label, predicted label (or score).

        `predictions` are class ids `[N]` (regression: scores `[N]`), or class probabilities `[N, C]`
        (`class_probabilities`), which add `top<i>`, `top<i>_prob` columns for the `top_k` best classes.
        """
        predictions = np.asarray(predictions)
        k = min(self.top_k, len(labels)) if predictions.ndim == 2 else 0
        own_id = [self.id_column] if self.id_column else []
        text_columns = ("text_a", "text_b") if any(isinstance(e.text, tuple) for e in examples) else ("text",)
        top = [f"top{i}{suffix}" for i in range(1, k + 1) for suffix in ("", "_prob")]
        with open(path, "w", encoding="utf-8") as f:
            f.write(_tsv_row(["id", *own_id, *text_columns, "label", "prediction", *top]))
            for example, prediction in zip(examples, predictions, strict=True):
                texts = example.text if isinstance(example.text, tuple) else (example.text,)
                ids = [str(example.line) if example.line else example.id, *([example.id] if own_id else [])]
                predicted = self._predicted_fields(prediction, labels, k)
                f.write(_tsv_row([*ids, *texts, example.label or "", *predicted]))

    def _predicted_fields(self, prediction: np.ndarray, labels: list[str], k: int) -> list[str]:
        """The predicted label (or score), then the k best classes with their probabilities; `prediction` is a
        class id, a score or class probabilities `[C]`."""
        if self.regression:
            return [f"{float(prediction):.6g}"]
        if prediction.ndim == 0:
            return [labels[int(prediction)]]
        best = np.argsort(-prediction, kind="stable")
        return [labels[best[0]], *(field for c in best[:k] for field in (labels[c], f"{prediction[c]:.4f}"))]

    def encode_raw(self, text: str, line: int = 1, source: str = "<input>") -> TextExample:
        # no id of its own: the `id` column is the line
        if self.pair:
            if "\t" not in text:
                raise ValueError(
                    f"{source}:{line}: pair classification input needs the two texts separated by a tab"
                )
            a, b = text.split("\t", 1)
            return TextExample((a, b), id="", source=source, line=line)
        text = glue_strip_spaces(text) if self.strip_spaces else text
        return TextExample(text, id="", source=source, line=line)


def _tsv_row(fields: Sequence[str]) -> str:
    """One unquoted TSV line (as SIB-200 files are); tabs and newlines inside a field become spaces."""
    return (
        "\t".join(
            " ".join(str(field).split()) if "\t" in str(field) or "\n" in str(field) else str(field)
            for field in fields
        )
        + "\n"
    )


def _check_float(example: TextExample) -> None:
    try:
        float(example.label)  # type: ignore[arg-type]
    except ValueError:
        raise ValueError(f"{example.where()}: regression label {example.label!r} is not a number") from None


def sib_task(**options: Any) -> ClassificationTask:
    """SIB-200 topic classification as published: `text` (spaces stripped), `category`, labels.txt, best on f1."""
    defaults = dict(
        name="sib",
        metric_for_best_model="f1",
        text_columns=("text",),
        label_column="category",
        id_column="index_id",
        strip_spaces=True,
        label_file_name="labels.txt",
    )
    return ClassificationTask(**{**defaults, **options})


def classification_task(**options: Any) -> ClassificationTask:
    return ClassificationTask(**options)


def pair_classification_task(**options: Any) -> ClassificationTask:
    return ClassificationTask(**{"name": "pair_classification", "pair": True, **options})
