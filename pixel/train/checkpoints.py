"""Atomic checkpoints for pretraining and finetuning: a completion marker the Trainer's in-place saves lack, and
the one rule by which ``pixel pretrain`` and ``pixel finetune`` decide where a run starts (``resume_point``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import torch
from transformers import TrainerCallback

from pixel.cli import UsageError

__all__ = [
    "CHECKPOINT_COMPLETE",
    "CheckpointCompleteCallback",
    "ResumePoint",
    "last_complete_checkpoint",
    "resume_point",
]

CHECKPOINT_COMPLETE = "checkpoint_complete"
# --resume_from_checkpoint values meaning "the newest complete checkpoint in output_dir" (True is the HF spelling).
LAST = ("last", "latest", "true")
# What a run leaves in output_dir before its first checkpoint: logs, nothing that starting again would lose.
_RUN_LOGS = ("runs", "reconstructions")


class CheckpointCompleteCallback(TrainerCallback):
    """Marks a checkpoint folder complete once every process has written its part.

    The Trainer writes ``checkpoint-N`` in place (model, optimizer, scheduler, RNG per rank, then the state), so
    a kill mid-save leaves a folder that ``get_last_checkpoint`` would still pick. ``on_save`` runs after the
    whole save; after a barrier, rank 0 creates the marker by an atomic rename, and resuming only considers marked
    folders (``last_complete_checkpoint``).

    ``on_train_begin`` (after any checkpoint is loaded) removes the markers of checkpoints beyond the starting step,
    left by an earlier run in the same output_dir (``--overwrite_output_dir``, or an older explicit checkpoint):
    this run writes those folders again in place, and a kill mid-save must not leave them marked complete.
    """

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            for step, folder in _complete_checkpoints(args.output_dir):
                if step > state.global_step:
                    (folder / CHECKPOINT_COMPLETE).unlink(missing_ok=True)

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


def _complete_checkpoints(output_dir: str | Path) -> list[tuple[int, Path]]:
    folder = Path(output_dir)
    if not folder.is_dir():
        return []
    steps = []
    for child in folder.iterdir():
        name = child.name
        if name.startswith("checkpoint-") and name[11:].isdigit() and (child / CHECKPOINT_COMPLETE).is_file():
            steps.append((int(name[11:]), child))
    return sorted(steps)


def last_complete_checkpoint(output_dir: str | Path) -> Path | None:
    """The highest-step ``checkpoint-N`` folder that carries the completion marker, or None."""
    steps = _complete_checkpoints(output_dir)
    return steps[-1][1] if steps else None


class ResumePoint(NamedTuple):
    checkpoint: Path | None  # None: train from scratch
    message: str  # one line for the log, saying which and why


def resume_point(
    output_dir: str | Path, resume_from_checkpoint: str | None, overwrite_output_dir: bool
) -> ResumePoint:
    """Where a training run starts; the same rule for ``pixel pretrain`` and ``pixel finetune``.

    - ``--resume_from_checkpoint DIR``: that checkpoint (FileNotFoundError if it is not a folder);
    - ``--resume_from_checkpoint last``: the newest complete checkpoint in output_dir, else from scratch;
    - ``--overwrite_output_dir``: from scratch;
    - neither: the newest complete checkpoint in output_dir, so rerunning a killed command resumes it; from scratch
      if output_dir is new, empty or holds only logs; ValueError if it holds anything else (a finished model, or
      a checkpoint killed mid-save) that training would overwrite.
    """
    output_dir = Path(output_dir)
    resume = resume_from_checkpoint
    if resume is not None and overwrite_output_dir:
        raise UsageError(
            f"--resume_from_checkpoint {resume} and --overwrite_output_dir contradict each other: give one"
        )
    if resume is not None and str(resume).lower() not in LAST:
        if not Path(resume).is_dir():
            raise FileNotFoundError(f"--resume_from_checkpoint {resume}: no such checkpoint folder")
        return ResumePoint(Path(resume), f"resuming from checkpoint {resume} (--resume_from_checkpoint)")
    if overwrite_output_dir:
        return ResumePoint(None, f"training from scratch into {output_dir} (--overwrite_output_dir)")
    last = last_complete_checkpoint(output_dir)
    if last is not None:
        return ResumePoint(
            last, f"resuming from checkpoint {last} (pass --overwrite_output_dir to start from scratch)"
        )
    if resume is None and output_dir.is_dir() and any(p.name not in _RUN_LOGS for p in output_dir.iterdir()):
        raise ValueError(
            f"output directory {output_dir} already exists, is not empty and holds no complete checkpoint; "
            "pass --overwrite_output_dir to train into it anyway"
        )
    return ResumePoint(None, f"training from scratch: no complete checkpoint in {output_dir}")
