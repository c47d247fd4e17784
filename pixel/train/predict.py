"""``pixel predict``: run a finetuned model on raw text or a file and write the task's prediction format.

The task comes from the saved config (``finetuning_task``, written by ``pixel finetune``), else from the
architecture (``PIXELForBiaffineParsing`` -> ud, ...). Raw text is one sentence per line, whitespace-tokenised
for word-level tasks; ``--input_format task`` reads a file in the task's own format (e.g. CoNLL-U) instead and
re-annotates it. Output: CoNLL-U (ud, pos), CoNLL (ner), TSV (classification), JSON (qa).

Every request is checked (input file, output extension, flags) and the input read before the model is loaded,
so a typo fails in a second, not after the model has loaded. Raw lines keep their line number as id
(``pixel.data.raw_input``).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

from pixel.cli import ArgumentParser, UsageError, run_command
from pixel.data.raw_input import RawLine, raw_lines, unsegmented_word

__all__ = ["OUTPUT_SUFFIXES", "infer_task", "main", "predict"]

logger = logging.getLogger(__name__)

# File name endings of each task's prediction format (what `write_predictions` writes).
OUTPUT_SUFFIXES = {
    "ud": (".conllu",),
    "pos": (".conllu",),
    "ner": (".conll", ".txt"),
    "sib": (".tsv",),
    "classification": (".tsv",),
    "pair_classification": (".tsv",),
    "qa": (".json",),
}
_FORMATS = {".conllu": "CoNLL-U", ".conll": "CoNLL", ".tsv": "TSV", ".json": "JSON"}
_WORD_LEVEL = ("ud", "pos", "ner")  # raw text is split on whitespace into words
_CLASSIFIERS = ("sib", "classification", "pair_classification")

_ARCHITECTURE_TASKS = {
    "PIXELForBiaffineParsing": "ud",
    "PIXELForSequenceClassification": "classification",
    "PIXELForQuestionAnswering": "qa",
}


def infer_task(config: dict[str, Any]) -> str:
    """Task name of a finetuned model folder's ``config.json`` contents."""
    from pixel.tasks.base import TASK_NAMES
    from pixel.tasks.treebank import UPOS_LABELS

    if config.get("finetuning_task") in TASK_NAMES:
        return config["finetuning_task"]
    architectures = config.get("architectures") or []
    architecture = architectures[0] if architectures else None
    if architecture in _ARCHITECTURE_TASKS:
        return _ARCHITECTURE_TASKS[architecture]
    if architecture == "PIXELForTokenClassification":
        return "pos" if set((config.get("id2label") or {}).values()) == set(UPOS_LABELS) else "ner"
    raise ValueError(
        f"cannot tell the task of a model with architectures={architectures} and no finetuning_task; "
        "pass --task"
    )


def _parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="pixel predict", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="folder of a model finetuned with `pixel finetune`")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--text", help="one sentence (or several, one per line)")
    source.add_argument(
        "--input", type=Path, help="file: raw text, one sentence per line (see --input_format)"
    )
    parser.add_argument(
        "--output",
        type=Path,
        required=True,
        help="prediction file to write: .conllu (ud, pos), .conll (ner), .tsv (classifiers), .json (qa)",
    )
    parser.add_argument(
        "--input_format",
        choices=("raw", "task"),
        default="raw",
        help="'task': read --input in the task's format (e.g. CoNLL-U) and re-annotate it",
    )
    parser.add_argument("--task", help="override the task inferred from the model's config")
    parser.add_argument(
        "--top_k",
        type=int,
        help="classifiers: also write the K best classes and their softmax probabilities (topI, topI_prob)",
    )
    parser.add_argument("--max_seq_length", type=int, help="default: the renderer's saved max_seq_length")
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--fallback_fonts_dir", help="fallback fonts for the renderer")
    return parser  # fmt: skip


def _read_config(model_dir: Path) -> dict[str, Any]:
    config_path = model_dir / "config.json"
    if not config_path.exists():
        raise FileNotFoundError(f"{config_path} does not exist: --model must be a finetuned model folder")
    return json.loads(config_path.read_text(encoding="utf-8"))


def _check_request(args: argparse.Namespace, task_name: str, config: dict[str, Any]) -> None:
    """Fail on a bad request before anything is loaded: the input file, the output format, --top_k."""
    if args.input is not None and not args.input.exists():
        raise FileNotFoundError(f"--input {args.input} does not exist")
    if args.input is not None and args.input.is_dir() and args.input_format == "raw":
        raise ValueError(f"--input {args.input} is a folder; raw input is a text file, one sentence per line")
    suffixes = OUTPUT_SUFFIXES.get(task_name, ())
    if suffixes and args.output.suffix.lower() not in suffixes:
        raise UsageError(
            f"--output {args.output}: a {task_name} model writes {_FORMATS[suffixes[0]]}; "
            f"name the file *{' or *'.join(suffixes)}"
        )
    if args.top_k is not None:
        if task_name not in _CLASSIFIERS:
            raise UsageError(f"--top_k is for sequence classifiers; this model's task is {task_name}")
        if config.get("problem_type") == "regression":
            raise UsageError("--top_k: this model is a regression model (one score, no classes)")
        if args.top_k < 1:
            raise UsageError(f"--top_k must be at least 1, got {args.top_k}")


