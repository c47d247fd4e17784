"""End-to-end pretraining on the tiny preset (CPU): learning, outputs, DDP parity, kill-and-resume."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pretrain_support import DATA, ENV, FAST, REPO, TINY, needs_sib200  # noqa: F401

pytestmark = needs_sib200


def losses(output_dir: Path) -> list[float]:
    history = json.loads((output_dir / "trainer_state.json").read_text())["log_history"]
    return [entry["loss"] for entry in history if "loss" in entry]


def pretrain_command(output_dir: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "pixel.cli", "pretrain", "--config", str(TINY), "--output_dir", str(output_dir),
            *FAST, *extra]  # fmt: skip


def test_tiny_preset_learns_and_writes_everything(tmp_path):
    from pixel.model import PIXELForPreTraining
    from pixel.render import PangoCairoTextRenderer

    out = tmp_path / "run"
    command = pretrain_command(out, "--max_steps", "240", "--logging_steps", "20", "--logging_first_step", "true",
                               "--save_steps", "1000", "--override", "reconstruction_steps=120")  # fmt: skip
    subprocess.run(command, env=ENV, cwd=REPO, check=True, timeout=600)
    curve = losses(out)
    assert len(curve) == 13  # step 1, then every 20 steps
    assert sum(curve[-3:]) / 3 < 0.85 * curve[0], curve  # falls well below its start
    assert sorted(p.name for p in (out / "reconstructions").iterdir()) == [
        "step-0000120.png",
        "step-0000240.png",
    ]
    model = PIXELForPreTraining.from_pretrained(out)
    assert model.config.hidden_size == 64 and model.config.mask_ratio == 0.25
    renderer = PangoCairoTextRenderer.from_pretrained(out)
    assert renderer.rgb and renderer.max_seq_length == 63
    # The processor is saved as finetuning saves it: the run folder is ready for the Auto classes.
    from transformers import AutoModelForPreTraining, AutoProcessor

    inputs = AutoProcessor.from_pretrained(out)(["a cat", "नमस्ते"], return_tensors="pt")
    assert inputs["pixel_values"].shape[0] == 2
    assert AutoModelForPreTraining.from_pretrained(out)(**inputs).loss.isfinite()


def test_ddp_two_processes_match_one(tmp_path):
    same = ["--max_steps", "4", "--logging_steps", "1", "--save_steps", "1000", "--seed", "7",
            "--override", "model.hidden_dropout_prob=0", "--override", "model.attention_probs_dropout_prob=0",
            "--override", "data.pad_to_max=true", "--override", "reconstruction_steps=0"]  # fmt: skip
    one = subprocess.Popen(
        pretrain_command(tmp_path / "one", "--per_device_train_batch_size", "8", *same), env=ENV, cwd=REPO
    )
    two = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29517",
         "-m", "pixel.cli", "pretrain", "--config", str(TINY), "--output_dir", str(tmp_path / "two"), *FAST,
         "--per_device_train_batch_size", "4", *same],
        env=ENV, cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert one.wait(timeout=300) == 0
    assert two.returncode == 0, two.stderr[-3000:]
    single, double = losses(tmp_path / "one"), losses(tmp_path / "two")
    assert len(single) == 4
    assert double == pytest.approx(single, rel=1e-5)


def test_kill_and_resume_continues_the_same_loss_sequence(tmp_path):
    steps = [
        "--max_steps",
        "24",
        "--logging_steps",
        "1",
        "--save_steps",
        "6",
        "--override",
        "reconstruction_steps=0",
    ]
    reference = subprocess.Popen(pretrain_command(tmp_path / "reference", *steps), env=ENV, cwd=REPO)
    victim_dir = tmp_path / "victim"
    victim = subprocess.Popen(pretrain_command(victim_dir, *steps), env=ENV, cwd=REPO)
    deadline = time.time() + 240
    while not (victim_dir / "checkpoint-12" / "checkpoint_complete").exists():
        assert victim.poll() is None and time.time() < deadline, "no checkpoint before the run ended"
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert not (victim_dir / "trainer_state.json").exists()  # it really died mid-run
    names = {p.name for p in (victim_dir / "checkpoint-12").iterdir()}  # every checkpoint has the processor
    assert {"processor_config.json", "text_renderer_config.json"} <= names
    resumed = subprocess.run(
        pretrain_command(victim_dir, *steps, "--resume_from_checkpoint", "last"),
        env=ENV,
        cwd=REPO,
        timeout=300,
    )
    assert resumed.returncode == 0
    assert reference.wait(timeout=300) == 0
    expected = losses(tmp_path / "reference")
    assert len(expected) == 24
    assert losses(victim_dir) == pytest.approx(expected, rel=1e-6)
