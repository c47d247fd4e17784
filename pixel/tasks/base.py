"""The `Task` interface that `pixel.train.finetune` drives, the registry, and the pieces every task shares.

A task is reader + encoder + decode + metrics + writer (supar's split: math in `pixel.model`, format here). Examples
are rendered on the fly in `__getitem__` (no feature cache), so a font or strategy change can never reuse stale images;
the processor's `EncodingCollator` turns the rendered items into batches, as `PIXELProcessor` batches raw text.

Every reader takes its text through `read_text` / `open_text` / `read_json` / `read_label_list` here, so a data file
in the wrong encoding, malformed JSON or a bad label list fails the same way for every task: one ValueError naming
the file, the line and the fix.
"""

from __future__ import annotations

import codecs
import io
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import numpy as np
import torch

if TYPE_CHECKING:
    from transformers import EvalPrediction

    from pixel.data.processor import EncodingCollator, PIXELProcessor

__all__ = [
    "IGNORE_INDEX",
    "TASK_NAMES",
    "Baseline",
    "RenderedDataset",
    "Task",
    "TruncationReport",
    "collapsed_class",
    "get_task",
    "majority_id",
    "open_text",
    "parse_json",
    "read_json",
    "read_label_list",
    "read_text",
    "reported_metrics",
]

logger = logging.getLogger(__name__)

# Label value the losses skip (torch CrossEntropyLoss ignore_index) and the Trainer pads with.
IGNORE_INDEX = -100


@dataclass
class TruncationReport:
    """What the renderer's word-level truncation cut from a dataset: dropped words are never scored silently."""

    examples: int = 0
    truncated_examples: int = 0
    words: int = 0
    dropped_words: int = 0

    def as_metrics(self, prefix: str = "") -> dict[str, int]:
        return {f"{prefix}{k}": v for k, v in vars(self).items()}


@dataclass
class Baseline:
    """A task's trivial baseline scored on one evaluated split, with the same metric keys as `compute_metrics`.

    `from_eval_split` is True when its statistics (majority class, chain direction, ...) were taken from the
    evaluated split itself because no train split was loaded: an optimistic baseline, flagged as such.
    """

    metrics: dict[str, float]
    description: str  # what it predicts, e.g. "majority class 'health' of the train split"
    from_eval_split: bool = False


def majority_id(ids: Sequence[int] | np.ndarray, num_labels: int) -> int:
    """The most frequent label id (ties go to the lowest id, i.e. the first in the label list); -100 is skipped."""
    ids = np.asarray(ids, dtype=np.int64).ravel()
    counts = np.bincount(ids[ids != IGNORE_INDEX], minlength=num_labels)
    return int(counts.argmax())


def fitted_on(from_eval_split: bool) -> str:
    return "the evaluated split (no train split loaded)" if from_eval_split else "the train split"


def collapsed_class(classes: np.ndarray | None) -> int | None:
    """The one class id that every prediction falls in; None for fewer than two predictions or several classes."""
    if classes is None:
        return None
    classes = np.asarray(classes).ravel()
    if len(classes) < 2 or not (classes == classes[0]).all():
        return None
    return int(classes[0])


def reported_metrics(
    task: Task, dataset: RenderedDataset, labels: list[str], train: Sequence[Any] | None = None
) -> Callable[[EvalPrediction], dict[str, float]]:
    """`task.metrics_for(dataset)` plus what every evaluation report carries next to the scores.

    Added keys (the Trainer prefixes them with `eval_` / `test_`): `baseline_<metric>` for each metric the task's
    trivial baseline scores (fit on `train`, else on the evaluated split), `baseline_from_eval_split` (1 when no
    train split was given) and `collapsed` (1 when every prediction is one class, which is also logged as a WARNING
    naming the class). A model stuck at its baseline is then visible in every results file.
    """
    compute = task.metrics_for(dataset)
    described: list[str] = []

    def report(eval_pred: EvalPrediction) -> dict[str, float]:
        metrics = dict(compute(eval_pred))
        baseline = task.baseline(eval_pred.label_ids, dataset, train, labels)
        if baseline.description not in described:  # once per dataset, not at every evaluation
            described.append(baseline.description)
            logger.info("trivial baseline on %d examples: %s", len(dataset), baseline.description)
        metrics.update({f"baseline_{key}": float(value) for key, value in baseline.metrics.items()})
        metrics["baseline_from_eval_split"] = int(baseline.from_eval_split)
        classes = task.predicted_classes(eval_pred.predictions, eval_pred.label_ids)
        one = collapsed_class(classes)
        if one is not None:
            name = labels[one] if 0 <= one < len(labels) else str(one)
            logger.warning(
                "all %d predictions of this evaluation are %r: the model has collapsed to one class "
                "(trivial baseline: %s)",
                np.asarray(classes).size,
                name,
                baseline.description,
            )
        metrics["collapsed"] = int(one is not None)
        return metrics

    return report


