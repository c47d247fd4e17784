"""Command-line arguments of ``pixel finetune``, ``pixel pretrain`` and the legacy
``scripts/training/run_*_bigrams.py``.

The three finetuning dataclasses keep the published names (``ModelArguments``, ``DataTrainingArguments``,
``PIXELTrainingArguments``) and accept every flag the published pixel-m4 scripts accepted under
transformers 4.28. Flags that transformers 5 renamed or removed live in ``LegacyTrainingArguments``: renamed
ones are mapped to their new name, removed ones are accepted and dropped with a warning that says why.

``BaseTrainingArguments`` is what both training commands add to ``TrainingArguments``: ``--overwrite_output_dir``
and range checks that name the field (``--max_steps -5`` is an error, not 3 epochs); ``PretrainingArguments`` adds
the preset's ``base_learning_rate`` and ``warmup_ratio``. ``DataclassArgumentParser`` is ``HfArgumentParser``
without abbreviated flags and with one-line errors.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transformers import HfArgumentParser, TrainingArguments

from pixel.cli import OneLineErrors, UsageError
from pixel.data.pretraining_config import ConfigError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = [
    "BaseTrainingArguments",
    "DataclassArgumentParser",
    "DataTrainingArguments",
    "PretrainingArguments",
    "task_options",
    "LegacyTrainingArguments",
    "ModelArguments",
    "PIXELTrainingArguments",
    "RENDERING_BACKENDS",
    "build_parser",
    "parse_finetune_args",
]

logger = logging.getLogger(__name__)

RENDERING_BACKENDS = ("pangocairo", "bigrams", "pygame")


@dataclass
class ModelArguments:
    """Which pretrained model and renderer to finetune, and the head's hyper-parameters."""

    model_name_or_path: str = field(
        metadata={"help": "Local folder (or hub id) of a pretrained or finetuned PIXEL model."}
    )
    config_name: str | None = field(
        default=None, metadata={"help": "Config name or path, if not the same as model_name_or_path."}
    )
    config_overrides: str | None = field(
        default=None,
        metadata={
            "help": "Comma-separated key=value config overrides, e.g. 'num_hidden_layers=6,layer_norm_eps=1e-6'."
        },
    )
    processor_name: str | None = field(
        default=None,
        metadata={"help": "Folder of the text renderer (text_renderer_config.json) if not the model folder."},
    )
    rendering_strategy: str | None = field(
        default=None,
        metadata={
            "help": "Renderer strategy ('bigrams', 'continuous', ...). Default: the one saved with the model, "
            "else 'bigrams' (PIXEL-M4)."
        },
    )
    rendering_backend: str | None = field(
        default=None,
        metadata={
            "help": "Accepted for compatibility with the published scripts: 'pangocairo' and 'bigrams' both mean "
            "the Pango renderer with --rendering_strategy (default bigrams). In the published run_sib_bigrams.py "
            "'pangocairo' silently selected the *continuous* renderer; here it does not (pass "
            "--rendering_strategy=continuous for that). 'pygame' is not supported."
        },
    )
    fallback_fonts_dir: str | None = field(
        default=None,
        metadata={"help": "Folder of fallback fonts registered with fontconfig for the renderer."},
    )
    render_rgb: bool = field(
        default=False,
        metadata={"help": "Render RGB instead of grayscale (the published finetuning renders gray)."},
    )
    cache_dir: str | None = field(default=None, metadata={"help": "Where hub downloads are cached."})
    model_revision: str = field(default="main", metadata={"help": "Hub revision (branch, tag or commit)."})
    subfolder: str = field(
        default="",
        metadata={
            "help": "Folder inside the model folder or hub repo holding the model, e.g. last-checkpoint."
        },
    )
    use_auth_token: str | None = field(default=None, metadata={"help": "Hub token for private models."})
    dropout_prob: float = field(
        default=0.1, metadata={"help": "Dropout of the hidden states and attention probabilities (both)."}
    )
    pooling_mode: str = field(
        default="mean", metadata={"help": "Sequence classification pooling: cls, mean, max or pma<k>."}
    )
    pooler_add_layer_norm: bool = field(
        default=True,
        metadata={"help": "Add a LayerNorm to the sequence classification pooler (not for cls)."},
    )

    def __post_init__(self) -> None:
        if self.rendering_backend is None:
            return
        self.rendering_backend = self.rendering_backend.lower()
        if self.rendering_backend not in RENDERING_BACKENDS:
            raise ValueError(
                f"--rendering_backend={self.rendering_backend!r} is not one of {', '.join(RENDERING_BACKENDS)}"
            )
        if self.rendering_backend == "pygame":
            raise ValueError(
                "--rendering_backend=pygame: the deprecated PyGame renderer is not re-implemented; "
                "use --rendering_backend=pangocairo (with --rendering_strategy=continuous for original PIXEL)"
            )


