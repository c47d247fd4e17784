"""``pixel finetune TASK``: one finetuning pipeline for every task, on the Hugging Face ``Trainer``.

The task (``pixel.tasks``) supplies reading, encoding, metrics and prediction files; this module supplies the
glue: arguments, processor (renderer) and model loading, the ``Trainer`` with early stopping and best-model
selection, checkpoint resumption, and the ``{train,eval,test}_results.json`` / ``all_results.json`` files of the HF
scripts. The ``Trainer`` saves the ``PIXELProcessor`` beside the model in every checkpoint and in output_dir, so
``AutoProcessor.from_pretrained(output_dir)`` and ``pixel predict`` find the renderer the model was trained with.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pixel.train.arguments import (
    DataTrainingArguments,
    ModelArguments,
    PIXELTrainingArguments,
    parse_finetune_args,
    task_options,
)
from pixel.train.splits import resolve_splits

if TYPE_CHECKING:
    from pixel.data.processor import PIXELProcessor

__all__ = ["PREDICTION_SUFFIX", "finetune", "load_processor", "main"]

logger = logging.getLogger(__name__)

RENDERER_CONFIG = "text_renderer_config.json"
# Prediction file suffix per task (the task's writer decides the content).
PREDICTION_SUFFIX = {"ud": "conllu", "pos": "conllu", "ner": "conll", "qa": "json"}
SPLIT_PREFIX = {"train": "train", "dev": "eval", "test": "test"}

_USAGE = """usage: pixel finetune TASK --model_name_or_path PATH --data_dir DIR [options]