EncoderT = TypeVar("EncoderT", bound=Callable[[Any], dict[str, Any]])


class RenderedDataset(torch.utils.data.Dataset, Generic[EncoderT]):
    """Examples encoded (rendered) on the fly: item i is `encoder(examples[i])`, a dict with the rendered
    `"encoding"` and the example's label tensors, which `Task.collator` batches.

    `encoder` is a picklable object (DataLoader workers); word-level encoders also offer `dropped_words(example)`,
    which `truncation_report` uses. The type parameter is the encoder's class, for tasks that read it back (QA).
    """

    def __init__(self, examples: Sequence[Any], encoder: EncoderT):
        self.examples = list(examples)
        self.encoder = encoder

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.encoder(self.examples[index])

    def truncation_report(self, progress: bool = True) -> TruncationReport:
        """Render every example once and count the words that truncation drops (word-level tasks only)."""
        from tqdm.auto import tqdm

        count = getattr(self.encoder, "dropped_words", None)
        report = TruncationReport(examples=len(self.examples))
        if count is None:
            return report
        for example in tqdm(self.examples, desc="truncation check", disable=not progress):
            dropped = count(example)
            report.words += len(example.words)
            report.dropped_words += dropped
            report.truncated_examples += dropped > 0
        if report.dropped_words:
            logger.warning(
                "truncation dropped %d of %d words in %d of %d examples (see the task docs for how they are scored)",
                report.dropped_words,
                report.words,
                report.truncated_examples,
                report.examples,
            )
        return report


# Byte-order marks of the encodings that are not UTF-8, longest first (the UTF-32 LE mark starts like UTF-16 LE's).
_FOREIGN_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _reencode_hint(path: Path, encoding: str) -> str:
    return f"re-encode it as UTF-8, e.g. iconv -f {encoding} -t utf-8 {path} > {path}.utf8"


