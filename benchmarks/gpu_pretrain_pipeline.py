"""The whole pretraining pipeline on one device: text -> packing -> rendering in N DataLoader workers -> collator ->
PIXELForPreTraining forward + backward + AdamW (bf16 autocast on CUDA).

Prints sequences/s of the data alone (the DataLoader drained as fast as it goes), of the model alone (one batch
reused), and of both together, and whether the device waits for data. The text is the SIB-200 en/hi/uk/zh
sentences from ``../shared/data`` packed across sentences into full-length blocks (the presets' mC4 sources need
the network; ``--preset-sources`` keeps them), rendered by the preset's renderer.

    python benchmarks/gpu_pretrain_pipeline.py --workers 8                      # pixel-m4 preset, batch 32 / GPU
    python benchmarks/gpu_pretrain_pipeline.py --workers 8 --pixel-dtype float32
    python benchmarks/gpu_pretrain_pipeline.py --device cpu --tiny --steps 3    # smoke test (tiny preset)

Rendering needs Pango/cairo and the Noto fonts (scripts/bootstrap.sh); without them the script stops with a
message. ``benchmarks/gpu_pretrain.py`` times the model alone on synthetic inputs.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import torch

from pixel.data.pretraining_config import PretrainingDataConfig
from pixel.model import PIXELConfig, PIXELForPreTraining
from pixel.train.pretrain import float_pixels
from pixel.train.pretrain_preset import apply_overrides, build_renderer, load_preset

REPO = Path(__file__).resolve().parents[1]
SIB = REPO / ".." / "shared" / "data" / "sib200"
LANGUAGES = {"en": "eng_Latn", "hi": "hin_Deva", "uk": "ukr_Cyrl", "zh": "zho_Hans"}


def make_renderer(settings: dict):
    try:
        renderer = build_renderer(settings)
        renderer("renderer check")
    except (ImportError, OSError, FileNotFoundError, RuntimeError, ValueError) as error:
        raise SystemExit(
            f"cannot build the text renderer on this machine ({type(error).__name__}: {error}).\n"
            "The pipeline benchmark renders text with Pango/cairo (pangocairocffi) and the Noto fonts; install "
            "them (scripts/bootstrap.sh: apt-get install libpango-1.0-0 libpangocairo-1.0-0 fonts-noto-core "
            "fonts-noto-cjk) or time the model alone with benchmarks/gpu_pretrain.py."
        ) from error
    return renderer


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--config", default=None, help="preset (default pixel-m4.yaml, or tiny.yaml with --tiny)"
    )
    parser.add_argument("--tiny", action="store_true", help="the tiny preset (small model, 127 patches)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--workers", type=int, default=8, help="DataLoader workers (rendering processes)")
    parser.add_argument("--batch-size", type=int, default=None, help="default: the preset's per-device batch")
    parser.add_argument(
        "--steps", type=int, default=100, help="timed batches per measurement (>> 2 x workers)"
    )
    parser.add_argument(
        "--warmup", type=int, default=None, help="untimed batches first (default 2 x workers + 2)"
    )
    parser.add_argument("--pixel-dtype", choices=["uint8", "float32"], default="uint8")
    parser.add_argument("--preset-sources", action="store_true", help="keep the preset's own text sources")
    parser.add_argument(
        "--text-dir", type=Path, default=SIB, help="SIB-200 folder (default ../shared/data/sib200)"
    )
    parser.add_argument("--override", action="append", default=[], metavar="KEY=VALUE", help="preset key")
    args = parser.parse_args()
    # Every worker's first batch (process start, fonts, caches) falls in the warm-up; the timed batches then also
    # drain the 2 x workers batches prefetched meanwhile, so --steps should be well above that.
    args.warmup = args.warmup if args.warmup is not None else 2 * args.workers + 2

    device = torch.device(args.device)
    config_path = Path(
        args.config or REPO / "configs" / "pretrain" / ("tiny.yaml" if args.tiny else "pixel-m4.yaml")
    )
    preset = apply_overrides(load_preset(config_path), args.override)
    data = dict(preset["data"])
    if not args.preset_sources:
        if not args.text_dir.is_dir():
            raise SystemExit(
                f"SIB-200 text not found in {args.text_dir.resolve()}; give --text-dir DIR or --preset-sources"
            )
        data["sources"] = [
            {"path": str(args.text_dir / f"{d}/train.tsv"), "language": lang} for lang, d in LANGUAGES.items()
        ]
        data["across_documents"] = True  # one-sentence documents: pack across them into full-length blocks
    data["pixel_dtype"] = args.pixel_dtype
    training = preset.get("training") or {}
    batch_size = args.batch_size or int(training.get("per_device_train_batch_size", 32))

    renderer = make_renderer(preset.get("renderer") or {})
    dataset, collator = PretrainingDataConfig.from_dict(data).build(renderer, seed=0, batch_size=batch_size)
    model_settings = {**(preset.get("model") or {}), "mask_ratio": collator.mask_ratio}
    config = PIXELConfig(**model_settings)
    cuda = device.type == "cuda"

    def batches():
        loader = torch.utils.data.DataLoader(
            dataset,
            batch_size=batch_size,
            collate_fn=collator,
            num_workers=args.workers,
            pin_memory=cuda,
            prefetch_factor=2 if args.workers else None,
            generator=torch.Generator().manual_seed(0),
        )
        return iter(loader)

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize(device)

    print(f"device: {torch.cuda.get_device_name(device) if cuda else 'cpu'}; torch {torch.__version__}; "
          f"{os.cpu_count()} CPUs; preset {config_path.name}; batch {batch_size}; {args.workers} workers; "
          f"{args.pixel_dtype} pixels; bf16 autocast {'on' if cuda else 'off (CPU)'}")  # fmt: skip

    # 1. Data alone: drain the DataLoader.
    it = batches()
    start = time.perf_counter()
    for _ in range(args.warmup):
        batch = next(it)
    first = time.perf_counter() - start
    patches = []
    start = time.perf_counter()
    for _ in range(args.steps):
        batch = next(it)
        patches.append(int(batch["attention_mask"].sum()) / batch_size)
    data_rate = args.steps * batch_size / (time.perf_counter() - start)
    del it
    print(f"warm-up {args.warmup} batches {first:.1f} s; mean text+EOS patches per sequence "
          f"{sum(patches) / len(patches):.0f} (padded to {batch['attention_mask'].shape[1]})")  # fmt: skip
    print(f"data alone:   {data_rate:8.1f} sequences/s ({data_rate / max(args.workers, 1):.1f} per worker)")

    # 2. Model alone: the last batch, already on the device, reused.
    torch.manual_seed(0)
    model = PIXELForPreTraining(config).to(device).train()
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=1.5e-4, betas=(0.9, 0.999), weight_decay=0.05, fused=cuda
    )

    def step(inputs: dict[str, torch.Tensor]) -> None:
        inputs = float_pixels({k: v.to(device, non_blocking=True) for k, v in inputs.items()})
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda):
            loss = model(**inputs).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    resident = {k: v.to(device) for k, v in batch.items()}
    for _ in range(args.warmup):
        step(resident)
    sync()
    start = time.perf_counter()
    for _ in range(args.steps):
        step(resident)
    sync()
    model_rate = args.steps * batch_size / (time.perf_counter() - start)
    print(f"model alone:  {model_rate:8.1f} sequences/s (fwd + bwd + AdamW)")

    # 3. Both: a fresh DataLoader feeding the training step; time blocked in next() is time the device may idle.
    it = batches()
    for _ in range(args.warmup):
        step(next(it))
    sync()
    waited = 0.0
    start = time.perf_counter()
    for _ in range(args.steps):
        t0 = time.perf_counter()
        inputs = next(it)
        waited += time.perf_counter() - t0
        step(inputs)
    sync()
    total = time.perf_counter() - start
    both_rate = args.steps * batch_size / total
    print(
        f"both:         {both_rate:8.1f} sequences/s; {100 * waited / total:.0f}% of the loop blocked on next batch"
    )
    # On a CPU the workers and the model share cores, so a slower pipeline alone does not mean waiting for data.
    bound = waited > 0.05 * total and both_rate < 0.9 * model_rate
    print(
        f"the {'GPU' if cuda else 'device'} {'WAITS' if bound else 'does not wait'} for data "
        f"(pipeline {both_rate:.0f} vs model alone {model_rate:.0f} sequences/s; data alone {data_rate:.0f})"
        + (
            ""
            if cuda
            else "; on a CPU the workers compete with the model for cores, so this is only a smoke test"
        )
    )


if __name__ == "__main__":
    main()