@dataclass
class DataTrainingArguments:
    """Where the task data is, and how much of it to use."""

    data_dir: str | None = field(
        default=None,
        metadata={"help": "Task folder: a UD treebank, a CoNLL NER folder, a SIB-200 language folder, ..."},
    )
    language: str | None = field(
        default=None,
        metadata={"help": "SIB-200 language (e.g. eng_Latn): the data is read from data_dir/language."},
    )
    train_file: str | None = field(
        default=None,
        metadata={
            "help": "Explicit training file (overrides data_dir's), e.g. for a UD treebank that ships only dev "
            "and test. It must not be the dev or test file evaluated on (see --allow_eval_on_train_file)."
        },
    )
    validation_file: str | None = field(
        default=None, metadata={"help": "Explicit dev file (overrides data_dir's)."}
    )
    test_file: str | None = field(
        default=None, metadata={"help": "Explicit test file (overrides data_dir's)."}
    )
    allow_eval_on_train_file: bool = field(
        default=False,
        metadata={
            "help": "Evaluate on a dev/test file that is the train file (same path or same content) with a "
            "warning, instead of refusing: its scores measure memorisation, not generalisation."
        },
    )
    labels: str | None = field(
        default=None, metadata={"help": "File with one label per line (NER, classification); else inferred."}
    )
    text_columns: str | None = field(
        default=None,
        metadata={
            "help": "Classification: the text column(s), comma-separated (two for pairs). Default: inferred."
        },
    )
    label_column: str | None = field(default=None, metadata={"help": "Classification: the label column."})
    is_regression: bool = field(
        default=False, metadata={"help": "Classification: a real-valued label (MSE loss, Pearson/Spearman)."}
    )
    doc_stride: int | None = field(
        default=None, metadata={"help": "QA: patches shared by consecutive windows of a long context."}
    )
    max_seq_length: int | None = field(
        default=None,
        metadata={
            "help": "Patches per example (a perfect square, e.g. 256). Default: the task's (256 or 196)."
        },
    )
    max_train_samples: int | None = field(
        default=None, metadata={"help": "Use only the first N train examples."}
    )
    max_eval_samples: int | None = field(
        default=None, metadata={"help": "Use only the first N dev examples."}
    )
    max_predict_samples: int | None = field(
        default=None, metadata={"help": "Use only the first N test examples."}
    )
    overwrite_cache: bool = field(
        default=False,
        metadata={"help": "Accepted for compatibility: features are rendered on the fly, not cached."},
    )
    jit_rendering: bool = field(
        default=False, metadata={"help": "Accepted for compatibility: rendering is always just in time."}
    )
    pad_to_max_length: bool = field(
        default=True,
        metadata={"help": "Accepted for compatibility: inputs are always max_seq_length patches."},
    )
    use_hf_labels: bool = field(
        default=False, metadata={"help": "Accepted for compatibility (ignored in image mode, as published)."}
    )
    hf_dataset_name: str | None = field(
        default=None,
        metadata={"help": "Not supported offline: save the dataset with save_to_disk, pass data_dir."},
    )
    hf_dataset_config: str | None = field(default=None, metadata={"help": "See --hf_dataset_name."})
    dataset_name: str | None = field(
        default=None,
        metadata={"help": "Not supported offline: save the dataset with save_to_disk, pass data_dir."},
    )
    dataset_config_name: str | None = field(default=None, metadata={"help": "See --dataset_name."})

    def __post_init__(self) -> None:
        for name in ("hf_dataset_name", "dataset_name"):
            if getattr(self, name) is not None:
                raise ValueError(
                    f"--{name}={getattr(self, name)!r}: loading from the Hugging Face hub is not supported; "
                    "save the dataset to disk (or to CoNLL/TSV files) and pass --data_dir"
                )

    def resolved_data_dir(self) -> Path | None:
        """``data_dir/language`` for SIB-200 style layouts, else ``data_dir``."""
        if self.data_dir is None:
            return None
        root = Path(self.data_dir)
        return root / self.language if self.language else root

    def split_file(self, split: str) -> Path | None:
        """The explicit file given for ``split`` ('train' | 'dev' | 'test'), if any."""
        name = {"train": self.train_file, "dev": self.validation_file, "test": self.test_file}[split]
        return Path(name) if name else None


