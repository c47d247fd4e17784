"""Pre-rendered shards end to end (CLI), and uint8 pixels giving exactly the float path's loss."""

import dataclasses
import itertools
import json
import subprocess
import sys

import torch
from pretrain_support import DATA, ENV, FAST_OVERRIDES, REPO, TINY, needs_sib200  # noqa: F401
from pretrain_support import FAST as SHORT

pytestmark = needs_sib200


def test_prerender_then_train_from_the_shards(tmp_path):
    from pixel.data.pretraining import PretrainingDataset
    from pixel.data.pretraining_config import PretrainingDataConfig
    from pixel.data.text import TextSource
    from pixel.train.pretrain_preset import apply_overrides, load_preset, read_preset

    shards, out = tmp_path / "shards", tmp_path / "run"
    cli = [sys.executable, "-m", "pixel.cli", "pretrain", "--config", str(TINY), *SHORT]
    subprocess.run([*cli, "--prerender", str(shards), "--num_examples", "40", "--shard_size", "16"],
                   env=ENV, cwd=REPO, check=True, timeout=300)  # fmt: skip
    manifest = json.loads((shards / "prerender.json").read_text())
    assert manifest["shards"] == ["shard-00000.parquet", "shard-00001.parquet", "shard-00002.parquet"]
    assert set(manifest["languages"]) == {"en", "hi", "uk", "zh"}

    # The stored pixels equal the configured renderer's on-the-fly rendering of the same texts, masks included.
    preset = read_preset(TINY, FAST_OVERRIDES)
    prerendered = dataclasses.replace(preset.data, sources=[TextSource(prerendered=str(shards))])
    dataset, collator = prerendered.build(preset.renderer, seed=42, batch_size=8)
    items = list(itertools.islice(dataset.examples(), 40))
    assert all("pixels" in item for item in items)
    from_shards = collator(items)
    rendered = collator([{k: item[k] for k in ("text", "language", "example_id")} for item in items])
    assert all(torch.equal(from_shards[k], rendered[k]) for k in rendered)
    # ... and the texts are the preset's blocks, in order (its data section as a plain mapping builds the same).
    stream = PretrainingDataset([TextSource(prerendered=str(shards))], shuffle_buffer=0).examples()
    plain = PretrainingDataConfig.from_dict(apply_overrides(load_preset(TINY), FAST_OVERRIDES)["data"])
    original, _ = plain.build(preset.renderer, seed=42, batch_size=1)
    assert [b["text"] for b in itertools.islice(stream, 40)] == [
        b["text"] for b in itertools.islice(original.examples(0, 1), 40)
    ]

    subprocess.run([*cli, "--override", f"data.sources=[{{prerendered: {shards}}}]", "--output_dir", str(out),
                    "--max_steps", "4", "--logging_steps", "1", "--override", "reconstruction_steps=4"],
                   env=ENV, cwd=REPO, check=True, timeout=300)  # fmt: skip
    history = json.loads((out / "trainer_state.json").read_text())["log_history"]
    assert len([e["loss"] for e in history if "loss" in e]) == 4
    assert (out / "reconstructions" / "step-0000004.png").is_file()

    # A run whose renderer differs from the shards' is refused with a clear error.
    refused = subprocess.run([*cli, "--override", f"data.sources=[{{prerendered: {shards}}}]", "--override",
                              "renderer.rendering_strategy=continuous", "--output_dir", str(tmp_path / "no")],
                             env=ENV, cwd=REPO, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert refused.returncode != 0
    assert "different renderer (rendering_strategy" in refused.stderr


def test_uint8_pixels_give_the_float_loss_bit_for_bit(tmp_path):
    from transformers import TrainingArguments

    from pixel.model import PIXELForPreTraining
    from pixel.train.pretrain import PretrainingTrainer, read_preset

    preset = read_preset(TINY, FAST_OVERRIDES)
    dataset, collator = preset.data.build(preset.renderer, seed=3, batch_size=4)
    assert collator.pixel_dtype == "uint8"  # the default of pixel pretrain
    items = list(itertools.islice(dataset.examples(), 4))
    uint8 = collator(items)
    collator.pixel_dtype = "float32"
    float32 = collator(items)
    assert uint8["pixel_values"].dtype == torch.uint8 and float32["pixel_values"].dtype == torch.float32

    torch.manual_seed(0)
    model = PIXELForPreTraining(preset.model)
    args = TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to="none")
    trainer = PretrainingTrainer(model=model, args=args, data_collator=collator)
    results = []
    for batch in (uint8, float32):
        model.zero_grad()
        torch.manual_seed(1)  # the same dropout in both
        loss = trainer.compute_loss(model, batch)
        loss.backward()
        results.append((loss.detach(), [p.grad.clone() for p in model.parameters() if p.grad is not None]))
    (loss_u, grads_u), (loss_f, grads_f) = results
    assert torch.equal(loss_u, loss_f)
    assert len(grads_u) == len(grads_f) > 0 and all(
        torch.equal(a, b) for a, b in zip(grads_u, grads_f, strict=True)
    )