def _line_at(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def read_text(path: Path) -> str:
    """The text of a UTF-8 file (a UTF-8 byte-order mark is dropped).

    Any other encoding raises ValueError naming the file, the line and byte where decoding failed, and the iconv
    command that converts it: guessing an encoding would silently mis-read the text. UTF-16 without a byte-order mark
    can decode as UTF-8 with NUL bytes, so a NUL byte is refused too.
    """
    path = Path(path)
    data = path.read_bytes()
    for bom, encoding in _FOREIGN_BOMS:
        if data.startswith(bom):
            raise ValueError(
                f"{path}:1: the file is {encoding.upper()} (it starts with a byte-order mark), not UTF-8; "
                + _reencode_hint(path, encoding)
            )
    if b"\0" in data:  # before decoding: UTF-16 without a byte-order mark may also fail to decode further on
        offset = data.index(b"\0")
        raise ValueError(
            f"{path}:{_line_at(data, offset)}: NUL byte at offset {offset}: the file looks like UTF-16 "
            "without a byte-order mark; " + _reencode_hint(path, "utf-16le")
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        byte, offset = data[error.start], error.start
        raise ValueError(
            f"{path}:{_line_at(data, offset)}: not UTF-8 (byte 0x{byte:02x} at offset {offset}); "
            + _reencode_hint(path, "latin1")
            + " (with -f the file's real encoding)"
        ) from None
    return text.removeprefix("\ufeff")


def open_text(path: Path, newline: str | None = None) -> io.StringIO:
    """`read_text(path)` as a file object to iterate lines over; `newline` as for `open` ("" for the csv module)."""
    return io.StringIO(read_text(path), newline=newline)


def parse_json(text: str, path: Path, first_line: int = 1) -> Any:
    """`json.loads(text)`; malformed JSON raises ValueError naming the file and line (`text` starts on `first_line`)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        line = first_line + error.lineno - 1
        raise ValueError(f"{path}:{line}: invalid JSON at column {error.colno}: {error.msg}") from None


def read_json(path: Path) -> Any:
    return parse_json(read_text(path), path)


def read_label_list(path: Path) -> list[str]:
    """One label per line, in file order; blank lines after the last label are ignored.

    A blank line between labels or a label listed twice raises ValueError naming the file, line and label: either
    would silently give the model an unnamed class or two classes of the same name.
    """
    path = Path(path)
    rows = [line.strip() for line in open_text(path)]
    while rows and not rows[-1]:
        rows.pop()
    first_seen: dict[str, int] = {}
    for number, label in enumerate(rows, start=1):
        if not label:
            raise ValueError(f"{path}:{number}: blank line in the label list; remove it (one label per line)")
        if label in first_seen:
            raise ValueError(
                f"{path}:{number}: label {label!r} is listed twice (first on line {first_seen[label]}); "
                "remove the duplicate"
            )
        first_seen[label] = number
    if not first_seen:
        raise ValueError(f"{path}: the label list is empty (one label per line)")
    return list(first_seen)


def split_file(data_dir: Path, split: str, patterns: Sequence[str]) -> Path:
    """The one file in `data_dir` matching the first pattern that matches (`{split}` is substituted)."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise FileNotFoundError(f"data directory {data_dir} does not exist")
    tried = [p.format(split=split) for p in patterns]
    for pattern in tried:
        matches = sorted(data_dir.glob(pattern))
        if len(matches) > 1:
            raise FileNotFoundError(
                f"{len(matches)} files match {data_dir / pattern}: {[m.name for m in matches]}"
            )
        if matches:
            return matches[0]
    raise FileNotFoundError(
        f"no {split} split in {data_dir}: missing file {data_dir / tried[0]}"
        + (f" (also tried {', '.join(tried[1:])})" if len(tried) > 1 else "")
    )


@dataclass
class Task:
    """Base of every task; subclasses fill in reading, encoding, decoding, metrics and writing.

    `model_class` is resolved lazily from `model_class_name` so that building a task does not import the model.
    """

    name: str
    model_class_name: str
    metric_for_best_model: str  # key without the "eval_" prefix
    default_max_seq_length: int

    @property
    def model_class(self) -> type:
        return getattr(import_module("pixel.model"), self.model_class_name)

    @property
    def greater_is_better(self) -> bool:
        return True

    def find_split(self, data_dir: Path, split: str) -> Path:
        raise NotImplementedError

    def read(self, path: Path) -> list[Any]:
        raise NotImplementedError

    def labels(self, data_dir: Path, label_file: Path | None = None) -> list[str]:
        raise NotImplementedError

    def dataset(
        self, examples: Sequence[Any], processor: PIXELProcessor, labels: list[str]
    ) -> RenderedDataset:
        """Items rendered with `processor.renderer`, labelled for `processor.max_seq_length` patches."""
        raise NotImplementedError

    def collator(self, processor: PIXELProcessor) -> EncodingCollator:
        """The data collator for this task's datasets (the Trainer's `data_collator`)."""
        from pixel.data.processor import EncodingCollator

        return EncodingCollator(processor.max_seq_length)

    def model_kwargs(self, labels: list[str]) -> dict[str, Any]:
        return {
            "num_labels": len(labels),
            "id2label": dict(enumerate(labels)),
            "label2id": {label: i for i, label in enumerate(labels)},
        }

    def preprocess_logits_for_metrics(
        self, logits: Any, labels: Any
    ) -> torch.Tensor | tuple[torch.Tensor, ...]:
        raise NotImplementedError

    def compute_metrics(self, eval_pred: EvalPrediction) -> dict[str, float]:
        raise NotImplementedError

    def metrics_for(self, dataset: RenderedDataset) -> Callable[[EvalPrediction], dict[str, float]]:
        """`compute_metrics` for one evaluation dataset; only QA needs the dataset (to map windows to answers)."""
        return self.compute_metrics

    def baseline(
        self, gold: Any, dataset: RenderedDataset, train: Sequence[Any] | None, labels: list[str]
    ) -> Baseline:
        """The trivial baseline scored on `gold` (the Trainer's `label_ids` for `dataset`) with `compute_metrics`'s
        keys; its statistics come from the `train` examples, or from `gold` itself when `train` is None."""
        raise NotImplementedError

    def predicted_classes(self, predictions: Any, gold: Any) -> np.ndarray | None:
        """Class id of every scored prediction (for the collapse check); None for a task without classes."""
        return None

    def write_predictions(
        self, examples: Sequence[Any], predictions: Any, labels: list[str], path: Path
    ) -> None:
        raise NotImplementedError

    def read_for_prediction(self, path: Path) -> list[Any]:
        """A file in the task's format to predict on (`pixel predict --input_format task`): like `read`, but gold
        annotations that prediction does not use need not be valid (the parser takes sentences without a tree)."""
        return self.read(path)

    def encode_raw(self, text: str, line: int = 1, source: str = "<input>") -> Any:
        """One raw input line (line `line` of `source`) as an example to predict on; its id is the line number."""
        raise NotImplementedError


# name -> (module, factory). Factories take keyword options (e.g. text columns) and return a Task.
_REGISTRY: dict[str, tuple[str, str]] = {
    "ud": ("pixel.tasks.ud", "ParsingTask"),
    "pos": ("pixel.tasks.ud", "POSTask"),
    "ner": ("pixel.tasks.ner", "NERTask"),
    "sib": ("pixel.tasks.classification", "sib_task"),
    "classification": ("pixel.tasks.classification", "classification_task"),
    "pair_classification": ("pixel.tasks.classification", "pair_classification_task"),
    "qa": ("pixel.tasks.qa", "QATask"),
}
TASK_NAMES = tuple(_REGISTRY)


def get_task(name: str, **options: Any) -> Task:
    """The task called `name` (one of TASK_NAMES); `options` go to its constructor (e.g. `text_columns=`)."""
    if name not in _REGISTRY:
        raise KeyError(f"unknown task {name!r}; choose one of {', '.join(TASK_NAMES)}")
    module, factory = _REGISTRY[name]
    return getattr(import_module(module), factory)(**options)
