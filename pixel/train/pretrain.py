"""``pixel pretrain``: span-masked MAE pretraining on the HF Trainer, from a YAML preset.

    pixel pretrain --config configs/pretrain/tiny.yaml [--override data.max_patches=255 ...]
                   [--output_dir DIR] [--max_steps N] [any TrainingArguments flag] [--resume_from_checkpoint last]
    pixel pretrain --config configs/pretrain/tiny.yaml --prerender DIR --num_examples N [--shard_size K]

A preset has four sections: ``model`` (``PIXELConfig`` fields), ``renderer`` (``PangoCairoTextRenderer`` kwargs,
or ``name_or_path`` to load one), ``data`` (text sources, packing, masking), ``training`` (``TrainingArguments``
fields plus ``base_learning_rate``: lr = base x total batch / 256, as published) and ``reconstruction_steps``.
Relative source paths resolve against ``data.data_dir``, itself relative to the preset file unless absolute;
``PIXEL_DATA_DIR`` overrides it.

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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import yaml
from transformers import Trainer

__all__ = [
    "main",
    "load_preset",
    "apply_overrides",
    "build_training_arguments",
    "PretrainingTrainer",
    "float_pixels",
]

logger = logging.getLogger(__name__)

# Published recipe (REFERENCE §3.3); presets may override any of them.
RECIPE_DEFAULTS: dict[str, Any] = {
    "optim": "adamw_torch",
    "adam_beta1": 0.9,
    "adam_beta2": 0.999,
    "adam_epsilon": 1e-8,
    "weight_decay": 0.05,
    "warmup_ratio": 0.05,  # transformers 5 spells it warmup_steps=0.05 (a float < 1 is a ratio)
    "lr_scheduler_type": "cosine_with_min_lr",
    "lr_scheduler_kwargs": {"min_lr": 1e-5},
    "max_grad_norm": 1.0,
    "remove_unused_columns": False,  # items carry raw text; the collator turns them into model inputs
    "ignore_data_skip": True,  # the dataset fast-forwards itself (DataResumeCallback), without rendering
    "accelerator_config": {"dispatch_batches": False},  # every process renders only its own slice
}


def load_preset(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"pretraining preset {path} not found")
    with open(path) as f:
        preset = yaml.safe_load(f) or {}
    if not isinstance(preset, dict):
        raise ValueError(f"{path}: a preset must be a mapping, got {type(preset).__name__}")
    unknown = sorted(set(preset) - {"model", "renderer", "data", "training", "reconstruction_steps"})
    if unknown:
        raise ValueError(f"{path}: unknown top-level keys {unknown}")
    preset.setdefault("data", {}).setdefault("data_dir", ".")
    data_dir = Path(os.environ.get("PIXEL_DATA_DIR", preset["data"]["data_dir"]))
    preset["data"]["data_dir"] = str(
        data_dir if data_dir.is_absolute() else (path.parent / data_dir).resolve()
    )
    return preset


def apply_overrides(preset: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """``section.key=value`` (value parsed as YAML) into a copy of ``preset``."""
    preset = copy.deepcopy(preset)
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--override expects key=value, got {item!r}")
        node = preset
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"--override {item!r}: {part!r} is not a section")
        node[leaf] = yaml.safe_load(raw)
    return preset


def _explicit_training_flags(argv: Sequence[str]) -> dict[str, Any]:
    """Only the ``TrainingArguments`` flags given on the command line, typed by ``HfArgumentParser``."""
    from transformers import HfArgumentParser, TrainingArguments

    namespace, unknown = HfArgumentParser(TrainingArguments).parse_known_args(list(argv))
    if unknown:
        raise SystemExit(f"pixel pretrain: unknown arguments {unknown} (see --help and TrainingArguments)")
    given = {token[2:].split("=", 1)[0].replace("-", "_") for token in argv if token.startswith("--")}
    return {key: value for key, value in vars(namespace).items() if key in given}


def build_training_arguments(training: dict[str, Any], flags: dict[str, Any]):
    """TrainingArguments from recipe defaults < preset ``training`` < command-line flags; lr from the base lr."""
    from transformers import TrainingArguments

    settings = {**RECIPE_DEFAULTS, **training, **flags}
    base_lr = settings.pop("base_learning_rate", None)
    names = {f.name for f in dataclasses.fields(TrainingArguments)}
    if "warmup_ratio" not in names and "warmup_ratio" in settings:
        ratio = settings.pop("warmup_ratio")
        if "warmup_steps" not in training and "warmup_steps" not in flags:
            settings["warmup_steps"] = float(ratio)
    unknown = sorted(set(settings) - names)
    if unknown:
        raise ValueError(f"unknown TrainingArguments fields in the preset's training section: {unknown}")
    explicit_lr = "learning_rate" in flags or "learning_rate" in training
    args = TrainingArguments(**settings)
    if base_lr is not None and not explicit_lr:
        total = args.per_device_train_batch_size * args.world_size * args.gradient_accumulation_steps
        args.learning_rate = float(base_lr) * total / 256
    if args.save_total_limit is not None and args.save_total_limit < 2:
        # Rotation runs before the new checkpoint is marked complete (CheckpointCompleteCallback): keep one more.
        raise ValueError(
            "save_total_limit must be >= 2 (or unset) so a complete checkpoint always survives a kill"
        )
    return args


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


def build_renderer(settings: dict[str, Any]):
    from pixel.render import PangoCairoTextRenderer

    settings = dict(settings)
    name_or_path = settings.pop("name_or_path", None)
    if name_or_path is not None:
        return PangoCairoTextRenderer.from_pretrained(name_or_path, **settings)
    return PangoCairoTextRenderer(**settings)


def build_data(data: dict[str, Any], renderer, seed: int, batch_size: int):
    """(dataset, collator) from the preset's ``data`` section."""
    from pixel.data.cleaning import TextCleaner
    from pixel.data.packing import BlockPacker, renderer_measure
    from pixel.data.prerender import check_renderer
    from pixel.data.pretraining import PretrainingCollator, PretrainingDataset
    from pixel.data.text import TextSource
    from pixel.model import SpanMaskingGenerator

    data = dict(data)
    known = {
        "data_dir", "sources", "max_patches", "min_patches", "pack", "clean", "across_documents", "stopping_strategy",
        "shuffle_buffer", "mask_ratio", "span_masking", "max_span_length", "cumulative_span_weights",
        "masking_spacing", "pad_multiple", "pad_to_max", "pixel_dtype",
    }  # fmt: skip
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown data keys {unknown}; known: {sorted(known)}")
    sources = [TextSource.from_dict(raw) for raw in data.get("sources") or []]
    if not sources:
        raise ValueError("data.sources is empty: give at least one {path: ...} or {name: ..., config: ...}")
    max_patches = int(data.get("max_patches", 511))
    for source in sources:
        if (
            source.prerendered is not None
        ):  # refuse shards rendered by another renderer (or for longer blocks)
            check_renderer(source.prerendered_dir(Path(data["data_dir"])), renderer, max_patches)
    cleaner = TextCleaner.for_renderer(renderer) if data.get("clean", True) else None

    def packer_factory() -> BlockPacker:
        return BlockPacker(
            measure=renderer_measure(renderer, max_patches),
            max_patches=max_patches,
            min_patches=int(data.get("min_patches", 22)),
            clean=cleaner,
            across_documents=bool(data.get("across_documents", True)),
        )

    dataset = PretrainingDataset(
        sources=sources,
        packer_factory=packer_factory if data.get("pack", True) else None,
        seed=seed,
        stopping_strategy=data.get("stopping_strategy", "first_exhausted"),
        shuffle_buffer=int(data.get("shuffle_buffer", 10_000)),
        batch_size=batch_size,
        base_dir=Path(data["data_dir"]),
    )
    span = None
    if data.get("span_masking", True):
        span = SpanMaskingGenerator(
            max_span_length=int(data.get("max_span_length", 6)),
            spacing=data.get("masking_spacing", "span"),
            cumulative_span_weights=data.get("cumulative_span_weights", (0.2, 0.4, 0.6, 0.8, 0.9, 1.0)),
        )
    collator = PretrainingCollator(
        renderer=renderer,
        span_masking=span,
        mask_ratio=float(data.get("mask_ratio", 0.25)),
        max_patches=max_patches,
        pad_multiple=int(data.get("pad_multiple", 64)),
        pad_to_max=bool(data.get("pad_to_max", False)),
        seed=seed,
        pixel_dtype=str(data.get("pixel_dtype", "uint8")),
    )
    return dataset, collator


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


