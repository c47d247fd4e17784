"""Atomic checkpoints for pretraining and finetuning: a completion marker the Trainer's in-place saves lack."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from transformers import TrainerCallback

__all__ = ["CHECKPOINT_COMPLETE", "CheckpointCompleteCallback", "last_complete_checkpoint"]

CHECKPOINT_COMPLETE = "checkpoint_complete"


class CheckpointCompleteCallback(TrainerCallback):
    """Marks a checkpoint folder complete once every process has written its part.

    The Trainer writes ``checkpoint-N`` in place (model, optimizer, scheduler, RNG per rank, then the state), so
    a kill mid-save leaves a folder that ``get_last_checkpoint`` would still pick. ``on_save`` runs after the
    whole save; after a barrier, rank 0 creates the marker by an atomic rename, and resuming only considers marked
    folders (``last_complete_checkpoint``).
    """

    def on_save(self, args, state, control, **kwargs):
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.barrier()
        if state.is_world_process_zero:
            folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if folder.is_dir():
                tmp = folder / f".{CHECKPOINT_COMPLETE}.tmp"
                with open(tmp, "w") as f:
                    f.write(f"{state.global_step}\n")
                    f.flush()
                    os.fsync(f.fileno())
                tmp.replace(folder / CHECKPOINT_COMPLETE)
                _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def last_complete_checkpoint(output_dir: str | Path) -> Path | None:
    """The highest-step ``checkpoint-N`` folder that carries the completion marker, or None."""
    folder = Path(output_dir)
    if not folder.is_dir():
        return None
    steps = []
    for child in folder.iterdir():
        name = child.name
        if name.startswith("checkpoint-") and name[11:].isdigit() and (child / CHECKPOINT_COMPLETE).is_file():
            steps.append((int(name[11:]), child))
    return max(steps)[1] if steps else None
