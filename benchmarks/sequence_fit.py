"""Can `PIXELForSequenceClassification` fit a small SIB-200 training set, and how fast, by pooling mode and size?

Trains randomly initialised models (no dropout, AdamW, batches of 16) on the first N English SIB-200 training
sentences and prints the training accuracy every few steps, with the spread of the logits across sentences (the
standard deviation over the N sentences, averaged over classes) at initialisation: a spread near zero means the
pooled features barely differ between sentences, so the optimiser first has to amplify them. Majority-class
accuracy of the set is printed as the baseline.

    python benchmarks/sequence_fit.py --sentences 64 --steps 600 --pooling mean max --hidden 32 128
"""

from __future__ import annotations

import argparse
import csv
import itertools
import time
from pathlib import Path

import numpy as np
import torch

from pixel.data.transforms import pixel_values_to_tensor
from pixel.model import PIXELConfig, PIXELForSequenceClassification
from pixel.render import PangoCairoTextRenderer, get_attention_mask

SIB = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "sib200"


def batch_of(language: str, count: int, length: int) -> dict[str, torch.Tensor]:
    with open(SIB / language / "train.tsv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))[:count]
    names = sorted({r["category"] for r in rows})
    renderer = PangoCairoTextRenderer(max_seq_length=length)
    encodings = [renderer(r["text"]) for r in rows]
    return {
        "pixel_values": torch.stack([pixel_values_to_tensor(e.pixel_values) for e in encodings]),
        "attention_mask": torch.tensor(
            np.stack([get_attention_mask(e.num_text_patches, length) for e in encodings])
        ),
        "labels": torch.tensor([names.index(r["category"]) for r in rows]),
    }


def run(batch: dict, pooling: str, hidden: int, layers: int, lr: float, steps: int, every: int) -> list[str]:
    torch.manual_seed(0)
    length = batch["attention_mask"].shape[1]
    config = PIXELConfig(
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=2 * hidden,
        image_size=(16, 16 * length),
        num_labels=int(batch["labels"].max()) + 1,
        pooling_mode=pooling,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    model = PIXELForSequenceClassification(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    count = len(batch["labels"])
    generator = torch.Generator().manual_seed(0)
    out, start = [], time.perf_counter()
    for step in range(steps + 1):
        if step % every == 0 or step == steps:
            model.eval()
            with torch.no_grad():
                logits = model(**batch).logits  # (N, C)
            model.train()
            accuracy = (logits.argmax(-1) == batch["labels"]).float().mean().item()
            spread = logits.std(0).mean().item()
            out.append(f"{step}:{accuracy:.2f}" + (f" (spread {spread:.3f})" if step == 0 else ""))
        if step == steps:
            break
        index = torch.randperm(count, generator=generator)[:16]
        loss = model(**{k: v[index] for k, v in batch.items()}).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    out.append(f"{time.perf_counter() - start:.0f}s")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--language", default="eng_Latn")
    parser.add_argument("--sentences", type=int, default=64)
    parser.add_argument("--length", type=int, default=64, help="patches per strip")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--every", type=int, default=150)
    parser.add_argument("--lr", type=float, nargs="+", default=[1e-3])
    parser.add_argument("--pooling", nargs="+", default=["mean", "max", "cls", "pma2"])
    parser.add_argument("--hidden", type=int, nargs="+", default=[32])
    parser.add_argument("--layers", type=int, nargs="+", default=[2])
    args = parser.parse_args()
    torch.set_num_threads(1)
    batch = batch_of(args.language, args.sentences, args.length)
    majority = torch.bincount(batch["labels"]).max().item() / len(batch["labels"])
    print(
        f"{args.sentences} {args.language} sentences, {args.length} patches; majority-class accuracy {majority:.2f}"
    )
    print("pooling hidden layers lr | training accuracy at step:acc ... | time")
    for pooling, hidden, layers, lr in itertools.product(args.pooling, args.hidden, args.layers, args.lr):
        cells = run(batch, pooling, hidden, layers, lr, args.steps, args.every)
        print(
            f"{pooling:5} {hidden:4} {layers} {lr:g} | " + " ".join(cells[:-1]) + f" | {cells[-1]}",
            flush=True,
        )


if __name__ == "__main__":
    main()