TASK is one of: {tasks}
Options are HF TrainingArguments flags plus the PIXEL ones; run 'pixel finetune TASK --help' for the full list."""


@dataclass
class _Split:
    name: str  # "train" | "dev" | "test"
    path: Path
    examples: list[Any]
    dataset: Any


def main(argv: list[str] | None = None, *, prog: str | None = None) -> int:
    """``pixel finetune TASK [flags]``; returns the exit code. Bad input is one line, no traceback (``pixel.cli``):
    exit code 2 for a bad flag or value, 1 for missing or bad data; ``--debug`` shows the traceback."""
    from pixel.cli import run_command
    from pixel.tasks.base import TASK_NAMES

    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_USAGE.format(tasks=", ".join(TASK_NAMES)))
        return 0 if argv else 2
    task_name, rest = argv[0], argv[1:]
    if task_name not in TASK_NAMES:
        print(
            f"pixel finetune: unknown task {task_name!r}\n\n{_USAGE.format(tasks=', '.join(TASK_NAMES))}",
            file=sys.stderr,
        )
        return 2
    prog = prog or f"pixel finetune {task_name}"

    def run(argv: list[str]) -> None:
        finetune(task_name, argv, prog=prog)

    return run_command(prog, run, rest)


def finetune(
    task_name: str, argv: list[str], *, prog: str | None = None, callbacks: list[Any] | None = None
) -> dict[str, float]:
    """Run one finetuning job from command-line flags; returns every metric written to ``all_results.json``.

    ``callbacks`` are extra ``transformers.TrainerCallback`` objects (e.g. to watch training from Python).
    """
    from pixel.tasks import get_task

    task = get_task(task_name, **task_options(task_name, argv))
    model_args, data_args, training_args = parse_finetune_args(
        argv,
        metric_for_best_model=task.metric_for_best_model,
        greater_is_better=task.greater_is_better,
        prog=prog or f"pixel finetune {task_name}",
    )
    _setup_logging(training_args)
    max_seq_length = data_args.max_seq_length or task.default_max_seq_length
    paths = resolve_splits(task, data_args, training_args)  # fails before any model is loaded
    last_checkpoint = _last_checkpoint(training_args)

    from transformers import set_seed

    set_seed(training_args.seed)
    processor = load_processor(model_args, max_seq_length, task_name=task_name)
    data_dir = data_args.resolved_data_dir() or next(iter(paths.values())).parent
    labels = task.labels(data_dir, Path(data_args.labels) if data_args.labels else None)
    splits = _load_splits(task, paths, data_args, processor, labels)
    model = _load_model(task, model_args, labels, max_seq_length)
    trainer = _build_trainer(task, model, processor, training_args, splits, labels, callbacks or [])
    return _run(task, trainer, training_args, splits, labels, last_checkpoint)


def _setup_logging(training_args: PIXELTrainingArguments) -> None:
    import transformers

    logging.basicConfig(
        format="%(asctime)s - %(levelname)s - %(name)s - %(message)s", datefmt="%H:%M:%S", level=logging.INFO
    )
    transformers.utils.logging.set_verbosity(training_args.get_process_log_level())


def _last_checkpoint(training_args: PIXELTrainingArguments) -> str | None:
    """The checkpoint to resume from, by the rule shared with ``pixel pretrain`` (``resume_point``): an explicit
    ``--resume_from_checkpoint DIR|last``, else the newest *complete* one in output_dir (a kill mid-save leaves a
    folder without the completion marker; it is skipped), unless ``--overwrite_output_dir``."""
    from pixel.train.checkpoints import resume_point

    if not training_args.do_train:
        return None
    start = resume_point(
        training_args.output_path, training_args.resume_from_checkpoint, training_args.overwrite_output_dir
    )
    logger.info(start.message)
    return str(start.checkpoint) if start.checkpoint is not None else None


def load_processor(model_args: ModelArguments, max_seq_length: int, *, task_name: str = "") -> PIXELProcessor:
    """The processor of the renderer saved with the model (``text_renderer_config.json``), else of the default
    renderer, sized to the task.

    ``--rendering_backend`` is accepted for compatibility only: 'pangocairo' and 'bigrams' both mean the Pango
    renderer with ``--rendering_strategy`` (default: the saved one, else bigrams). The published SIB script
    mapped 'pangocairo' to the *continuous* renderer; we warn instead of silently switching strategy.
    """
    from pixel.data.processor import PIXELProcessor
    from pixel.render import PangoCairoTextRenderer

    if model_args.rendering_backend == "pangocairo" and task_name in (
        "sib",
        "classification",
        "pair_classification",
    ):
        logger.warning(
            "--rendering_backend=pangocairo: the published run_sib_bigrams.py used the continuous renderer for "
            "this value; here it renders with strategy %r (pass --rendering_strategy=continuous for the other)",
            model_args.rendering_strategy or "saved with the model",
        )
    overrides: dict[str, Any] = {"rgb": model_args.render_rgb}
    if model_args.fallback_fonts_dir:
        overrides["fallback_fonts_dir"] = model_args.fallback_fonts_dir
    if model_args.rendering_strategy:
        overrides["rendering_strategy"] = model_args.rendering_strategy
    if model_args.processor_name:
        source, subfolder = model_args.processor_name, ""
    else:
        source, subfolder = model_args.model_name_or_path, model_args.subfolder
    if Path(source).is_dir() and not (Path(source) / subfolder / RENDERER_CONFIG).exists():
        logger.warning("%s has no %s: using the default renderer", Path(source) / subfolder, RENDERER_CONFIG)
        processor = PIXELProcessor(PangoCairoTextRenderer(**overrides))
    else:
        hub = {"revision": model_args.model_revision, "cache_dir": model_args.cache_dir}
        processor = PIXELProcessor.from_pretrained(
            source, subfolder=subfolder, token=model_args.use_auth_token, **hub, **overrides
        )
    processor.renderer.max_seq_length = max_seq_length
    return processor


def _load_splits(
    task: Any,
    paths: dict[str, Path],
    data_args: DataTrainingArguments,
    processor: PIXELProcessor,
    labels: list[str],
) -> dict[str, _Split]:
    limits = {
        "train": data_args.max_train_samples,
        "dev": data_args.max_eval_samples,
        "test": data_args.max_predict_samples,
    }
    splits = {}
    for name, path in paths.items():
        examples = task.read(path)
        if limits[name] is not None:
            examples = examples[: limits[name]]
        if not examples:
            raise ValueError(f"{path}: no examples in the {name} split")
        logger.info("%s split: %d examples from %s", name, len(examples), path)
        splits[name] = _Split(name, path, examples, task.dataset(examples, processor, labels))
    return splits


def _config_overrides(text: str | None) -> dict[str, Any]:
    """'a=1,b=x' -> {'a': 1, 'b': 'x'} (values parsed as JSON where possible)."""
    import json

    out: dict[str, Any] = {}
    for item in filter(None, (text or "").split(",")):
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--config_overrides: {item!r} is not key=value")
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value
    return out


def _load_model(task: Any, model_args: ModelArguments, labels: list[str], max_seq_length: int) -> Any:
    """``from_pretrained`` into the task's head (decoder weights of a pretraining checkpoint are dropped)."""
    from pixel.model import resize_model_embeddings

    kwargs = dict(task.model_kwargs(labels))  # config fields: labels, pooling, ...
    if task.model_class_name == "PIXELForSequenceClassification":
        kwargs.update(pooling_mode=model_args.pooling_mode, add_layer_norm=model_args.pooler_add_layer_norm)
    kwargs.update(
        hidden_dropout_prob=model_args.dropout_prob, attention_probs_dropout_prob=model_args.dropout_prob
    )
    kwargs.update(_config_overrides(model_args.config_overrides))
    hub = {"cache_dir": model_args.cache_dir, "revision": model_args.model_revision}
    if model_args.use_auth_token:
        hub["token"] = model_args.use_auth_token
    if model_args.config_name:
        from pixel.model import PIXELConfig

        kwargs = {"config": PIXELConfig.from_pretrained(model_args.config_name, **kwargs, **hub)}
    model = task.model_class.from_pretrained(
        model_args.model_name_or_path, subfolder=model_args.subfolder, **kwargs, **hub
    )
    resize_model_embeddings(model, max_seq_length)
    model.config.finetuning_task = task.name  # lets `pixel predict` find the task again
    return model