class DataclassArgumentParser(OneLineErrors, HfArgumentParser):
    """``HfArgumentParser`` whose errors are one line (not the usage of every TrainingArguments flag first) and
    which takes no abbreviation: a prefix such as ``--eval`` must not silently stand for ``--eval_strategy``."""

    def __init__(self, dataclass_types: Any, **kwargs: Any) -> None:
        super().__init__(dataclass_types, allow_abbrev=False, **kwargs)


# field -> smallest value that makes sense; checked before transformers' own checks so that the error names the
# field. Steps may be floats below 1 (a fraction of the run), hence "positive" rather than ">= 1" for them.
_AT_LEAST = {
    "per_device_train_batch_size": 1,
    "per_device_eval_batch_size": 1,
    "gradient_accumulation_steps": 1,
    "learning_rate": 0,
    "weight_decay": 0,
    "warmup_steps": 0,
    "dataloader_num_workers": 0,
}
_POSITIVE = ("logging_steps", "save_steps", "eval_steps")


@dataclass
class BaseTrainingArguments(TrainingArguments):
    """HF ``TrainingArguments`` plus what every PIXEL training command shares: resuming rules and range checks."""

    overwrite_output_dir: bool = field(
        default=False,
        metadata={
            "help": "Train from scratch even if output_dir has checkpoints (otherwise resume from the last)."
        },
    )

    def __post_init__(self) -> None:
        self._check_ranges()
        super().__post_init__()

    @property
    def output_path(self) -> Path:
        """``output_dir`` as a Path: never None once constructed (``TrainingArguments`` fills in a default)."""
        assert self.output_dir is not None, "TrainingArguments.__post_init__ sets output_dir"
        return Path(self.output_dir)

    def _check_ranges(self) -> None:
        """ConfigError naming the field of a value out of range (keys as in ``_AT_LEAST`` and ``_POSITIVE``)."""
        if self.max_steps == 0 or self.max_steps < -1:
            raise ConfigError(
                "max_steps",
                f"must be a positive number of steps (or -1: train num_train_epochs), got {self.max_steps}",
            )
        if self.max_steps == -1 and not self.num_train_epochs > 0:
            raise ConfigError("num_train_epochs", f"must be positive, got {self.num_train_epochs}")
        for name, minimum in _AT_LEAST.items():
            value = getattr(self, name)
            if isinstance(value, int | float) and value < minimum:
                raise ConfigError(name, f"must be at least {minimum}, got {value}")
        for name in _POSITIVE:
            value = getattr(self, name)
            if isinstance(value, int | float) and value <= 0:
                raise ConfigError(name, f"must be positive, got {value}")


@dataclass
class PretrainingArguments(BaseTrainingArguments):
    """``TrainingArguments`` of ``pixel pretrain``: the preset's ``training`` section, then the command line."""

    base_learning_rate: float | None = field(
        default=None,
        metadata={"help": "lr = base x total batch / 256, as published (unless --learning_rate is given)."},
    )
    warmup_ratio: float | None = field(
        default=None,
        metadata={"help": "Warmup as a fraction of max_steps (transformers 5 reads --warmup_steps < 1 so)."},
    )

    def __post_init__(self) -> None:
        if self.warmup_ratio is not None:
            if not 0 <= self.warmup_ratio < 1:
                raise ConfigError("warmup_ratio", f"must be in [0, 1), got {self.warmup_ratio}")
            self.warmup_steps = self.warmup_ratio  # transformers 5: a float below 1 is a ratio
        if self.save_total_limit is not None and self.save_total_limit < 2:
            # Rotation runs before the new checkpoint is marked complete (CheckpointCompleteCallback): keep one more.
            limit = self.save_total_limit
            raise ConfigError(
                "save_total_limit",
                f"must be at least 2 (or unset) so that a complete checkpoint survives a kill, got {limit}",
            )
        super().__post_init__()


