"""Extractive question answering (`qa`): TyDiQA-GoldP / SQuAD JSON, pair rendering with an overflow stride.

The question is text_a, the context text_b. A context too long for one strip is cut into windows at word level
(`stride` patches of overlap), each window one feature. Answers are aligned at word granularity: the answer's
characters are mapped to the whitespace-separated context words they touch, and the gold positions are the first
patch of the first word and the last patch of the last word. A window without the whole answer points both
positions at the CLS slot (index L of the head's logits, where `PIXELForQuestionAnswering` puts CLS). Decoding
picks the best word span over all windows of an example and returns the context characters it covers; metrics are
SQuAD's exact match and token F1 (x100).

With the `continuous` renderer (original PIXEL) text is not patch-aligned, so the unit is the patch instead of the
word, as in the published PIXEL QA: windows are the renderer's own overflow windows, every text_b patch carries the
context characters its `offset_mapping` gives, the gold positions are the patches holding the answer's first and
last characters, and decoding returns the characters from the best start patch to the best end patch (right to
left: the start patch is right of the end patch).
"""

from __future__ import annotations

import collections
import dataclasses
import json
import logging
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from tqdm.auto import tqdm

from pixel.tasks.base import (
    Baseline,
    RenderedDataset,
    Task,
    read_json,
    split_file,
)

if TYPE_CHECKING:
    from pixel.data.processor import PIXELProcessor

__all__ = ["QAExample", "QATask", "Window", "decode_answers", "read_squad", "squad_metrics"]

logger = logging.getLogger(__name__)

_SPLIT_FILES = ("{split}.json", "{split}-v*.json", "*{split}*.json")


@dataclass
class QAExample:
    id: str
    question: str
    context: str
    answers: list[dict[str, Any]] = field(default_factory=list)  # {"text": str, "answer_start": int}
    source: str = ""

    def word_spans(self) -> list[tuple[int, int]]:
        """Character (start, end) of each whitespace-separated context word, the renderer's word split."""
        return [m.span() for m in re.finditer(r"\S+", self.context)]


def read_squad(path: Path) -> list[QAExample]:
    """SQuAD-format JSON (`data` -> `paragraphs` -> `qas`), as TyDiQA-GoldP ships; errors name the file."""
    path = Path(path)
    try:
        data = read_json(path)["data"]
    except (KeyError, TypeError) as error:
        raise ValueError(f"{path}: not SQuAD-format JSON with a top-level 'data' list ({error})") from None
    examples = []
    for article in data:
        for paragraph in article.get("paragraphs", []):
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                answers = [
                    {"text": a["text"], "answer_start": int(a["answer_start"])} for a in qa.get("answers", [])
                ]
                for answer in answers:
                    start = answer["answer_start"]
                    if context[start : start + len(answer["text"])] != answer["text"]:
                        raise ValueError(
                            f"{path}: question {qa['id']}: answer {answer['text']!r} not at {start}"
                        )
                examples.append(QAExample(str(qa["id"]), qa["question"], context, answers, str(path)))
    return examples


@dataclass
class Window:
    """One feature: example `example`, context words `offset .. offset + len(starts) - 1` of the rendered order."""

    example: int
    offset: int  # (continuous: the window's index among its example's windows)
    starts: list[int]  # first patch of each context word in the window (continuous: each text patch)
    end: int  # first patch after the last context word (the EOS patch)
    rtl: bool
    spans: list[tuple[int, int]] | None = None  # continuous: context characters [lo, hi) of each patch


def _context_words(example: QAExample) -> list[str]:
    return example.context.split()


def _answer_words(example: QAExample) -> tuple[int, int] | None:
    """(first, last) context word index touched by the first answer, None without answer."""
    if not example.answers:
        return None
    start = example.answers[0]["answer_start"]
    end = start + len(example.answers[0]["text"])
    touched = [i for i, (s, e) in enumerate(example.word_spans()) if s < end and e > start]
    return (touched[0], touched[-1]) if touched else None


