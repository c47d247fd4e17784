"""Where a training run starts (`resume_point`, shared by `pixel pretrain` and `pixel finetune`), and a
`pixel pretrain` rerun resuming by itself."""

import json
import logging
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from pretrain_support import FAST, TINY, needs_sib200  # noqa: F401

from pixel.cli import UsageError
from pixel.train.checkpoints import CHECKPOINT_COMPLETE, CheckpointCompleteCallback, resume_point


def checkpoint(output_dir: Path, step: int, complete: bool = True) -> Path:
    folder = output_dir / f"checkpoint-{step}"
    folder.mkdir(parents=True)
    if complete:
        (folder / CHECKPOINT_COMPLETE).write_text(f"{step}\n")
    return folder


def test_rerun_resumes_from_the_newest_complete_checkpoint(tmp_path):
    checkpoint(tmp_path, 2)
    checkpoint(tmp_path, 4, complete=False)  # killed mid-save
    start = resume_point(tmp_path, None, False)
    assert start.checkpoint == tmp_path / "checkpoint-2"
    assert start.message == f"resuming from checkpoint {tmp_path / 'checkpoint-2'} (pass --overwrite_output_dir " \
                            "to start from scratch)"  # fmt: skip
    assert resume_point(tmp_path, "last", False).checkpoint == tmp_path / "checkpoint-2"


def test_overwrite_output_dir_starts_from_scratch(tmp_path):
    checkpoint(tmp_path, 2)
    start = resume_point(tmp_path, None, True)
    assert (
        start.checkpoint is None
        and "from scratch" in start.message
        and "--overwrite_output_dir" in start.message
    )


def test_new_or_log_only_output_dir_starts_from_scratch(tmp_path):
    assert resume_point(tmp_path / "new", None, False).checkpoint is None
    (tmp_path / "runs").mkdir()  # tensorboard logs of a run killed before its first checkpoint
    assert resume_point(tmp_path, None, False).checkpoint is None


def test_output_dir_with_files_but_no_complete_checkpoint_is_not_overwritten_silently(tmp_path):
    checkpoint(tmp_path, 4, complete=False)
    with pytest.raises(ValueError, match="pass --overwrite_output_dir"):
        resume_point(tmp_path, None, False)
    # --resume_from_checkpoint last asks for "the last one if any": it starts from scratch here.
    assert resume_point(tmp_path, "last", False).checkpoint is None


def test_explicit_checkpoint_folder(tmp_path):
    folder = checkpoint(tmp_path / "old", 6)
    assert resume_point(tmp_path / "new", str(folder), False).checkpoint == folder
    with pytest.raises(FileNotFoundError, match="--resume_from_checkpoint .*: no such checkpoint folder"):
        resume_point(tmp_path, str(tmp_path / "nope"), False)
    with pytest.raises(UsageError, match="contradict"):
        resume_point(tmp_path, "last", True)


def test_a_fresh_start_unmarks_the_checkpoints_it_will_write_again(tmp_path):
    for step in (2, 4):
        checkpoint(tmp_path, step)
    args = SimpleNamespace(output_dir=str(tmp_path))
    state = SimpleNamespace(global_step=2, is_world_process_zero=True)
    CheckpointCompleteCallback().on_train_begin(args, state, None)
    assert (tmp_path / "checkpoint-2" / CHECKPOINT_COMPLETE).exists()
    assert not (tmp_path / "checkpoint-4" / CHECKPOINT_COMPLETE).exists()


@needs_sib200
def test_pretrain_rerun_resumes_by_itself(tmp_path, caplog):
    from pixel.cli import main as pixel

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # two shared cores
    out = tmp_path / "run"
    argv = ["pretrain", "--config", str(TINY), "--output_dir", str(out), *FAST, "--save_steps", "2",
            "--logging_steps", "1", "--override", "reconstruction_steps=0", "--override", "data.max_patches=31",
            "--per_device_train_batch_size", "2"]  # fmt: skip
    try:
        assert pixel([*argv, "--max_steps", "2"]) == 0
        with caplog.at_level(logging.INFO, logger="pixel.train.pretrain"):
            assert pixel([*argv, "--max_steps", "3"]) == 0
    finally:
        torch.set_num_threads(threads)
    assert f"resuming from checkpoint {out / 'checkpoint-2'}" in caplog.text
    state = json.loads((out / "trainer_state.json").read_text())
    assert state["global_step"] == 3
    assert [h["step"] for h in state["log_history"] if "loss" in h] == [1, 2, 3]