def _build_trainer(
    task: Any,
    model: Any,
    processor: PIXELProcessor,
    training_args: PIXELTrainingArguments,
    splits: dict[str, _Split],
    labels: list[str],
    callbacks: list[Any],
) -> Any:
    from transformers import EarlyStoppingCallback, Trainer
    from transformers.utils import find_labels

    from pixel.train.checkpoints import CheckpointCompleteCallback

    if not training_args.label_names:
        training_args.label_names = find_labels(type(model))  # e.g. arc_labels, rel_labels for the parser
    callbacks = [*callbacks, CheckpointCompleteCallback()]
    if training_args.early_stopping and training_args.do_train:
        if training_args.eval_strategy == "no":
            logger.warning("early stopping needs --eval_strategy steps|epoch; training without it")
        else:
            callbacks.append(
                EarlyStoppingCallback(early_stopping_patience=training_args.early_stopping_patience)
            )
    dev = splits.get("dev")
    return Trainer(
        model=model,
        args=training_args,
        data_collator=task.collator(processor),
        train_dataset=splits["train"].dataset if "train" in splits else None,
        eval_dataset=dev.dataset if dev else None,
        # saved beside the model in every checkpoint and in output_dir. PIXELProcessor is no ProcessorMixin, which
        # the annotation asks for, but has all the Trainer uses of one (save_pretrained, model_input_names).
        processing_class=processor,  # type: ignore[arg-type]
        compute_metrics=_reported_metrics(task, splits, "dev", labels) if dev else task.compute_metrics,
        preprocess_logits_for_metrics=task.preprocess_logits_for_metrics,
        callbacks=callbacks,
    )


