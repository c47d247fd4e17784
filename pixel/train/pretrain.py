"""``pixel pretrain``: span-masked MAE pretraining on the HF Trainer, from a YAML preset.

    pixel pretrain --config configs/pretrain/tiny.yaml [--override data.max_patches=255 ...]
                   [--output_dir DIR] [--max_steps N] [any TrainingArguments flag]
                   [--resume_from_checkpoint last|DIR | --overwrite_output_dir]
    pixel pretrain --config configs/pretrain/tiny.yaml --prerender DIR --num_examples N [--shard_size K]

This module is the command and its wiring: the preset is read and checked by ``pixel.train.pretrain_preset``
(its ``model``, ``renderer``, ``data``, ``training`` and ``reconstruction_steps`` sections), the data pipeline is
``pixel.data`` (``PretrainingDataConfig.build``), the run's start the rule ``pixel finetune`` follows too
(``pixel.train.checkpoints.resume_point``: the newest complete checkpoint in ``--output_dir``, unless
``--overwrite_output_dir``). Command-line flags override the preset's ``training`` section; an unknown or
abbreviated flag is an error naming it.

``--prerender DIR`` packs and renders the preset's first N blocks into Parquet shards instead of training
(``pixel.data.prerender``); a preset then trains from them with the source ``{prerendered: DIR}``.
Batches travel from the DataLoader workers as uint8 pixels (``data.pixel_dtype``, default ``uint8``) and are
divided by 255 on the device in ``PretrainingTrainer.compute_loss``.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from collections.abc import Sequence
from typing import Any

import torch
from transformers import Trainer

from pixel.cli import UsageError
from pixel.train.pretrain_preset import PretrainingPreset, read_preset

__all__ = ["main", "parse_arguments", "PretrainingTrainer", "float_pixels"]

logger = logging.getLogger(__name__)


class _Unset:
    """Default of every TrainingArguments flag, so the flags given can be told from those left to the preset."""

    def __str__(self) -> str:  # what --help shows as the default
        return "the preset's"


_UNSET = _Unset()


def parse_arguments(argv: Sequence[str]) -> tuple[argparse.Namespace, dict[str, Any]]:
    """(pretrain's own options, the ``PretrainingArguments`` flags given, typed) from the command line.

    Flags left out are absent, so only those given override the preset. An unknown or abbreviated flag is a
    one-line error naming it (exit code 2); ``--no_<flag>`` sets a boolean flag false, as in ``HfArgumentParser``.
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
    # Not argparse.SUPPRESS: argparse would put that string in the namespace and convert it (int("==SUPPRESS==")).
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
        assert self.train_dataset is not None, "pixel pretrain always passes its PretrainingDataset"
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


def main(argv: list[str] | None = None) -> int:
    """``pixel pretrain [flags]``; returns the exit code. Bad input is one line, no traceback (``pixel.cli``):
    exit code 2 for a bad flag or preset value, 1 for missing data; ``--debug`` shows the traceback."""
    from pixel.cli import run_command

    return run_command("pixel pretrain", pretrain, sys.argv[1:] if argv is None else argv)


def pretrain(argv: list[str]) -> None:
    """Run ``pixel pretrain`` with ``argv`` (errors raise; ``main`` reports them)."""
    from transformers import ProgressCallback, set_seed

    from pixel.data.processor import PIXELProcessor
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
        return prerender(cli, preset, seed=int(flags.get("seed", preset.training.get("seed", 42))))
    args = preset.training_arguments(flags)
    start = resume_point(args.output_path, args.resume_from_checkpoint, args.overwrite_output_dir)
    logger.info(start.message)
    set_seed(args.seed)  # the model is initialised before the Trainer exists

    sequences_per_step = args.per_device_train_batch_size * args.world_size * args.gradient_accumulation_steps
    dataset, collator = preset.data.build(
        preset.renderer, seed=args.seed, batch_size=args.per_device_train_batch_size * args.world_size
    )
    model = PIXELForPreTraining(preset.model)
    pictured = dataset.first_of_each_language()  # one row per language in the reconstruction pictures
    trainer = PretrainingTrainer(
        model=model,
        args=args,
        train_dataset=dataset,
        data_collator=collator,
        # The renderer + processor_config.json, saved beside the model in every checkpoint and in output_dir
        # (as finetuning does). PIXELProcessor is no ProcessorMixin, which the annotation asks for, but has all
        # the Trainer uses of one (save_pretrained, model_input_names).
        processing_class=PIXELProcessor(preset.renderer),  # type: ignore[arg-type]
        callbacks=[
            CheckpointCompleteCallback(),
            DataResumeCallback(dataset),
            ReconstructionCallback(
                float_pixels(collator(pictured)),
                [item["language"] for item in pictured],
                preset.reconstruction_steps,
            ),
        ],
    )
    if trainer.pop_callback(ProgressCallback) is not None:
        trainer.add_callback(ThroughputProgressCallback(sequences_per_step))
    logger.info("learning rate %.3g for %d sequences per step", args.learning_rate, sequences_per_step)
    trainer.train(resume_from_checkpoint=str(start.checkpoint) if start.checkpoint else None)

    trainer.save_model(args.output_dir)
    trainer.save_state()
    if trainer.is_world_process_zero():
        _log_packing(dataset)  # counts of the main process's own reading (all of it with 0 workers)
    _end_distributed()


def prerender(cli: argparse.Namespace, preset: PretrainingPreset, seed: int) -> None:
    """``--prerender DIR``: the preset's block stream (seeded as for training, one worker), rendered to shards."""
    from pixel.data.prerender import prerender_shards

    if not cli.num_examples or cli.num_examples < 1:
        raise UsageError("--prerender DIR needs --num_examples N (a positive number of blocks)")
    if cli.shard_size < 1:
        raise UsageError(f"--shard_size {cli.shard_size}: must be a positive number of blocks")
    if any(source.prerendered is not None for source in preset.data.sources):
        raise UsageError(f"--prerender: the sources of {cli.config} are pre-rendered already")
    dataset, collator = preset.data.build(preset.renderer, seed=seed, batch_size=1)
    manifest = prerender_shards(
        dataset.examples(0, 1),
        preset.renderer,
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
    _log_packing(dataset)
    logger.info("wrote %s", manifest)


def _log_packing(dataset: Any) -> None:
    for source, packer in zip(dataset.sources, dataset.packers, strict=False):
        if packer is not None:
            logger.info("packing %s: %s", source.tag, packer.stats.summary())


def _end_distributed() -> None:
    """Tear the process group down before exit: left to interpreter shutdown, a gloo worker thread can still be
    running and abort the process ("terminate called without an active exception") after a successful run."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