def _task(task_name: str, args: argparse.Namespace, config: dict[str, Any]) -> Any:
    from pixel.tasks import get_task

    options: dict[str, Any] = {}
    if task_name in _CLASSIFIERS:
        options["regression"] = config.get("problem_type") == "regression"
        options["top_k"] = args.top_k or 0
    return get_task(task_name, **options)


def _examples(task: Any, args: argparse.Namespace) -> list[Any]:
    """The examples to predict on; raw lines are numbered (their ids) and blank ones reported."""
    from pixel.tasks.base import read_text

    if args.input is not None and args.input_format == "task":
        return task.read_for_prediction(args.input)
    source = "--text" if args.text is not None else str(args.input)
    lines, blank = raw_lines(args.text if args.text is not None else read_text(args.input))
    if not lines:
        raise ValueError(f"{source}: no text to predict on")
    if blank:
        shown = ", ".join(map(str, blank[:10])) + (", ..." if len(blank) > 10 else "")
        logger.info(
            "%s: %d blank line(s) skipped (line %s); ids are input line numbers, so the output has gaps there",
            source, len(blank), shown,
        )  # fmt: skip
    if task.name in _WORD_LEVEL:
        _warn_unsegmented(source, lines)
    return [task.encode_raw(line.text, line.number, source) for line in lines]


def _warn_unsegmented(source: str, lines: list[RawLine]) -> None:
    """One warning if splitting at spaces left a run of a script written without spaces as one word."""
    found = [(line, hit) for line in lines if (hit := unsegmented_word(line.text.split()))]
    if not found:
        return
    (line, (word, scripts)), more = found[0], len(found) - 1
    shown = word if len(word) <= 30 else word[:30] + "..."
    logger.warning(
        "%s:%d: %d characters with no space between them became one word: %r. %s text is written without "
        "spaces between words, and raw text is split into words at spaces only; pass word-segmented text (words "
        "separated by spaces, e.g. by a word segmenter) or a CoNLL-U file with --input_format task%s",
        source, line.number, len(word), shown, scripts, f" ({more} more line(s) like this)" if more else "",
    )  # fmt: skip


def _run_model(task: Any, examples: list[Any], args: argparse.Namespace) -> tuple[Any, list[str]]:
    """(predictions, label names) of the model in ``args.model`` on ``examples``."""
    import torch
    from transformers import Trainer, TrainingArguments

    from pixel.data.processor import PIXELProcessor
    from pixel.model import resize_model_embeddings

    model_dir = Path(args.model)
    processor = PIXELProcessor.from_pretrained(model_dir, fallback_fonts_dir=args.fallback_fonts_dir)
    if args.max_seq_length:
        processor.renderer.max_seq_length = args.max_seq_length
    model = task.model_class.from_pretrained(model_dir)
    resize_model_embeddings(model, processor.max_seq_length)
    labels = [model.config.id2label[i] for i in range(len(model.config.id2label))]
    dataset = task.dataset(examples, processor, labels)
    scores = task.class_probabilities if args.top_k else task.preprocess_logits_for_metrics
    with tempfile.TemporaryDirectory() as scratch:
        trainer = Trainer(
            model=model,
            args=TrainingArguments(
                output_dir=scratch, per_device_eval_batch_size=args.batch_size, report_to="none",
                remove_unused_columns=False, disable_tqdm=len(examples) < 64,
                dataloader_pin_memory=torch.cuda.is_available(),
            ),
            data_collator=task.collator(processor),
            preprocess_logits_for_metrics=scores,
        )  # fmt: skip
        return trainer.predict(dataset).predictions, labels


def predict(argv: list[str]) -> Path:
    """Run ``pixel predict`` with ``argv``; returns the path written."""
    args = _parser().parse_args(argv)
    config = _read_config(Path(args.model))
    task_name = args.task or infer_task(config)
    _check_request(args, task_name, config)
    task = _task(task_name, args, config)
    examples = _examples(task, args)  # before the model: bad input fails fast
    predictions, labels = _run_model(task, examples, args)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    task.write_predictions(examples, predictions, labels, args.output)
    logger.info("wrote %d %s predictions to %s", len(examples), task.name, args.output)
    return args.output


def main(argv: list[str] | None = None) -> int:
    """``pixel predict``; returns the exit code (bad input is one line: 2 for a bad flag, 1 for missing data)."""
    logging.basicConfig(format="%(levelname)s - %(name)s - %(message)s", level=logging.INFO)

    def run(argv: list[str]) -> None:
        print(predict(argv))

    return run_command("pixel predict", run, list(sys.argv[1:] if argv is None else argv))
