"""The `Task` interface that `pixel.train.finetune` drives, the registry, and the pieces every task shares.

A task is reader + encoder + decode + metrics + writer (supar's split: math in `pixel.model`, format here). Features are
rendered on the fly in `__getitem__` (no feature cache), so a font or strategy change can never reuse stale images.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

if TYPE_CHECKING:
    from transformers import EvalPrediction

    from pixel.render import Encoding

__all__ = [
    "IGNORE_INDEX",
    "TASK_NAMES",
    "RenderedDataset",
    "Task",
    "TruncationReport",
    "get_task",
    "render_features",
    "stack_features",
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


class RenderedDataset(torch.utils.data.Dataset):
    """Examples encoded (rendered) on the fly: item i is `encoder(examples[i])`, a dict of tensors.

    `encoder` is a picklable object (DataLoader workers); word-level encoders also offer `dropped_words(example)`,
    which `truncation_report` uses.
    """

    def __init__(self, examples: Sequence[Any], encoder: Callable[[Any], dict[str, torch.Tensor]]):
        self.examples = list(examples)
        self.encoder = encoder

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
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


def stack_features(features: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Data collator: every feature of a task has a fixed shape, so a batch is a stack per key."""
    return {key: torch.stack([f[key] for f in features]) for key in features[0]}


def render_features(encoding: Encoding, max_seq_length: int) -> dict[str, torch.Tensor]:
    """`pixel_values [3, 16, 16*L]` (white-padded or cropped to L patches) and `attention_mask [L]` of an Encoding."""
    from pixel.data.transforms import pixel_values_to_tensor
    from pixel.render import get_attention_mask

    pixels = pixel_values_to_tensor(encoding.pixel_values)  # (3, 16, W)
    width = 16 * max_seq_length
    if pixels.shape[-1] < width:
        pixels = torch.nn.functional.pad(pixels, (0, width - pixels.shape[-1]), value=1.0)
    mask = get_attention_mask(encoding.num_text_patches, max_seq_length)
    return {
        "pixel_values": pixels[..., :width].contiguous(),
        "attention_mask": torch.as_tensor(np.asarray(mask, dtype=np.float32)),
    }


def check_renderer(renderer: Any, max_seq_length: int) -> None:
    """Truncation and the EOS patch depend on the canvas width, so it must equal the model's sequence length."""
    if getattr(renderer, "max_seq_length", max_seq_length) != max_seq_length:
        raise ValueError(
            f"renderer.max_seq_length is {renderer.max_seq_length} but the dataset is built for "
            f"max_seq_length={max_seq_length}; set `renderer.max_seq_length = {max_seq_length}` first"
        )


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
        self, examples: Sequence[Any], renderer: Any, labels: list[str], max_seq_length: int
    ) -> RenderedDataset:
        raise NotImplementedError

    def collate(self, features: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        return stack_features(features)

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

    def write_predictions(
        self, examples: Sequence[Any], predictions: Any, labels: list[str], path: Path
    ) -> None:
        raise NotImplementedError

    def encode_raw(self, text: str) -> Any:
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