@dataclass
class PIXELTrainingArguments(BaseTrainingArguments):
    """HF ``TrainingArguments`` plus the published PIXEL extras."""

    early_stopping: bool = field(
        default=True,
        metadata={"help": "Stop when the dev metric has not improved for early_stopping_patience evals."},
    )
    early_stopping_patience: int = field(default=5, metadata={"help": "Evaluations without improvement."})
    log_predictions: bool = field(
        default=False,
        metadata={"help": "Also write dev-set prediction files (test predictions are always written)."},
    )
    min_learning_rate: float = field(
        default=1e-5, metadata={"help": "Accepted for compatibility (only used by pretraining)."}
    )


# transformers 4.28 flag -> its transformers 5 name.
_RENAMED = {
    "evaluation_strategy": "eval_strategy",
    "per_gpu_train_batch_size": "per_device_train_batch_size",
    "per_gpu_eval_batch_size": "per_device_eval_batch_size",
    "warmup_ratio": "warmup_steps",  # transformers 5 reads a float in [0, 1) as a ratio
    "no_cuda": "use_cpu",
    "push_to_hub_model_id": "hub_model_id",
    "push_to_hub_token": "hub_token",
    "torchdynamo": "torch_compile_backend",
}
# transformers 4.28 flag -> why it is accepted and ignored.
_DROPPED = {
    "half_precision_backend": "transformers 5 always uses torch.autocast (what 'cuda_amp' selected)",
    "fp16_backend": "transformers 5 always uses torch.autocast",
    "fp16_opt_level": "apex is not used",
    "logging_dir": "set TENSORBOARD_LOGGING_DIR for tensorboard instead",
    "save_safetensors": "checkpoints are always safetensors",
    "use_mps_device": "the device is chosen automatically",
    "jit_mode_eval": "removed in transformers 5",
    "use_ipex": "removed in transformers 5",
    "xpu_backend": "use --ddp_backend",
    "tpu_num_cores": "removed in transformers 5",
    "tpu_metrics_debug": "removed in transformers 5",
    "past_index": "no PIXEL model has memory states",
    "sharded_ddp": "fairscale was removed; use --fsdp",
    "fsdp_min_num_params": "use --fsdp_config",
    "fsdp_transformer_layer_cls_to_wrap": "use --fsdp_config",
    "use_legacy_prediction_loop": "removed in transformers 5",
    "push_to_hub_organization": "use --hub_model_id org/name",
    "mp_parameters": "SageMaker model parallelism was removed",
    "ray_scope": "removed in transformers 5",
}


def _legacy(kind: str, help_: str) -> Any:
    return field(default=None, metadata={"help": f"transformers 4.28 flag ({kind}): {help_}"})


def _legacy_flag(kind: str, help_: str) -> Any:
    # A plain bool (not bool | None) so that HfArgumentParser accepts the bare "--flag" form.
    return field(default=False, metadata={"help": f"transformers 4.28 flag ({kind}): {help_}"})