@dataclass
class QAEncoder:
    """Renders window k of the dataset; `windows` is filled once by `QATask.dataset` (rendering every example)."""

    processor: PIXELProcessor
    examples: list[QAExample]
    stride: int
    windows: list[Window] = field(default_factory=list)
    _last: tuple[int, list[Any]] | None = field(default=None, repr=False)  # continuous: one example's windows

    def __post_init__(self) -> None:
        # a renderer whose pairs come with an offset_mapping (continuous) does not align text to patches
        self.continuous = self.renderer.uses("return_offset_mapping", "pair")

    @property
    def renderer(self) -> Any:
        return self.processor.renderer

    @property
    def max_seq_length(self) -> int:
        return self.processor.max_seq_length

    def _continuous_encodings(self, index: int) -> list[Any]:
        """The first strip and the overflow windows of example ``index`` (the published PIXEL sliding window)."""
        if self._last is None or self._last[0] != index:
            example = self.examples[index]
            first = self.renderer(
                (example.question, example.context), stride=self.stride, return_overflowing_patches=True
            )
            self._last = (index, [first, *(first.overflowing_patches or [])])
        return self._last[1]

    @staticmethod
    def _continuous_window(index: int, k: int, encoding: Any) -> Window:
        sep, eos = encoding.sep_patches[0], encoding.num_text_patches
        patches = [
            (p, span)
            for p, span in enumerate(encoding.offset_mapping[:eos])
            if p > sep and span[0] >= 0 and span[0] != span[1]
        ]
        rtl = any(a > b for _, (a, b) in patches)  # right-to-left spans count down
        spans = [(min(a, b), max(a, b)) for _, (a, b) in patches]
        return Window(index, k, [p for p, _ in patches], eos, rtl, spans)

    def _render(self, example: QAExample, words: list[str], rtl: bool, overflow: bool) -> Any:
        # RTL pairs are drawn in reversed word order: `words` is the drawn order, the text is the reading order.
        text = " ".join(words[::-1] if rtl else words)
        return self.renderer(
            (example.question, text), stride=self.stride, return_overflowing_patches=overflow
        )

    def _window(self, index: int, offset: int, encoding: Any) -> Window:
        b_map = encoding.word_patch_map["text_b"]
        kept = b_map["word_list_truncation_index"] + 1  # (the index of the last word kept)
        starts = [b_map["word_order_on_canvas"][i]["start_patch_index"] for i in range(kept)]
        return Window(index, offset, starts, encoding.word_starts[-1], bool(b_map["is_rtl"]))

    def build_windows(self, progress: bool = True) -> None:
        for index, example in enumerate(tqdm(self.examples, desc="QA windows", disable=not progress)):
            if self.continuous:
                for k, encoding in enumerate(self._continuous_encodings(index)):
                    self.windows.append(self._continuous_window(index, k, encoding))
                continue
            first = self.renderer((example.question, example.context), stride=self.stride,
                                  return_overflowing_patches=True)  # fmt: skip
            self.windows.append(self._window(index, 0, first))
            for window in first.overflowing_patches or []:
                self.windows.append(self._window(index, window.word_patch_map["text_b_word_offset"], window))

    def __call__(self, window: Window) -> dict[str, Any]:
        example = self.examples[window.example]
        if self.continuous:
            encoding = self._continuous_encodings(window.example)[window.offset]
            # the first window holds all the others: not shipped from DataLoader workers with every item
            return self._features(dataclasses.replace(encoding, overflowing_patches=None), window)
        words = _context_words(example)
        drawn = words[::-1] if window.rtl else words
        drawn = drawn[window.offset : window.offset + len(window.starts)]
        encoding = self._render(example, drawn, window.rtl, overflow=False)
        if self._window(window.example, window.offset, encoding).starts != window.starts:
            # the sub-context can flip the renderer's RTL vote; the answer positions would then be wrong
            logger.warning(
                "question %s: window at word %d re-rendered differently", example.id, window.offset
            )
        return self._features(encoding, window)

    def _features(self, encoding: Any, window: Window) -> dict[str, Any]:
        start, end = self.positions(window)
        return {
            "encoding": encoding,
            "start_positions": torch.tensor(start, dtype=torch.long),
            "end_positions": torch.tensor(end, dtype=torch.long),
        }

    def positions(self, window: Window) -> tuple[int, int]:
        """Gold (start, end) patch of the answer in this window; CLS (= L) when the window lacks it."""
        cls = self.max_seq_length
        example = self.examples[window.example]
        if window.spans is not None:  # continuous: the patches holding the answer's first and last characters
            if not example.answers:
                return cls, cls
            first = example.answers[0]["answer_start"]
            last = first + len(example.answers[0]["text"]) - 1
            holding = [
                next(
                    (p for p, (lo, hi) in zip(window.starts, window.spans, strict=True) if lo <= c < hi), None
                )
                for c in (first, last)
            ]
            start, end = holding
            return (start, end) if start is not None and end is not None else (cls, cls)
        span = _answer_words(example)
        if span is None:
            return cls, cls
        n_words = len(_context_words(self.examples[window.example]))
        first, last = span
        if window.rtl:  # drawn order is reversed: the answer's last word is drawn first
            first, last = n_words - 1 - last, n_words - 1 - first
        first, last = first - window.offset, last - window.offset
        if first < 0 or last >= len(window.starts):
            return cls, cls
        bounds = [*window.starts, window.end]
        return window.starts[first], max(bounds[last + 1] - 1, window.starts[last])


