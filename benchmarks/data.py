"""Pretraining data throughput on one core: rendered + span-masked + collated sequences/s for full-length blocks.

    OMP_NUM_THREADS=1 python benchmarks/data.py [--batches 20] [--batch-size 32] [--max-patches 511] [--workers N]

Blocks are packed from the SIB-200 en/hi/uk/zh training sentences (equal parts) to the published 511 patches, so
each sequence is a full-length multilingual strip, then run through the collator exactly as a DataLoader worker
does. Prints sequences/s per worker (one core) and the workers needed for 1,250 sequences/s per GPU, for float32
pixels (the model input) and uint8 pixels (``pixel_dtype="uint8"``), and the time per sequence of rendering and
span masking alone.
With ``--workers N`` the same batches also go through a ``torch.utils.data.DataLoader`` with N worker processes,
which adds what the in-process figure leaves out: process start-up and copying each float batch (~50 MB at 32 x
511 patches) into shared memory for the main process; it runs once with float32 pixels (the model input) and
once with uint8 pixels (``pixel_dtype="uint8"``, a quarter of the bytes). Needs N free cores to mean anything.
"""

from __future__ import annotations

import argparse
import itertools
import math
import time
from pathlib import Path

import numpy as np
import torch

from pixel.data.pretraining import PretrainingCollator, PretrainingDataset, padded_length
from pixel.data.pretraining_config import PretrainingDataConfig
from pixel.data.text import TextSource
from pixel.model import SpanMaskingGenerator
from pixel.render import PangoCairoTextRenderer

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "sib200"
TARGET = 1250


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-patches", type=int, default=511)
    parser.add_argument(
        "--workers", type=int, default=0, help="also time a DataLoader with this many workers"
    )
    args = parser.parse_args()

    renderer = PangoCairoTextRenderer(rgb=True)
    sources = [
        {"path": str(DATA / f"{lang}/train.tsv"), "language": lang[:2]}
        for lang in ("eng_Latn", "hin_Deva", "ukr_Cyrl", "zho_Hans")
    ]
    data = {"data_dir": str(DATA), "sources": sources, "max_patches": args.max_patches, "shuffle_buffer": 0}
    dataset, collator = PretrainingDataConfig.from_dict(data).build(
        renderer, seed=0, batch_size=args.batch_size
    )
    assert isinstance(dataset, PretrainingDataset) and isinstance(collator, PretrainingCollator)
    assert isinstance(collator.span_masking, SpanMaskingGenerator) and isinstance(
        dataset.sources[0], TextSource
    )
    needed = args.batch_size * (args.batches + 1)
    start = time.perf_counter()
    items = list(itertools.islice(dataset.examples(), needed))
    packing = time.perf_counter() - start
    patches = [renderer(item["text"]).num_text_patches for item in items[: args.batch_size]]
    print(
        f"packed {needed} blocks in {packing:.1f}s ({needed / packing:.0f} blocks/s, one core, cleaning+packing)"
    )
    print(f"mean text patches per block: {sum(patches) / len(patches):.0f} of {args.max_patches}")

    collator(
        items[: args.batch_size]
    )  # warm the renderer's caches and the allocator, as a long-running worker is
    timed = items[args.batch_size :]
    for dtype in ("float32", "uint8"):
        collator.pixel_dtype = dtype
        start = time.perf_counter()
        for b in range(args.batches):
            batch = collator(timed[b * args.batch_size : (b + 1) * args.batch_size])
        rate = len(timed) / (time.perf_counter() - start)
        print(
            f"batch {tuple(batch['pixel_values'].shape)} {dtype}: rendered + masked + collated "
            f"{rate:.0f} sequences/s per worker (one core); {math.ceil(TARGET / rate)} workers for {TARGET}/s"
        )
    # where a sequence's time goes: the collator's steps timed on their own
    start = time.perf_counter()
    encodings = [renderer(item["text"]) for item in timed]
    render = time.perf_counter() - start
    length = padded_length(max(e.num_text_patches + 1 for e in encodings), maximum=args.max_patches)
    target = math.ceil(length * collator.mask_ratio)
    start = time.perf_counter()
    for item, encoding in zip(timed, encodings, strict=True):
        rng = np.random.default_rng([0, item["example_id"]])
        collator.span_masking(length, encoding.num_text_patches + 1, target, rng)
    masking = time.perf_counter() - start
    print(
        f"per sequence: render {1e3 * render / len(timed):.2f} ms, span mask {1e3 * masking / len(timed):.2f} ms "
        f"(the rest of the collator is padding, tensors and noise)"
    )
    if args.workers:
        for dtype in ("float32", "uint8"):
            collator.pixel_dtype = dtype
            loader = torch.utils.data.DataLoader(
                items, batch_size=args.batch_size, num_workers=args.workers, collate_fn=collator
            )
            start = time.perf_counter()
            count = sum(len(batch["pixel_values"]) for batch in loader)
            elapsed = time.perf_counter() - start
            print(
                f"DataLoader, {args.workers} workers, {dtype} pixels (incl. start-up and shared-memory transfer): "
                f"{count / elapsed:.0f} sequences/s, {count / elapsed / args.workers:.0f} per worker"
            )


if __name__ == "__main__":
    main()
