"""``pixel predict``: run a finetuned model on raw text or a file and write the task's prediction format.

The task comes from the saved config (``finetuning_task``, written by ``pixel finetune``), else from the
architecture (``PIXELForBiaffineParsing`` -> ud, ...). Raw text is one sentence per line, whitespace-tokenised
for word-level tasks; ``--input_format task`` reads a file in the task's own format (e.g. CoNLL-U) instead and
re-annotates it. Output: CoNLL-U (ud, pos), CoNLL (ner), TSV (classification).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

from pixel.cli import ArgumentParser, run_command

__all__ = ["infer_task", "main", "predict"]

logger = logging.getLogger(__name__)

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
    parser.add_argument("--output", type=Path, required=True, help="prediction file to write")
    parser.add_argument(
        "--input_format",
        choices=("raw", "task"),
        default="raw",
        help="'task': read --input in the task's format (e.g. CoNLL-U) and re-annotate it",
    )
    parser.add_argument("--task", help="override the task inferred from the model's config")
    parser.add_argument("--max_seq_length", type=int, help="default: the renderer's saved max_seq_length")
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--fallback_fonts_dir", help="fallback fonts for the renderer")
    return parser  # fmt: skip


def _examples(task: Any, args: argparse.Namespace) -> list[Any]:
    if args.input is not None and args.input_format == "task":
        return task.read(args.input)
    text = args.text if args.text is not None else args.input.read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise ValueError(f"{args.input or '--text'}: no text to predict on")
    return [task.encode_raw(line) for line in lines]


def predict(argv: list[str]) -> Path:
    """Run ``pixel predict`` with ``argv``; returns the path written."""
    import torch
    from transformers import Trainer, TrainingArguments

    from pixel.model import resize_model_embeddings
    from pixel.render import PangoCairoTextRenderer
    from pixel.tasks import get_task

    args = _parser().parse_args(argv)
    model_dir = Path(args.model)
    config_path = model_dir / "config.json"
    if not config_path.exists():
        raise FileNotFoundError(f"{config_path} does not exist: --model must be a finetuned model folder")
    config = json.loads(config_path.read_text(encoding="utf-8"))
    task = get_task(args.task or infer_task(config))
    overrides = {"fallback_fonts_dir": args.fallback_fonts_dir} if args.fallback_fonts_dir else {}
    renderer = PangoCairoTextRenderer.from_pretrained(model_dir, **overrides)
    if args.max_seq_length:
        renderer.max_seq_length = args.max_seq_length
    length = renderer.max_seq_length
    model = task.model_class.from_pretrained(model_dir)
    resize_model_embeddings(model, length)
    labels = [model.config.id2label[i] for i in range(len(model.config.id2label))]
    examples = _examples(task, args)
    dataset = task.dataset(examples, renderer, labels, length)
    with tempfile.TemporaryDirectory() as scratch:
        trainer = Trainer(
            model=model,
            args=TrainingArguments(
                output_dir=scratch, per_device_eval_batch_size=args.batch_size, report_to="none",
                remove_unused_columns=False, disable_tqdm=len(examples) < 64,
                dataloader_pin_memory=torch.cuda.is_available(),
            ),
            data_collator=task.collate,
            preprocess_logits_for_metrics=task.preprocess_logits_for_metrics,
        )  # fmt: skip
        output = trainer.predict(dataset)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    task.write_predictions(examples, output.predictions, labels, args.output)
    logger.info("wrote %d %s predictions to %s", len(examples), task.name, args.output)
    return args.output


def main(argv: list[str] | None = None) -> int:
    """``pixel predict``; returns the exit code (bad input is one line: 2 for a bad flag, 1 for missing data)."""
    logging.basicConfig(format="%(levelname)s - %(name)s - %(message)s", level=logging.INFO)

    def run(argv: list[str]) -> None:
        print(predict(argv))

    return run_command("pixel predict", run, list(sys.argv[1:] if argv is None else argv))
