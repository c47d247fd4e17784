"""Full-length (529-patch) sequences per second per core, for every strategy, cached vs the per-character path.

Texts are SIB-200 sentences (en/hi/uk/zh, all splits) concatenated until they overflow 529 patches, so every
strip is full, as in pretraining. Warm numbers: each renderer first renders the whole set twice (the bigrams
word cache builds tiles once text repeats). Cold numbers: a fresh renderer (fonts loaded on the first strip)
renders the other strips once, as a data-loader worker meets fresh text; the median of three fresh renderers.
Stream numbers (batch32: the same with ``render_batch`` over batches of 32 strips): a fresh renderer warmed on the first half of the strips renders the unseen second half once, as
pretraining meets new text made mostly of words seen before (on SIB-200 about a quarter of the words of an
en/hi/uk strip are still new there, most of a zh one); the median of three fresh renderers. The uncached path lays out and draws every run on the full strip with Pango, the same work as the
published renderer.

    python benchmarks/render.py [--seconds 5] [--strategies bigrams,words] [--check]
"""

from __future__ import annotations

import argparse
import csv
import os
import time
from pathlib import Path

import numpy as np

from pixel.render import STRATEGIES, PangoCairoTextRenderer

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "sib200"
LANGS = ("eng_Latn", "hin_Deva", "ukr_Cyrl", "zho_Hans")


def full_length_texts(lang: str, renderer: PangoCairoTextRenderer) -> list[str]:
    """Consecutive sentences joined until the text just overflows the strip (as packed pretraining data)."""
    sentences = []
    for split in ("train", "dev", "test"):
        with open(DATA / lang / f"{split}.tsv", newline="") as f:
            sentences += [row["text"] for row in csv.DictReader(f, delimiter="\t")]
    texts, current = [], []
    for sentence in sentences:
        current.append(sentence)
        if renderer(" ".join(current)).truncated:
            texts.append(" ".join(current))
            current = []
    return texts


def rate(renderer: PangoCairoTextRenderer, texts: list[str], seconds: float) -> tuple[float, float]:
    """Sequences per CPU-second of this (single-threaded) process, and the mean number of text patches.

    CPU time rather than wall time, so that other processes sharing the core do not distort the per-core figure.
    """
    done, patches, start = 0, 0, time.process_time()
    while True:
        for text in texts:
            patches += renderer(text).num_text_patches
            done += 1
            if done % 16 == 0 and time.process_time() - start > seconds:
                return done / (time.process_time() - start), patches / done


def cold_rate(strategy: str, texts: list[str], repeats: int = 3) -> float:
    """Sequences per CPU-second of a fresh renderer over strips it has not seen (after one strip to load fonts).

    The median over ``repeats`` fresh renderers: one pass is short, so a single one is noisy on a shared machine.
    """
    rates = []
    for _ in range(repeats):
        renderer = PangoCairoTextRenderer(rendering_strategy=strategy, use_cache=True)
        renderer(texts[0])
        start = time.process_time()
        for text in texts[1:]:
            renderer(text)
        rates.append((len(texts) - 1) / (time.process_time() - start))
    return float(np.median(rates))


def stream_rate(strategy: str, texts: list[str], repeats: int = 3, batch: int = 0) -> float:
    """Sequences per CPU-second of a renderer warmed on the first half of ``texts``, over the unseen second half.

    ``batch`` > 0: the second half is rendered with ``render_batch`` in batches of that many strips (as a
    pretraining collator renders its items). The median over ``repeats`` fresh renderers (the timed half is short).
    """
    half, rates = len(texts) // 2, []
    for _ in range(repeats):
        renderer = PangoCairoTextRenderer(rendering_strategy=strategy, use_cache=True)
        for text in texts[:half]:
            renderer(text)
        start = time.process_time()
        if batch:
            for lo in range(half, len(texts), batch):
                renderer.render_batch(texts[lo : lo + batch])
        else:
            for text in texts[half:]:
                renderer(text)
        rates.append((len(texts) - half) / (time.process_time() - start))
    return float(np.median(rates))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=4.0, help="timing per measurement")
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--check", action="store_true", help="also assert cached == uncached on every text")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    print(
        f"{'strategy':<17}{'lang':<10}{'patches':>8}{'cached seq/s':>14}{'stream seq/s':>14}{'batch32 seq/s':>15}"
        f"{'cold seq/s':>12}"
        f"{'uncached seq/s':>16}{'speed-up':>10}"
    )
    for strategy in args.strategies.split(","):
        for lang in LANGS:
            cached = PangoCairoTextRenderer(rendering_strategy=strategy, use_cache=True)
            lang_texts = full_length_texts(lang, cached)
            direct = PangoCairoTextRenderer(rendering_strategy=strategy, use_cache=False)
            for text in lang_texts:  # warm both (Pango font loading, width and block caches)
                a, b = cached(text), direct(text)
                if args.check:
                    assert np.array_equal(a.pixel_values, b.pixel_values), (strategy, lang, text[:80])
            for text in lang_texts:  # text met again (bigrams: from word tiles from here on)
                a = cached(text)
                if args.check:
                    assert np.array_equal(a.pixel_values, direct(text).pixel_values), (
                        strategy,
                        lang,
                        text[:80],
                    )
            fast, patches = rate(cached, lang_texts, args.seconds)
            stream = stream_rate(strategy, lang_texts)
            batched = stream_rate(strategy, lang_texts, batch=32)
            cold = cold_rate(strategy, lang_texts)
            slow, _ = rate(direct, lang_texts, args.seconds / 2)
            print(
                f"{strategy:<17}{lang:<10}{patches:>8.0f}{fast:>14.0f}{stream:>14.0f}{batched:>15.0f}{cold:>12.0f}"
                f"{slow:>16.0f}"
                f"{fast / slow:>9.1f}x",
                flush=True,
            )


if __name__ == "__main__":
    main()
