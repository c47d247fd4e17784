"""A ``pixel pretrain`` preset: a YAML file plus ``--override`` edits, read into a ``PretrainingPreset`` whose every
section is the typed object it configures, checked on load (``read_preset``).

=========================  ===========================================================================================
``model``                  ``PIXELConfig`` (keys and types checked against its arguments, ranges by the config itself)
``renderer``               ``PangoCairoTextRenderer`` (its arguments, or ``name_or_path`` and ``from_pretrained``'s),
                           built here: the renderer checks its own settings and names a bad one
``data``                   ``PretrainingDataConfig`` (``pixel.data.pretraining_config``)
``training``               ``PretrainingArguments`` fields, typed here; built with the command line's flags on top
                           (``PretrainingPreset.training_arguments``)
``reconstruction_steps``   steps between reconstruction pictures (0: none)
=========================  ===========================================================================================

A bad value is a ``UsageError`` naming where it came from (the file, or the ``--override`` that set it) and the key
path; a source file that does not exist is a FileNotFoundError naming both. Relative source paths resolve against
``data.data_dir``, itself relative to the preset file unless absolute; ``PIXEL_DATA_DIR`` overrides it.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from pixel.cli import UsageError
from pixel.data.pretraining_config import (
    ConfigError,
    PretrainingDataConfig,
    check_keys,
    check_mapping,
    check_value,
    field_types,
)
from pixel.model import PIXELConfig
from pixel.train.arguments import PretrainingArguments

if TYPE_CHECKING:
    from pixel.render import PangoCairoTextRenderer

__all__ = [
    "PretrainingPreset",
    "RECIPE_DEFAULTS",
    "apply_overrides",
    "build_renderer",
    "load_preset",
    "read_preset",
]

SECTIONS = ("model", "renderer", "data", "training", "reconstruction_steps")

# Published recipe (REFERENCE §3.3); presets may override any of them.
RECIPE_DEFAULTS: dict[str, Any] = {
    "optim": "adamw_torch",
    "adam_beta1": 0.9,
    "adam_beta2": 0.999,
    "adam_epsilon": 1e-8,
    "weight_decay": 0.05,
    "warmup_ratio": 0.05,
    "lr_scheduler_type": "cosine_with_min_lr",
    "lr_scheduler_kwargs": {"min_lr": 1e-5},
    "max_grad_norm": 1.0,
    "remove_unused_columns": False,  # items carry raw text; the collator turns them into model inputs
    "ignore_data_skip": True,  # the dataset fast-forwards itself (DataResumeCallback), without rendering
    "accelerator_config": {"dispatch_batches": False},  # every process renders only its own slice
}


def load_preset(path: str | Path) -> dict[str, Any]:
    """The preset's YAML mapping as written, with ``data.data_dir`` made absolute (``PIXEL_DATA_DIR`` wins).

    A missing file is a FileNotFoundError; invalid YAML or a non-mapping a UsageError naming the file (and line).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"--config {path}: no such preset file (see configs/pretrain/)")
    try:
        with open(path, encoding="utf-8") as f:
            preset = yaml.safe_load(f) or {}
    except yaml.YAMLError as error:
        raise UsageError(f"{path}: {_yaml_problem(error)}") from None
    if not isinstance(preset, dict):
        raise UsageError(f"{path}: a preset must be a mapping of sections {', '.join(SECTIONS)}")
    data = preset.setdefault("data", {})
    if isinstance(data, dict):
        data_dir = os.environ.get("PIXEL_DATA_DIR", data.get("data_dir", "."))
        if isinstance(data_dir, str):  # else (null, a number) the data section's check names the bad value
            folder = Path(data_dir)
            data["data_dir"] = str(folder if folder.is_absolute() else (path.parent / folder).resolve())
    return preset


