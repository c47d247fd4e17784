"""Trainer callbacks for pretraining: reconstruction pictures, throughput bar, atomic checkpoints, data resume."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from transformers import ProgressCallback, TrainerCallback

from .checkpoints import CHECKPOINT_COMPLETE, CheckpointCompleteCallback, last_complete_checkpoint

if TYPE_CHECKING:
    from torch.utils.tensorboard import SummaryWriter

__all__ = [
    "CHECKPOINT_COMPLETE",
    "CheckpointCompleteCallback",
    "DataResumeCallback",
    "ReconstructionCallback",
    "ThroughputProgressCallback",
    "last_complete_checkpoint",
    "reconstruction_picture",
]


class DataResumeCallback(TrainerCallback):
    """Fast-forwards the pretraining dataset past the batches already trained on, without rendering them.

    Used with ``ignore_data_skip=True``: the Trainer's own skip would render and discard every skipped batch.
    ``on_train_begin`` runs after the checkpoint's state is loaded and before the DataLoader starts its workers.
    """

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset

    def on_train_begin(self, args, state, control, **kwargs):
        self.dataset.skip_batches = state.global_step * args.gradient_accumulation_steps


class ThroughputProgressCallback(ProgressCallback):
    """The Trainer's progress bar plus sequences/s over the steps of this run."""

    def __init__(self, sequences_per_step: int) -> None:
        super().__init__()
        self.sequences_per_step = sequences_per_step
        self._start: tuple[float, int] | None = None

    def on_step_end(self, args, state, control, **kwargs):
        super().on_step_end(args, state, control, **kwargs)
        if not state.is_world_process_zero or self.training_bar is None:
            return
        now = time.perf_counter()
        if self._start is None:  # the first step includes start-up (workers, compilation): not counted
            self._start = (now, state.global_step)
            return
        steps = state.global_step - self._start[1]
        if steps > 0:
            rate = steps * self.sequences_per_step / (now - self._start[0])
            self.training_bar.set_postfix_str(f"{rate:,.1f} seq/s", refresh=False)


def reconstruction_picture(
    original: torch.Tensor, masked: torch.Tensor, prediction: torch.Tensor
) -> np.ndarray:
    """uint8 (3 * B * 16 + gaps, 16 L, 3) image: per example, rows original / masked input / prediction.

    All three are (B, 3, 16, 16 L) in [0, 1].
    """
    gap = torch.full_like(original[0, :, :4], 0.5)  # (3, 4, 16 L) grey separator
    rows = []
    for orig, mask_in, pred in zip(original, masked, prediction, strict=True):
        rows += [orig, mask_in, pred, gap]
    image = torch.cat(rows[:-1], dim=1)  # (3, H, 16 L)
    return (image.clamp(0, 1).permute(1, 2, 0).float().numpy() * 255).round().astype(np.uint8)


class ReconstructionCallback(TrainerCallback):
    """Every ``every_steps`` steps, write original / masked / prediction for a fixed batch (one row per language)
    to ``output_dir/reconstructions/step-N.png`` and, when TensorBoard is on, as an image summary."""

    def __init__(self, batch: dict[str, torch.Tensor], languages: list[str], every_steps: int) -> None:
        self.batch = batch
        self.languages = languages
        self.every_steps = every_steps
        self._writer: SummaryWriter | None = None

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if self.every_steps > 0 and state.global_step % self.every_steps == 0:
            self.write(args, state, model)

    def on_train_end(self, args, state, control, model=None, **kwargs):
        if self.every_steps > 0 and state.global_step % self.every_steps != 0:
            self.write(args, state, model)

    @torch.no_grad()
    def write(self, args, state, model) -> Path | None:
        if not state.is_world_process_zero or model is None:
            return None
        from PIL import Image

        was_training = model.training
        model.eval()
        try:
            device = next(model.parameters()).device
            batch = {k: v.to(device) for k, v in self.batch.items()}
            rec = model.reconstruct(**batch)
        finally:
            model.train(was_training)
        masked_input = rec.original * (1 - rec.mask) + 0.5 * rec.mask  # removed patches shown grey
        picture = reconstruction_picture(rec.original.cpu(), masked_input.cpu(), rec.composite.cpu())
        path = Path(args.output_dir) / "reconstructions" / f"step-{state.global_step:07d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(picture).save(path)
        self._tensorboard(args, state, picture)
        return path

    def _tensorboard(self, args, state, picture: np.ndarray) -> None:
        report_to = args.report_to if isinstance(args.report_to, list) else [args.report_to]
        if "tensorboard" not in report_to and "all" not in report_to:
            return
        if self._writer is None:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                return
            self._writer = SummaryWriter(log_dir=args.logging_dir or os.path.join(args.output_dir, "runs"))
        caption = "reconstruction (" + ", ".join(self.languages) + ")"
        self._writer.add_image(caption, picture, state.global_step, dataformats="HWC")
        self._writer.flush()