def decode_answers(
    dataset: RenderedDataset[QAEncoder],
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    max_answer_words: int = 30,
) -> dict[str, str]:
    """Best answer text per example id: argmax of start+end logits over word spans of every window.

    Continuous windows score patch spans instead (at most ``2 * max_answer_words`` patches).
    """
    encoder = dataset.encoder
    best: dict[int, tuple[float, int, int]] = {}  # example -> (score, first char, end char)
    for k, window in enumerate(dataset.examples):
        n = len(window.starts)
        if n == 0:
            continue
        if window.spans is not None:
            starts = start_logits[k][window.starts]  # (W,)
            ends = end_logits[k][window.starts]  # (W,)
            limit = 2 * max_answer_words
        else:
            bounds = [*window.starts, window.end]
            starts = start_logits[k][window.starts]  # (W,)
            ends = end_logits[k][
                [max(b - 1, s) for b, s in zip(bounds[1:], window.starts, strict=True)]
            ]  # (W,)
            limit = max_answer_words
        scores = starts[:, None] + ends[None, :]  # (W, W): first unit i, last unit j
        forward = np.triu(np.ones((n, n), dtype=bool)) & ~np.triu(np.ones((n, n), dtype=bool), k=limit)
        valid = (
            forward.T if window.rtl and window.spans is not None else forward
        )  # RTL patches: start right of end
        i, j = np.unravel_index(np.where(valid, scores, -np.inf).argmax(), scores.shape)
        score = float(scores[i, j])
        if window.example in best and score <= best[window.example][0]:
            continue
        example = encoder.examples[window.example]
        if window.spans is not None:
            lo = min(window.spans[i][0], window.spans[j][0])
            hi = max(window.spans[i][1], window.spans[j][1])
        else:
            words = len(_context_words(example))
            first, last = int(i) + window.offset, int(j) + window.offset
            if window.rtl:
                first, last = words - 1 - last, words - 1 - first
            spans = example.word_spans()
            lo, hi = spans[first][0], spans[last][1]
        best[window.example] = (score, lo, hi)
    return {
        example.id: example.context[best[index][1] : best[index][2]] if index in best else ""
        for index, example in enumerate(encoder.examples)
    }


def _normalize(text: str) -> str:
    """SQuAD answer normalisation: lower case, no punctuation, no English articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def _f1(prediction: str, gold: str) -> float:
    predicted, truth = _normalize(prediction).split(), _normalize(gold).split()
    common = sum((collections.Counter(predicted) & collections.Counter(truth)).values())
    if not predicted or not truth:
        return float(predicted == truth)
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(truth)
    return 2 * precision * recall / (precision + recall)


def squad_metrics(predictions: dict[str, str], examples: Sequence[QAExample]) -> dict[str, float]:
    """Exact match and F1 (x100), each the max over an example's gold answers, as the SQuAD v1.1 script."""
    exact = f1 = 0.0
    scored = [e for e in examples if e.answers]
    for example in scored:
        golds = [a["text"] for a in example.answers]
        prediction = predictions.get(example.id, "")
        exact += max(float(_normalize(prediction) == _normalize(g)) for g in golds)
        f1 += max(_f1(prediction, g) for g in golds)
    n = max(len(scored), 1)
    return {"exact_match": 100.0 * exact / n, "f1": 100.0 * f1 / n}