def _yaml_problem(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return f"{where}invalid YAML: {problem}"


def apply_overrides(preset: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """``section.key=value`` (value parsed as YAML) into a copy of ``preset``."""
    preset = copy.deepcopy(preset)
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--override {item!r}: expected KEY=VALUE, e.g. data.max_patches=255")
        node = preset
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise UsageError(f"--override {item}: {part!r} is not a section")
        try:
            node[leaf] = yaml.safe_load(raw)
        except yaml.YAMLError as error:
            raise UsageError(f"--override {item}: {_yaml_problem(error)}") from None
    return preset


def build_renderer(settings: Mapping[str, Any]) -> PangoCairoTextRenderer:
    """A renderer from a preset's ``renderer`` section: ``from_pretrained(name_or_path, **rest)`` or the
    constructor. A bad setting is the renderer's own TypeError or ValueError, naming it."""
    from pixel.render import PangoCairoTextRenderer

    settings = dict(settings)
    name_or_path = settings.pop("name_or_path", None)
    if name_or_path is not None:
        return PangoCairoTextRenderer.from_pretrained(name_or_path, **settings)
    return PangoCairoTextRenderer(**settings)


@dataclass
class PretrainingPreset:
    """A preset read and checked (``read_preset``); ``path`` and ``overrides`` say where its values came from."""

    model: PIXELConfig
    renderer: PangoCairoTextRenderer
    data: PretrainingDataConfig
    training: dict[str, Any]  # PretrainingArguments fields, each of its field's type
    reconstruction_steps: int
    path: Path
    overrides: tuple[str, ...]
    raw: dict[str, Any]  # the mapping as read, overrides applied (recorded by --prerender)

    def training_arguments(self, flags: Mapping[str, Any]) -> PretrainingArguments:
        """``PretrainingArguments`` from recipe defaults < the ``training`` section < command-line ``flags``; the
        lr from ``base_learning_rate`` unless a learning rate is given. An error names the flag, or the preset
        file and key, it came from."""
        given = {**self.training, **flags}
        if "output_dir" not in given:
            raise UsageError("give --output_dir (or training.output_dir in the preset)")
        settings = {**RECIPE_DEFAULTS, **given}
        if "warmup_steps" in given:  # instead of the recipe's warmup_ratio
            settings.pop("warmup_ratio")
        if "learning_rate" in given:  # an explicit lr wins over the preset's base lr (documented)
            settings.pop("base_learning_rate", None)
        try:
            if {"warmup_steps", "warmup_ratio"} <= given.keys():
                raise ConfigError("warmup_ratio", "give warmup_ratio or warmup_steps, not both")
            args = PretrainingArguments(**settings)
        except ConfigError as error:
            if error.key in flags:
                raise UsageError(f"--{error.key}: {error.problem}") from None
            key = f"training.{error.key}"
            raise UsageError(f"{_origin(key, self.path, self.overrides)}: {key}: {error.problem}") from None
        except ValueError as error:  # transformers' own checks of TrainingArguments
            raise UsageError(f"training arguments: {error}") from None
        if args.base_learning_rate is not None:
            total = args.per_device_train_batch_size * args.world_size * args.gradient_accumulation_steps
            args.learning_rate = args.base_learning_rate * total / 256
        return args


def read_preset(path: str | Path, overrides: Sequence[str] = ()) -> PretrainingPreset:
    """The preset at ``path`` with ``overrides``, every section checked and its renderer built."""
    raw = apply_overrides(load_preset(path), overrides)
    try:
        sections = _checked(raw)
    except ConfigError as error:
        raise UsageError(f"{_origin(error.key, path, overrides)}: {error}") from None
    missing = sections["data"].missing_source_files()
    if missing:
        key, file = f"data.{missing[0][0]}", missing[0][1]
        raise FileNotFoundError(
            f"{_origin(key, path, overrides)}: {key}: {file} does not exist (relative paths resolve against "
            "data.data_dir, itself relative to the preset; PIXEL_DATA_DIR overrides it)"
        )
    try:
        sections["renderer"] = build_renderer(sections["renderer"])
    except (TypeError, ValueError) as error:  # a missing font file stays a data error (exit code 1)
        raise UsageError(f"{_origin('renderer', path, overrides)}: renderer: {error}") from None
    return PretrainingPreset(**sections, path=Path(path), overrides=tuple(overrides), raw=raw)


def _checked(raw: dict[str, Any]) -> dict[str, Any]:
    """The sections of ``raw`` as typed values (the renderer's settings as a dict); ConfigError names a bad key."""
    check_keys(raw, SECTIONS, kind="preset section")
    data = PretrainingDataConfig.from_dict(raw.get("data") or {}, "data")
    model = _model_config(raw.get("model") or {}, data)
    training = check_mapping(
        raw.get("training") or {}, field_types(PretrainingArguments), "training", "TrainingArguments field"
    )
    steps = check_value(raw.get("reconstruction_steps", 1000), int, "reconstruction_steps")
    if steps < 0:
        raise ConfigError("reconstruction_steps", f"must be at least 0 (0 = no pictures), got {steps}")
    return {
        "model": model,
        "renderer": check_value(raw.get("renderer") or {}, dict, "renderer"),
        "data": data,
        "training": training,
        "reconstruction_steps": steps,
    }


def _model_config(raw: Any, data: PretrainingDataConfig) -> PIXELConfig:
    """``PIXELConfig`` of the ``model`` section (``data.mask_ratio`` unless given), with room for ``max_patches``."""
    model = check_mapping(raw, field_types(PIXELConfig.__init__), "model", "PIXELConfig field")
    try:
        config = PIXELConfig(
            **{"mask_ratio": data.mask_ratio, **model}, architectures=["PIXELForPreTraining"]
        )
    except ValueError as error:
        raise ConfigError("model", str(error)) from None
    if config.image_size[1] // config.patch_size < data.max_patches:
        height, patch = config.image_size[0], config.patch_size
        raise ConfigError(
            "model.image_size",
            f"{config.image_size} has fewer patches than data.max_patches={data.max_patches}: make it at least "
            f"[{height}, {patch * data.max_patches}]",
        )
    return config


def _origin(key: str, path: str | Path, overrides: Sequence[str]) -> str:
    """Where the value at ``key`` came from: the last ``--override`` that set it (or a section above it), else
    the preset file (with the overrides inside the section at ``key``, which may have caused the error)."""
    inside = []
    for item in reversed(overrides):
        name = item.partition("=")[0]
        if key == name or key.startswith((f"{name}.", f"{name}[")):
            return f"--override {item}"
        if key and name.startswith(f"{key}."):
            inside.append(f"--override {item}")
    return f"{path} (with {', '.join(reversed(inside))})" if inside else str(path)