def _run(
    task: Any,
    trainer: Any,
    training_args: PIXELTrainingArguments,
    splits: dict[str, _Split],
    labels: list[str],
    last_checkpoint: str | None,
) -> dict[str, float]:
    output_dir = training_args.output_path
    results: dict[str, float] = {}
    if training_args.do_train:
        train = trainer.train(resume_from_checkpoint=last_checkpoint)
        trainer.save_model()  # the best model if --load_best_model_at_end, with the processor
        metrics = dict(train.metrics, train_samples=len(splits["train"].examples))
        trainer.log_metrics("train", metrics)
        trainer.save_metrics("train", metrics)
        trainer.save_state()
        results.update(metrics)
    for name in ("dev", "test"):
        if name == "dev" and not training_args.do_eval:
            continue
        if name not in splits:
            continue
        prefix = SPLIT_PREFIX[name]
        split = splits[name]
        trainer.compute_metrics = _reported_metrics(task, splits, name, labels)
        output = trainer.predict(split.dataset, metric_key_prefix=prefix)
        metrics = dict(output.metrics)
        metrics[f"{prefix}_samples"] = len(split.examples)
        metrics.update(_truncation_metrics(split.dataset, prefix))
        trainer.log_metrics(prefix, metrics)
        _log_against_baseline(task, prefix, metrics)
        trainer.save_metrics(prefix, metrics)
        results.update(metrics)
        if name == "test" or training_args.log_predictions:
            path = output_dir / f"{prefix}_predictions.{PREDICTION_SUFFIX.get(task.name, 'tsv')}"
            if trainer.is_world_process_zero():
                task.write_predictions(split.examples, output.predictions, labels, path)
                logger.info("wrote %s predictions to %s", name, path)
    return results


def _reported_metrics(task: Any, splits: dict[str, _Split], name: str, labels: list[str]) -> Any:
    """The split's `compute_metrics` with the trivial baseline (fit on the train split when it is loaded) and the
    collapse flag (`pixel.tasks.base.reported_metrics`)."""
    from pixel.tasks.base import reported_metrics

    train = splits["train"].examples if "train" in splits else None
    return reported_metrics(task, splits[name].dataset, labels, train)


def _log_against_baseline(task: Any, prefix: str, metrics: dict[str, float]) -> None:
    """One line with every score next to its trivial baseline, the task metric first; a WARNING when the task
    metric does not beat its baseline (a model that learned nothing would otherwise look like a result)."""
    start = f"{prefix}_baseline_"
    keys = [k.removeprefix(start) for k in metrics if k.startswith(start)]
    keys = [k for k in keys if f"{prefix}_{k}" in metrics]
    if not keys:
        return
    main = task.metric_for_best_model
    keys.sort(key=lambda k: k != main)
    scores = ", ".join(
        f"{k} {metrics[f'{prefix}_{k}']:.4g} (baseline {metrics[start + k]:.4g})" for k in keys
    )
    notes = []
    if metrics.get(f"{prefix}_baseline_from_eval_split"):
        notes.append("baselines fit on this split: no train split loaded")
    if metrics.get(f"{prefix}_collapsed"):
        notes.append("every prediction is one class")
    line = f"{prefix}: {scores}" + (f" [{'; '.join(notes)}]" if notes else "")
    if main not in keys:
        logger.info(line)
        return
    score, baseline = metrics[f"{prefix}_{main}"], metrics[start + main]
    if score > baseline if task.greater_is_better else score < baseline:
        logger.info(line)
    else:
        logger.warning("%s -- %s does not beat the trivial baseline", line, main)


def _truncation_metrics(dataset: Any, prefix: str) -> dict[str, int]:
    """Words that truncation cut from a word-level split: reported, since they cannot be scored."""
    report = getattr(dataset, "truncation_report", None)
    if report is None or not hasattr(getattr(dataset, "encoder", None), "dropped_words"):
        return {}
    counts = report(progress=False)
    return {
        f"{prefix}_dropped_words": counts.dropped_words,
        f"{prefix}_truncated_examples": counts.truncated_examples,
    }
