"""``pixel pretrain``: span-masked MAE pretraining on the HF Trainer, from a YAML preset.

    pixel pretrain --config configs/pretrain/tiny.yaml [--override data.max_patches=255 ...]
                   [--output_dir DIR] [--max_steps N] [any TrainingArguments flag]
                   [--resume_from_checkpoint last|DIR | --overwrite_output_dir]
    pixel pretrain --config configs/pretrain/tiny.yaml --prerender DIR --num_examples N [--shard_size K]

A preset has five sections, each checked on load against what it configures (``read_preset``): ``model``
(``PIXELConfig`` fields), ``renderer`` (``PangoCairoTextRenderer`` arguments, or ``name_or_path`` and the
``from_pretrained`` ones), ``data`` (``PretrainingDataConfig``: text sources, packing, masking), ``training``
(``PretrainingArguments``: ``TrainingArguments`` fields plus ``base_learning_rate``, lr = base x total batch / 256
as published, and ``warmup_ratio``) and ``reconstruction_steps``. An unknown key (with a did-you-mean), a value of
the wrong type or out of range is an error naming the file (or the ``--override``) and the key path; so is an
unknown or abbreviated flag. Relative source paths resolve against ``data.data_dir``, itself relative to the
preset file unless absolute; ``PIXEL_DATA_DIR`` overrides it.

A run resumes from the newest complete checkpoint in ``--output_dir`` by itself (``pixel.train.checkpoints``,
the rule ``pixel finetune`` follows too); ``--overwrite_output_dir`` starts from scratch.

``--prerender DIR`` packs and renders the preset's first N blocks into Parquet shards instead of training
(``pixel.data.prerender``); a preset then trains from them with the source ``{prerendered: DIR}``.
Batches travel from the DataLoader workers as uint8 pixels (``data.pixel_dtype``, default ``uint8``) and are
divided by 255 on the device in ``PretrainingTrainer.compute_loss``.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import yaml
from transformers import Trainer

from pixel.cli import UsageError
from pixel.data.pretraining_config import (
    ConfigError,
    PretrainingDataConfig,
    check_keys,
    check_mapping,
    check_value,
    field_types,
)

__all__ = [
    "main",
    "load_preset",
    "apply_overrides",
    "read_preset",
    "PretrainingPreset",
    "parse_arguments",
    "build_training_arguments",
    "build_data",
    "build_renderer",
    "PretrainingTrainer",
    "float_pixels",
]

logger = logging.getLogger(__name__)

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

    A missing file is a FileNotFoundError; invalid YAML, a non-mapping or an unknown section a UsageError naming
    the file (and the line).
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
    try:
        check_keys(preset, SECTIONS, kind="preset section")
    except ConfigError as error:
        raise UsageError(f"{path}: {error}") from None
    data = preset.setdefault("data", {})
    if isinstance(data, dict):
        data_dir = Path(os.environ.get("PIXEL_DATA_DIR", data.get("data_dir", ".")))
        data["data_dir"] = str(data_dir if data_dir.is_absolute() else (path.parent / data_dir).resolve())
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


@dataclass
class PretrainingPreset:
    """A preset with every section checked against what it configures (``read_preset``)."""

    model: Any  # PIXELConfig
    renderer: dict[str, Any]  # PangoCairoTextRenderer arguments, or name_or_path and from_pretrained's
    data: PretrainingDataConfig
    training: dict[str, Any]  # PretrainingArguments fields
    reconstruction_steps: int
    raw: dict[str, Any]  # the mapping as read, overrides applied (recorded by --prerender)


def read_preset(path: str | Path, overrides: Sequence[str] = ()) -> PretrainingPreset:
    """The preset at ``path`` with ``overrides``, checked. A bad key or value is a UsageError naming the file (or
    the override) and the key path; a local source that does not exist is a FileNotFoundError naming both."""
    raw = apply_overrides(load_preset(path), overrides)
    try:
        preset = _checked(raw)
    except ConfigError as error:
        raise UsageError(f"{_origin(error.key, path, overrides)}: {error}") from None
    missing = preset.data.missing_source_files()
    if missing:
        key, file = f"data.{missing[0][0]}", missing[0][1]
        raise FileNotFoundError(
            f"{_origin(key, path, overrides)}: {key}: {file} does not exist (relative paths resolve against "
            "data.data_dir, itself relative to the preset; PIXEL_DATA_DIR overrides it)"
        )
    return preset


def _checked(raw: dict[str, Any]) -> PretrainingPreset:
    from pixel.model import PIXELConfig
    from pixel.train.arguments import PretrainingArguments

    check_keys(raw, SECTIONS, kind="preset section")  # again: an --override may have added one
    data = PretrainingDataConfig.from_dict(raw.get("data") or {}, "data")
    model = check_mapping(
        raw.get("model") or {}, field_types(PIXELConfig.__init__), "model", "PIXELConfig field"
    )
    training = check_mapping(
        raw.get("training") or {}, field_types(PretrainingArguments), "training", "TrainingArguments field"
    )
    steps = check_value(raw.get("reconstruction_steps", 1000), int, "reconstruction_steps")
    if steps < 0:
        raise ConfigError("reconstruction_steps", f"must be at least 0 (0 = no pictures), got {steps}")
    return PretrainingPreset(
        model=_model_config(model, data),
        renderer=_renderer_settings(raw.get("renderer") or {}),
        data=data,
        training=training,
        reconstruction_steps=steps,
        raw=raw,
    )


def _model_config(model: dict[str, Any], data: PretrainingDataConfig) -> Any:
    from pixel.model import PIXELConfig

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


def _renderer_settings(raw: Any) -> dict[str, Any]:
    from pixel.render import PangoCairoTextRenderer

    loading = field_types(PangoCairoTextRenderer.from_pretrained)
    settings = check_mapping(
        raw, {**loading, **field_types(PangoCairoTextRenderer)}, "renderer", "renderer setting"
    )
    loading_only = sorted(settings.keys() & loading.keys() - field_types(PangoCairoTextRenderer).keys())
    if loading_only and "name_or_path" not in settings:
        raise ConfigError(
            f"renderer.{loading_only[0]}", "applies only when loading a renderer: add renderer.name_or_path"
        )
    return settings


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


class _Unset:
    """Default of every TrainingArguments flag, so the flags given can be told from those left to the preset."""

    def __str__(self) -> str:  # what --help shows as the default
        return "the preset's"


_UNSET = _Unset()


def parse_arguments(argv: Sequence[str]) -> tuple[argparse.Namespace, dict[str, Any]]:
    """(pretrain's own options, the ``PretrainingArguments`` flags given, typed) from the command line.

    An unknown or abbreviated flag is a one-line error naming it (exit code 2); ``--no_<flag>`` sets a boolean
    flag false, as in ``HfArgumentParser``.
    """
    from pixel.train.arguments import DataclassArgumentParser, PretrainingArguments

    parser = DataclassArgumentParser(
        PretrainingArguments,
        prog="pixel pretrain",
        description="Span-masked MAE pretraining of a PIXEL model from a YAML preset on the HF Trainer. Any "
        "transformers TrainingArguments flag (--output_dir, --max_steps, --bf16, --report_to tensorboard, "
        "--resume_from_checkpoint last|DIR, ...) overrides the preset's training section. A run resumes from the "
        "newest complete checkpoint in --output_dir unless --overwrite_output_dir.",
    )
    names = [f.name for f in dataclasses.fields(PretrainingArguments) if f.init]
    parser.set_defaults(**dict.fromkeys(names, _UNSET))
    parser.add_argument("--config", required=True, help="preset YAML, e.g. configs/pretrain/pixel-m4.yaml")
    parser.add_argument(
        "--override", action="append", default=[], metavar="KEY=VALUE",
        help="set a preset key, e.g. data.max_patches=255 or model.hidden_size=384 (repeatable)",
    )  # fmt: skip
    group = parser.add_argument_group("pre-rendering (instead of training)")
    group.add_argument(
        "--prerender", metavar="DIR", help="write the preset's first blocks to Parquet shards in DIR"
    )
    group.add_argument("--num_examples", type=int, help="blocks to pre-render")
    group.add_argument("--shard_size", type=int, default=10_000, help="blocks per shard (default 10000)")
    values = vars(parser.parse_args(list(argv)))
    flags = {name: value for name in names if (value := values.pop(name)) is not _UNSET}
    return argparse.Namespace(**values), flags


def build_training_arguments(training: Mapping[str, Any], flags: Mapping[str, Any]):
    """``PretrainingArguments`` from recipe defaults < preset ``training`` < command-line flags; the lr from
    ``base_learning_rate`` unless a learning rate is given. ConfigError names a field out of range."""
    from pixel.train.arguments import PretrainingArguments

    given = {**training, **flags}
    settings = {**RECIPE_DEFAULTS, **given}
    if "warmup_steps" in given:
        if "warmup_ratio" in given:
            raise ConfigError("warmup_ratio", "give warmup_ratio or warmup_steps, not both")
        settings.pop("warmup_ratio")
    if "learning_rate" in given:  # an explicit lr wins over the preset's base lr (documented)
        settings.pop("base_learning_rate", None)
    args = PretrainingArguments(**settings)
    if args.base_learning_rate is not None:
        total = args.per_device_train_batch_size * args.world_size * args.gradient_accumulation_steps
        args.learning_rate = args.base_learning_rate * total / 256
    return args


def _training_arguments(preset: PretrainingPreset, flags: dict[str, Any], cli: argparse.Namespace):
    """``build_training_arguments`` with errors naming the flag, or the preset file and key, they came from."""
    if "output_dir" not in flags and "output_dir" not in preset.training:
        raise UsageError("give --output_dir (or training.output_dir in the preset)")
    try:
        return build_training_arguments(preset.training, flags)
    except ConfigError as error:
        if error.key in flags:
            raise UsageError(f"--{error.key}: {error.problem}") from None
        key = f"training.{error.key}"
        raise UsageError(f"{_origin(key, cli.config, cli.override)}: {key}: {error.problem}") from None
    except ValueError as error:  # transformers' own checks of TrainingArguments
        raise UsageError(f"training arguments: {error}") from None


class PretrainingTrainer(Trainer):
    """The HF Trainer with two public extension points filled in.

    - ``get_train_dataloader``: the DataLoader gets its own seeded generator, so starting its iterator does not
      consume the global torch RNG (dropout); otherwise a resumed run would drift from an uninterrupted one.
    - ``compute_loss``: uint8 pixels (``PretrainingCollator(pixel_dtype="uint8")``, a quarter of the bytes from
      the workers and over PCIe) become [0, 1] floats on the device, bit-identical to the collator's float path;
      under data parallelism each rank's loss is re-weighted by its share of the masked text patches of the
      global batch, so gradients and logged losses equal a single-process run's.
    """

    def get_train_dataloader(self):
        args = self.args
        loader = torch.utils.data.DataLoader(
            self.train_dataset,
            batch_size=args.per_device_train_batch_size,
            collate_fn=self.data_collator,
            num_workers=args.dataloader_num_workers,
            pin_memory=args.dataloader_pin_memory,
            persistent_workers=args.dataloader_persistent_workers and args.dataloader_num_workers > 0,
            prefetch_factor=args.dataloader_prefetch_factor if args.dataloader_num_workers > 0 else None,
            generator=torch.Generator().manual_seed(args.seed),
        )
        return self.accelerator.prepare(loader)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        inputs = float_pixels(inputs)
        outputs = model(**inputs)
        loss = outputs.loss
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            merged = (outputs.mask * outputs.attention_mask).sum().detach()
            total = merged.clone()
            torch.distributed.all_reduce(total)
            loss = loss * (merged * torch.distributed.get_world_size() / total)
        return (loss, outputs) if return_outputs else loss


def float_pixels(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``batch`` with uint8 ``pixel_values`` (0-255) as float32 in [0, 1] (``x.float() / 255``, as torchvision)."""
    pixel_values = batch["pixel_values"]
    if pixel_values.dtype != torch.uint8:
        return batch
    return {**batch, "pixel_values": pixel_values.float() / 255}


def build_renderer(settings: Mapping[str, Any]):
    from pixel.render import PangoCairoTextRenderer

    settings = dict(settings)
    name_or_path = settings.pop("name_or_path", None)
    if name_or_path is not None:
        return PangoCairoTextRenderer.from_pretrained(name_or_path, **settings)
    return PangoCairoTextRenderer(**settings)


def _renderer(preset: PretrainingPreset, cli: argparse.Namespace):
    """``build_renderer`` for the preset; the renderer's own checks of its settings name the preset section."""
    try:
        return build_renderer(preset.renderer)
    except FileNotFoundError:  # a font file: missing data (exit code 1), named by the renderer
        raise
    except ValueError as error:
        raise UsageError(f"{_origin('renderer', cli.config, cli.override)}: renderer: {error}") from None


def build_data(data: Mapping[str, Any] | PretrainingDataConfig, renderer, seed: int, batch_size: int):
    """(dataset, collator) from a preset's ``data`` section (a mapping is checked first: ConfigError)."""
    config = data if isinstance(data, PretrainingDataConfig) else PretrainingDataConfig.from_dict(data)
    return config.build(renderer, seed=seed, batch_size=batch_size)


def reconstruction_batch(
    dataset, collator, max_items: int = 2000
) -> tuple[dict[str, torch.Tensor], list[str]]:
    """The first block of every language (in source order), collated once (float pixels): the picture rows."""
    from pixel.data.prerender import read_manifest

    wanted = []
    for source in dataset.sources:
        if source.prerendered is None:
            wanted.append(source.tag)
        else:
            wanted.extend(read_manifest(source.prerendered_dir(dataset.base_dir))["languages"])
    first: dict[str, dict] = {}
    for count, item in enumerate(dataset.examples(0, 1)):
        first.setdefault(item["language"], item)
        if len(first) == len(set(wanted)) or count >= max_items:
            break
    languages = [tag for tag in dict.fromkeys(wanted) if tag in first]
    return float_pixels(collator([first[tag] for tag in languages])), languages


def prerender(cli: argparse.Namespace, preset: PretrainingPreset, flags: dict[str, Any]) -> None:
    """``--prerender DIR``: the preset's block stream (seeded as for training, one worker), rendered to shards."""
    from pixel.data.prerender import prerender_shards

    if not cli.num_examples or cli.num_examples < 1:
        raise UsageError("--prerender DIR needs --num_examples N (a positive number of blocks)")
    if cli.shard_size < 1:
        raise UsageError(f"--shard_size {cli.shard_size}: must be a positive number of blocks")
    if any(source.prerendered is not None for source in preset.data.sources):
        raise UsageError(f"--prerender: the sources of {cli.config} are pre-rendered already")
    seed = int(flags.get("seed", preset.training.get("seed", 42)))
    renderer = _renderer(preset, cli)
    dataset, collator = preset.data.build(renderer, seed=seed, batch_size=1)
    manifest = prerender_shards(
        dataset.examples(0, 1),
        renderer,
        cli.prerender,
        num_examples=cli.num_examples,
        shard_size=cli.shard_size,
        max_patches=collator.max_patches,
        extra={
            "config": str(cli.config),
            "overrides": cli.override,
            "seed": seed,
            "data": preset.raw["data"],
        },
    )
    for source, packer in zip(dataset.sources, dataset.packers, strict=False):
        if packer is not None:
            logger.info("packing %s: %s", source.tag, packer.stats.summary())
    logger.info("wrote %s", manifest)


def main(argv: list[str] | None = None) -> int:
    """``pixel pretrain [flags]``; returns the exit code. Bad input is one line, no traceback (``pixel.cli``):
    exit code 2 for a bad flag or preset value, 1 for missing data; ``--debug`` shows the traceback."""
    from pixel.cli import run_command

    return run_command("pixel pretrain", pretrain, sys.argv[1:] if argv is None else argv)


def pretrain(argv: list[str]) -> None:
    """Run ``pixel pretrain`` with ``argv`` (errors raise; ``main`` reports them)."""
    from transformers import ProgressCallback, set_seed

    from pixel.model import PIXELForPreTraining
    from pixel.train.checkpoints import resume_point
    from pixel.train.pretrain_callbacks import (
        CheckpointCompleteCallback,
        DataResumeCallback,
        ReconstructionCallback,
        ThroughputProgressCallback,
    )

    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    cli, flags = parse_arguments(argv)
    preset = read_preset(cli.config, cli.override)
    if cli.prerender:
        return prerender(cli, preset, flags)
    args = _training_arguments(preset, flags, cli)
    start = resume_point(args.output_dir, args.resume_from_checkpoint, args.overwrite_output_dir)
    logger.info(start.message)
    set_seed(args.seed)  # the model is initialised before the Trainer exists

    renderer = _renderer(preset, cli)
    sequences_per_step = args.per_device_train_batch_size * args.world_size * args.gradient_accumulation_steps
    dataset, collator = preset.data.build(
        renderer, seed=args.seed, batch_size=args.per_device_train_batch_size * args.world_size
    )
    model = PIXELForPreTraining(preset.model)
    recon_batch, languages = reconstruction_batch(dataset, collator)

    trainer = PretrainingTrainer(
        model=model,
        args=args,
        train_dataset=dataset,
        data_collator=collator,
        callbacks=[
            CheckpointCompleteCallback(),
            DataResumeCallback(dataset),
            ReconstructionCallback(recon_batch, languages, preset.reconstruction_steps),
        ],
    )
    if trainer.pop_callback(ProgressCallback) is not None:
        trainer.add_callback(ThroughputProgressCallback(sequences_per_step))
    logger.info("learning rate %.3g for %d sequences per step", args.learning_rate, sequences_per_step)
    trainer.train(resume_from_checkpoint=str(start.checkpoint) if start.checkpoint else None)

    trainer.save_model(args.output_dir)
    trainer.save_state()
    if trainer.is_world_process_zero():
        renderer.save_pretrained(args.output_dir)
        for source, packer in zip(dataset.sources, dataset.packers, strict=False):
            if packer is not None:  # counts of the main process's own reading (all of it with 0 workers)
                logger.info("packing %s: %s", source.tag, packer.stats.summary())
    _end_distributed()


def _end_distributed() -> None:
    """Tear the process group down before exit: left to interpreter shutdown, a gloo worker thread can still be
    running and abort the process ("terminate called without an active exception") after a successful run."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