@dataclass
class QATask(Task):
    """`qa` with `PIXELForQuestionAnswering`; best model on SQuAD `f1`."""

    name: str = "qa"
    model_class_name: str = "PIXELForQuestionAnswering"
    metric_for_best_model: str = "f1"
    default_max_seq_length: int = 400
    # Patches shared by consecutive windows of a long context; None: 160 (400-patch windows), at most a quarter of
    # a shorter window. An explicit stride must leave room for new text in every window.
    stride: int | None = None
    max_answer_words: int = 30
    # dataset() per examples list (by id), so write_predictions can map window rows back to examples
    _datasets: dict[int, RenderedDataset[QAEncoder]] = field(default_factory=dict, repr=False)

    def find_split(self, data_dir: Path, split: str) -> Path:
        return split_file(data_dir, split, _SPLIT_FILES)

    def read(self, path: Path) -> list[QAExample]:
        return read_squad(path)

    def labels(self, data_dir: Path | None = None, label_file: Path | None = None) -> list[str]:
        return []

    def model_kwargs(self, labels: list[str]) -> dict[str, Any]:
        return {}

    def dataset(
        self, examples: Sequence[QAExample], processor: PIXELProcessor, labels: list[str]
    ) -> RenderedDataset[QAEncoder]:
        """Renders every example once to find its windows; items are windows (several per long context)."""
        stride = self.window_stride(processor.max_seq_length)
        encoder = QAEncoder(processor, list(examples), stride)
        encoder.build_windows()
        dataset = RenderedDataset(encoder.windows, encoder)
        self._datasets[id(examples)] = dataset
        return dataset

    def window_stride(self, max_seq_length: int) -> int:
        if self.stride is None:
            return min(160, max_seq_length // 4)
        if not 0 <= self.stride < max_seq_length // 2:
            raise ValueError(
                f"--doc_stride={self.stride} must be from 0 to {max_seq_length // 2 - 1} for "
                f"--max_seq_length={max_seq_length} (windows share the stride; the rest must be new text)"
            )
        return self.stride

    def preprocess_logits_for_metrics(self, logits: Any, labels: Any) -> torch.Tensor:
        start, end = logits[0], logits[1]  # (B, L+1) each
        return torch.stack([start, end], dim=1).float()  # (B, 2, L+1)

    def compute_metrics(self, eval_pred: Any) -> dict[str, float]:
        raise RuntimeError("QA metrics need the evaluation dataset: use task.metrics_for(dataset)")

    def metrics_for(self, dataset: RenderedDataset[QAEncoder]) -> Any:
        def compute(eval_pred: Any) -> dict[str, float]:
            logits = np.asarray(eval_pred.predictions)
            answers = decode_answers(dataset, logits[:, 0], logits[:, 1], self.max_answer_words)
            return squad_metrics(answers, dataset.encoder.examples)

        return compute

    def baseline(
        self,
        gold: Any,
        dataset: RenderedDataset[QAEncoder],
        train: Sequence[QAExample] | None,
        labels: list[str],
    ) -> Baseline:
        """The first word of the context as every answer (an empty answer scores 0); needs no statistics."""
        examples = dataset.encoder.examples
        answers = {e.id: next(iter(e.context.split()), "") for e in examples}
        return Baseline(squad_metrics(answers, examples), "the first context word as every answer")

    def write_predictions(
        self, examples: Sequence[QAExample], predictions: np.ndarray, labels: list[str], path: Path
    ) -> None:
        """JSON {id: answer text} as SQuAD's evaluation script reads; `examples` is the list given to `dataset()`."""
        dataset = self._datasets.get(id(examples))
        if dataset is None:
            raise ValueError(
                "QATask.write_predictions needs the same examples list that was passed to dataset()"
            )
        logits = np.asarray(predictions)  # (windows, 2, L+1)
        answers = decode_answers(dataset, logits[:, 0], logits[:, 1], self.max_answer_words)
        Path(path).write_text(json.dumps(answers, ensure_ascii=False, indent=1), encoding="utf-8")

    def encode_raw(self, text: str, line: int = 1, source: str = "<input>") -> QAExample:
        if "\t" not in text:
            raise ValueError(
                f"{source}:{line}: QA input needs the question and the context separated by a tab"
            )
        question, context = text.split("\t", 1)
        return QAExample(str(line), question, context, source=source)  # answers are keyed by the line number