@dataclass
class LegacyTrainingArguments:
    """transformers 4.28 ``TrainingArguments`` flags that transformers 5 renamed or removed.

    Renamed ones (``_RENAMED``) are mapped to their new name; removed ones (``_DROPPED``) are accepted and
    dropped with a warning, so the published command lines still parse.
    """

    evaluation_strategy: str | None = _legacy("renamed", "--eval_strategy")
    per_gpu_train_batch_size: int | None = _legacy("renamed", "--per_device_train_batch_size")
    per_gpu_eval_batch_size: int | None = _legacy("renamed", "--per_device_eval_batch_size")
    warmup_ratio: float | None = _legacy("renamed", "--warmup_steps (a float below 1 is a ratio)")
    no_cuda: bool = _legacy_flag("renamed", "--use_cpu")
    push_to_hub_model_id: str | None = _legacy("renamed", "--hub_model_id")
    push_to_hub_token: str | None = _legacy("renamed", "--hub_token")
    torchdynamo: str | None = _legacy("renamed", "--torch_compile_backend")
    adafactor: bool = _legacy_flag("mapped", "--optim=adafactor")
    group_by_length: bool = _legacy_flag("mapped", "--train_sampling_strategy=group_by_length")
    include_inputs_for_metrics: bool = _legacy_flag("mapped", "--include_for_metrics=inputs")
    half_precision_backend: str | None = _legacy("ignored", _DROPPED["half_precision_backend"])
    fp16_backend: str | None = _legacy("ignored", _DROPPED["fp16_backend"])
    fp16_opt_level: str | None = _legacy("ignored", _DROPPED["fp16_opt_level"])
    logging_dir: str | None = _legacy("ignored", _DROPPED["logging_dir"])
    save_safetensors: bool = _legacy_flag("ignored", _DROPPED["save_safetensors"])
    use_mps_device: bool = _legacy_flag("ignored", _DROPPED["use_mps_device"])
    jit_mode_eval: bool = _legacy_flag("ignored", _DROPPED["jit_mode_eval"])
    use_ipex: bool = _legacy_flag("ignored", _DROPPED["use_ipex"])
    xpu_backend: str | None = _legacy("ignored", _DROPPED["xpu_backend"])
    tpu_num_cores: int | None = _legacy("ignored", _DROPPED["tpu_num_cores"])
    tpu_metrics_debug: bool = _legacy_flag("ignored", _DROPPED["tpu_metrics_debug"])
    past_index: int | None = _legacy("ignored", _DROPPED["past_index"])
    sharded_ddp: str | None = _legacy("ignored", _DROPPED["sharded_ddp"])
    fsdp_min_num_params: int | None = _legacy("ignored", _DROPPED["fsdp_min_num_params"])
    fsdp_transformer_layer_cls_to_wrap: str | None = _legacy(
        "ignored", _DROPPED["fsdp_transformer_layer_cls_to_wrap"]
    )
    use_legacy_prediction_loop: bool = _legacy_flag("ignored", _DROPPED["use_legacy_prediction_loop"])
    push_to_hub_organization: str | None = _legacy("ignored", _DROPPED["push_to_hub_organization"])
    mp_parameters: str | None = _legacy("ignored", _DROPPED["mp_parameters"])
    ray_scope: str | None = _legacy("ignored", _DROPPED["ray_scope"])


_DATACLASSES = (ModelArguments, DataTrainingArguments, PIXELTrainingArguments, LegacyTrainingArguments)


def build_parser() -> DataclassArgumentParser:
    return DataclassArgumentParser(_DATACLASSES)


def _apply_legacy(values: dict[str, Any]) -> None:
    """Move legacy flag values onto their transformers-5 names, in place; warn about dropped ones."""
    for f in dataclasses.fields(LegacyTrainingArguments):
        value = values.pop(f.name, None)
        if value is None or value is False:
            continue
        if f.name in _RENAMED:
            new = _RENAMED[f.name]
            logger.warning("--%s is --%s in transformers 5; using --%s=%s", f.name, new, new, value)
            values[new] = value
        elif f.name == "adafactor" and value:
            values["optim"] = "adafactor"
        elif f.name == "group_by_length" and value:
            values["train_sampling_strategy"] = "group_by_length"
        elif f.name == "include_inputs_for_metrics" and value:
            values["include_for_metrics"] = sorted({*(values.get("include_for_metrics") or []), "inputs"})
        elif f.name in _DROPPED:
            logger.warning("--%s=%s is accepted and ignored: %s", f.name, value, _DROPPED[f.name])


def _bf16_fallback(values: dict[str, Any]) -> None:
    """``--bf16`` on a machine without a bf16-capable CUDA device trains in float32 instead of failing."""
    import torch

    if not values.get("bf16"):
        return
    if values.get("use_cpu") or not (torch.cuda.is_available() and torch.cuda.is_bf16_supported()):
        warnings.warn(
            "--bf16 requested but no bf16-capable CUDA device is available: training in float32", stacklevel=3
        )
        values["bf16"] = False
        values["bf16_full_eval"] = False