def _parse_cli(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(
        prog="pixel pretrain",
        description="Span-masked MAE pretraining of a PIXEL model from a YAML preset on the HF Trainer. Any "
        "transformers TrainingArguments flag (--output_dir, --max_steps, --bf16, --report_to tensorboard, "
        "--resume_from_checkpoint last|DIR, ...) overrides the preset's training section.",
    )
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
    return parser.parse_known_args(list(argv))


def prerender(cli: argparse.Namespace, preset: dict[str, Any], flags: dict[str, Any]) -> int:
    """``--prerender DIR``: the preset's block stream (seeded as for training, one worker), rendered to shards."""
    from pixel.data.prerender import prerender_shards

    if not cli.num_examples:
        raise SystemExit("pixel pretrain --prerender DIR needs --num_examples N")
    training = preset.get("training") or {}
    seed = int(flags.get("seed", training.get("seed", 42)))
    renderer = build_renderer(preset.get("renderer") or {})
    dataset, collator = build_data(preset["data"], renderer, seed=seed, batch_size=1)
    if any(source.prerendered is not None for source in dataset.sources):
        raise SystemExit("pixel pretrain --prerender: the preset's sources are pre-rendered already")
    manifest = prerender_shards(
        dataset.examples(0, 1),
        renderer,
        cli.prerender,
        num_examples=cli.num_examples,
        shard_size=cli.shard_size,
        max_patches=collator.max_patches,
        extra={"config": str(cli.config), "overrides": cli.override, "seed": seed, "data": preset["data"]},
    )
    for source, packer in zip(dataset.sources, dataset.packers, strict=False):
        if packer is not None:
            logger.info("packing %s: %s", source.tag, packer.stats.summary())
    logger.info("wrote %s", manifest)
    return 0


def main(argv: list[str] | None = None) -> int:
    from transformers import ProgressCallback, set_seed

    from pixel.model import PIXELConfig, PIXELForPreTraining
    from pixel.train.pretrain_callbacks import (
        CheckpointCompleteCallback,
        DataResumeCallback,
        ReconstructionCallback,
        ThroughputProgressCallback,
        last_complete_checkpoint,
    )

    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    cli, rest = _parse_cli(sys.argv[1:] if argv is None else argv)
    preset = apply_overrides(load_preset(cli.config), cli.override)
    flags = _explicit_training_flags(rest)
    if cli.prerender:
        return prerender(cli, preset, flags)
    training = dict(preset.get("training") or {})
    if "output_dir" not in flags and "output_dir" not in training:
        raise SystemExit("pixel pretrain: give --output_dir (or training.output_dir in the preset)")
    resume = flags.pop("resume_from_checkpoint", training.pop("resume_from_checkpoint", None))
    args = build_training_arguments(training, flags)
    set_seed(args.seed)  # the model is initialised before the Trainer exists

    renderer = build_renderer(preset.get("renderer") or {})
    sequences_per_step = args.per_device_train_batch_size * args.world_size * args.gradient_accumulation_steps
    dataset, collator = build_data(
        preset["data"],
        renderer,
        seed=args.seed,
        batch_size=args.per_device_train_batch_size * args.world_size,
    )
    model_settings = dict(preset.get("model") or {})
    model_settings.setdefault("mask_ratio", collator.mask_ratio)
    config = PIXELConfig(**model_settings, architectures=["PIXELForPreTraining"])
    if config.image_size[1] // config.patch_size < collator.max_patches:
        raise ValueError(
            f"model.image_size {config.image_size} has fewer patches than data.max_patches={collator.max_patches}"
        )
    model = PIXELForPreTraining(config)
    recon_batch, languages = reconstruction_batch(dataset, collator)

    trainer = PretrainingTrainer(
        model=model,
        args=args,
        train_dataset=dataset,
        data_collator=collator,
        callbacks=[
            CheckpointCompleteCallback(),
            DataResumeCallback(dataset),
            ReconstructionCallback(recon_batch, languages, int(preset.get("reconstruction_steps", 1000))),
        ],
    )
    if trainer.pop_callback(ProgressCallback) is not None:
        trainer.add_callback(ThroughputProgressCallback(sequences_per_step))

    checkpoint = None
    if resume in ("last", "latest", True, "true", "True"):
        checkpoint = last_complete_checkpoint(args.output_dir)
        logger.info("resuming from %s", checkpoint or "scratch (no complete checkpoint yet)")
    elif resume:
        checkpoint = Path(resume)
        if not checkpoint.is_dir():
            raise FileNotFoundError(f"--resume_from_checkpoint {resume}: no such checkpoint folder")
    logger.info("learning rate %.3g for %d sequences per step", args.learning_rate, sequences_per_step)
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)

    trainer.save_model(args.output_dir)
    trainer.save_state()
    if trainer.is_world_process_zero():
        renderer.save_pretrained(args.output_dir)
        for source, packer in zip(dataset.sources, dataset.packers, strict=False):
            if packer is not None:  # counts of the main process's own reading (all of it with 0 workers)
                logger.info("packing %s: %s", source.tag, packer.stats.summary())
    _end_distributed()
    return 0


def _end_distributed() -> None:
    """Tear the process group down before exit: left to interpreter shutdown, a gloo worker thread can still be
    running and abort the process ("terminate called without an active exception") after a successful run."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
