"""A finetuning run killed mid-way resumes from its last checkpoint when started again with the same output_dir."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from finetune_support import FAST, SINGLE_THREAD_ENV, UD, needs_data, single_thread, tiny_pretrained_model  # noqa: F401

from pixel.train.checkpoints import CHECKPOINT_COMPLETE

pytestmark = [needs_data, pytest.mark.usefixtures("single_thread")]

REPO = Path(__file__).resolve().parents[2]


def argv(out: Path, max_steps: int) -> list[str]:
    return [
        "--model_name_or_path", str(tiny_pretrained_model()), "--data_dir", str(UD / "UD_Tamil-TTB"),
        "--output_dir", str(out), *FAST, "--max_steps", str(max_steps), "--save_steps", "2", "--logging_steps", "1",
        "--max_seq_length", "32", "--per_device_train_batch_size", "4",
        "--do_train",
    ]  # fmt: skip


def wait_for_checkpoint(process: subprocess.Popen, out: Path, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any((c / CHECKPOINT_COMPLETE).is_file() for c in out.glob("checkpoint-*")):
            return
        assert process.poll() is None, "the run ended before writing a checkpoint"
        time.sleep(0.2)
    raise TimeoutError("no checkpoint written")


def test_killed_run_resumes_from_last_checkpoint(tmp_path, caplog):
    out = tmp_path / "run"
    # A run far too long to finish: it is killed once its first checkpoint is on disk.
    process = subprocess.Popen(
        [sys.executable, "-m", "pixel.cli", "finetune", "ud", *argv(out, 10_000)],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=dict(os.environ, HF_HUB_OFFLINE="1", **SINGLE_THREAD_ENV),
    )  # fmt: skip
    try:
        wait_for_checkpoint(process, out)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    steps = sorted(
        int(c.name.split("-")[1]) for c in out.glob("checkpoint-*") if (c / CHECKPOINT_COMPLETE).exists()
    )
    last = steps[-1]
    assert not (out / "all_results.json").exists()  # it really was interrupted

    from transformers import TrainerCallback

    from pixel.train.finetune import finetune

    class StepRecorder(TrainerCallback):
        def __init__(self) -> None:
            self.steps: list[int] = []

        def on_step_end(self, args, state, control, **kwargs):
            self.steps.append(state.global_step)

    recorder = StepRecorder()
    with caplog.at_level(logging.INFO, logger="pixel.train.finetune"):
        results = finetune("ud", argv(out, last + 2), callbacks=[recorder])
    assert f"resuming from checkpoint {out / f'checkpoint-{last}'}" in caplog.text
    assert recorder.steps == [last + 1, last + 2]  # only the remaining steps ran
    state = json.loads((out / "trainer_state.json").read_text())
    assert state["global_step"] == last + 2
    # The loss log of the steps before the kill comes back from the checkpoint.
    assert [h["step"] for h in state["log_history"] if "loss" in h] == list(range(1, last + 3))
    assert results["train_samples"] == 32  # --max_train_samples


def test_resume_from_checkpoint_last_is_accepted(tmp_path, caplog):
    """`--resume_from_checkpoint last` means the newest complete checkpoint in output_dir, as for pretraining."""
    from pixel.train.arguments import parse_finetune_args
    from pixel.train.finetune import _last_checkpoint

    for step, complete in ((2, True), (4, False)):
        (tmp_path / f"checkpoint-{step}").mkdir()
        if complete:
            (tmp_path / f"checkpoint-{step}" / CHECKPOINT_COMPLETE).write_text("2\n")
    base = ["--model_name_or_path", "m", "--output_dir", str(tmp_path), "--do_train"]
    with caplog.at_level(logging.INFO, logger="pixel.train.finetune"):
        for extra in ([], ["--resume_from_checkpoint", "last"]):
            assert _last_checkpoint(parse_finetune_args([*base, *extra])[2]) == str(tmp_path / "checkpoint-2")
    assert caplog.text.count(f"resuming from checkpoint {tmp_path / 'checkpoint-2'}") == 2
    assert _last_checkpoint(parse_finetune_args([*base, "--overwrite_output_dir"])[2]) is None