def _no_pinning_without_gpu(values: dict[str, Any]) -> None:
    import torch

    if not torch.cuda.is_available():
        values["dataloader_pin_memory"] = False  # nothing to pin for; avoids a warning per DataLoader


def _values_from_argv(parser: HfArgumentParser, argv: list[str]) -> dict[str, Any]:
    if len(argv) == 1 and argv[0].endswith(".json"):
        # The published scripts also take a single JSON file holding all arguments.
        loaded = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
        if "model_name_or_path" not in loaded:
            raise UsageError(f"{argv[0]}: missing required argument model_name_or_path")
        values = vars(parser.parse_known_args(["--model_name_or_path", str(loaded["model_name_or_path"])])[0])
        unknown = sorted(set(loaded) - set(values))
        if unknown:
            raise UsageError(f"{argv[0]}: unknown argument(s) {', '.join(unknown)}")
        values.update(loaded)
        return values
    namespace, remaining = parser.parse_known_args(argv)
    if remaining:
        parser.error(f"unrecognized arguments: {' '.join(remaining)}")
    return vars(namespace)


def task_options(task_name: str, argv: list[str]) -> dict[str, Any]:
    """Options that shape the task itself (``get_task(name, **options)``), read ahead of the full parse.

    They are also fields of ``DataTrainingArguments``, so the full parse accepts them.
    """
    import argparse

    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--text_columns")
    parser.add_argument("--label_column")
    parser.add_argument("--is_regression", nargs="?", const="true", default="false")
    parser.add_argument("--doc_stride", type=int)
    known, _ = parser.parse_known_args(argv)
    options: dict[str, Any] = {}
    if task_name in ("sib", "classification", "pair_classification"):
        if known.text_columns:
            options["text_columns"] = tuple(c for c in known.text_columns.split(",") if c)
        if known.label_column:
            options["label_column"] = known.label_column
        if known.is_regression.lower() in ("true", "1", "yes"):
            options["regression"] = True
    if task_name == "qa" and known.doc_stride is not None:
        options["stride"] = known.doc_stride
    return options


def parse_finetune_args(
    argv: list[str],
    *,
    metric_for_best_model: str | None = None,
    greater_is_better: bool | None = None,
    prog: str | None = None,
) -> tuple[ModelArguments, DataTrainingArguments, PIXELTrainingArguments]:
    """Parse ``argv`` (or a single ``.json`` file of arguments) into the three dataclasses.

    ``metric_for_best_model`` and ``greater_is_better`` are the task's defaults (e.g. ``"las"``, True), used when
    ``--metric_for_best_model`` is not given.
    An unknown flag exits with a one-line argparse error that names it (exit code 2); a value out of range raises
    ``UsageError`` naming the flag.
    """
    parser = build_parser()
    if prog:
        parser.prog = prog
    values = _values_from_argv(parser, argv)
    _apply_legacy(values)
    if values.get("metric_for_best_model") is None and metric_for_best_model is not None:
        values["metric_for_best_model"] = f"eval_{metric_for_best_model}"
        if values.get("greater_is_better") is None:
            values["greater_is_better"] = greater_is_better
    _bf16_fallback(values)
    _no_pinning_without_gpu(values)
    # Dataset items are rendered Encodings + labels, which the task's collator turns into model inputs: the
    # Trainer must pass them to it as they are, not drop the keys that no forward signature names.
    values["remove_unused_columns"] = False
    try:
        model_args = ModelArguments(**_init_values(ModelArguments, values))
        data_args = DataTrainingArguments(**_init_values(DataTrainingArguments, values))
        training_args = PIXELTrainingArguments(**_init_values(PIXELTrainingArguments, values))
    except ConfigError as error:
        raise UsageError(f"--{error.key}: {error.problem}") from None
    except ValueError as error:  # the dataclasses' own checks (and transformers'), which name their flags
        raise UsageError(str(error)) from None
    return model_args, data_args, training_args


def _init_values(dtype: type[DataclassInstance], values: dict[str, Any]) -> dict[str, Any]:
    """The entries of ``values`` that are init fields of ``dtype``."""
    names = {f.name for f in dataclasses.fields(dtype) if f.init}
    return {k: v for k, v in values.items() if k in names}
