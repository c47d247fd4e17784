"""The pretraining data pipeline: text sources -> cleaned, packed blocks -> rendered, span-masked, padded batches.

``PretrainingDataset`` is an ``IterableDataset`` of text blocks; ``PretrainingCollator`` renders each block (RGB
as published), pads the batch dynamically and draws its span masks. Rendering lives in the collator, which runs
in the DataLoader workers, because under DDP ``accelerate`` shards an iterable dataset by letting every process
read every item and keep its slice of each global batch (``IterableDatasetShard``): anything done per item in the
dataset would be done once per process, while the collator only ever sees this process's slice.

Determinism: the blocks a worker reads depend on (seed, number of workers) only, each example carries an id, and
its span mask and masking noise come from ``np.random.default_rng([seed, id])``, so a batch is the same in every
run, on any number of processes, with the same global batch size and worker count.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pixel.data import processor
from pixel.data.packing import BlockPacker
from pixel.data.prerender import read_manifest, stored_pixels
from pixel.data.text import StoppingStrategy, TextSource, interleave_sources, load_source
from pixel.render.encoding import Encoding

__all__ = ["PretrainingDataset", "PretrainingCollator", "padded_length"]


def padded_length(longest: int, multiple: int = 64, maximum: int = 511) -> int:
    """Patches L to pad a batch to, so that L + CLS is a multiple of ``multiple`` (published: 64, max 511).

    ``longest`` is the longest text + EOS in the batch (REFERENCE §3.3: ``longest + (64 - longest % 64) - 1``).
    This is the processor's ``padded_length`` applied to the model's whole sequence, CLS counted as one more
    patch: the processor rounds L itself, pretraining rounds L + 1.
    """
    if longest < 1 or longest > maximum:
        raise ValueError(f"longest sequence {longest} patches is outside 1..{maximum}")
    return processor.padded_length([longest], maximum + 1, pad_to_multiple_of=multiple) - 1


@dataclass
class PretrainingDataset(torch.utils.data.IterableDataset):
    """Endless stream of ``{"text", "language", "example_id"}`` blocks, split between DataLoader workers.

    Each worker reads every ``num_workers``-th document of each source (``datasets.split_dataset_by_node``),
    cleans and packs them (``packer_factory`` builds one packer per source and worker), interleaves the sources
    with their probabilities, shuffles with a buffer, and starts a new epoch (new shuffle seed) when the stream
    ends. ``skip_batches`` fast-forwards past batches already trained on without rendering them (resume).

    Attributes:
        sources: the text sources; their ``probability`` fields weight the interleaving (None = equal).
        packer_factory: ``() -> BlockPacker``; None yields each document as one block (pre-packed data).
        batch_size: examples per DataLoader batch on all processes together (per-device batch x world size);
            needed only to translate ``skip_batches`` into examples.
    """

    sources: Sequence[TextSource]
    packer_factory: Callable[[], BlockPacker] | None = None
    seed: int = 42
    stopping_strategy: StoppingStrategy = "first_exhausted"
    shuffle_buffer: int = 10_000
    batch_size: int = 1
    base_dir: Path | None = None
    skip_batches: int = 0
    map_batch_size: int = 64  # documents packed per call; small so the first blocks come quickly
    packers: list[BlockPacker | None] = field(default_factory=list, init=False, repr=False)  # per source

    def __post_init__(self) -> None:
        super().__init__()
        if not self.sources:
            raise ValueError("PretrainingDataset needs at least one text source")
        kinds = {source.prerendered is not None for source in self.sources}
        if len(kinds) > 1:
            raise ValueError(
                "pre-rendered sources ({prerendered: DIR}) cannot be mixed with text sources in one run: "
                f"{self.sources}"
            )

    def __iter__(self) -> Iterator[dict[str, Any]]:
        info = torch.utils.data.get_worker_info()
        worker, num_workers = (info.id, info.num_workers) if info is not None else (0, 1)
        # The DataLoader takes batch k from worker k % num_workers, each from that worker's consecutive items, and
        # restarts at worker 0: after skipping B batches, worker w must continue the stream of worker (w + B) % W.
        stream_of = (worker + self.skip_batches) % num_workers
        done = len(range(stream_of, self.skip_batches, num_workers))  # batches that stream already gave
        return itertools.islice(self.examples(stream_of, num_workers), done * self.batch_size, None)

    def examples(self, worker: int = 0, num_workers: int = 1) -> Iterator[dict[str, Any]]:
        """The endless item stream of one worker (ids are unique across workers and epochs)."""
        count = 0
        for epoch in itertools.count():
            stream = self._epoch_stream(epoch, worker, num_workers)
            yielded = 0
            for batch in stream.iter(batch_size=self.map_batch_size):
                columns = list(batch)  # text, language (+ pixels, num_text_patches from pre-rendered shards)
                for values in zip(*(batch[c] for c in columns), strict=True):
                    yield {
                        **dict(zip(columns, values, strict=True)),
                        "example_id": worker + num_workers * count,
                    }
                    count += 1
                    yielded += 1
            if yielded == 0:
                raise ValueError(
                    f"text sources gave no blocks to worker {worker}/{num_workers}: {self.sources}"
                )

    def first_of_each_language(self, max_items: int = 2000) -> list[dict[str, Any]]:
        """The first block of every language of the sources, in source order (languages not met within the first
        ``max_items`` blocks are left out): the rows of the reconstruction pictures."""
        wanted: list[str] = []
        for source in self.sources:
            if source.prerendered is None:
                wanted.append(source.tag)
            else:
                wanted.extend(read_manifest(source.prerendered_dir(self.base_dir))["languages"])
        languages = set(wanted)
        first: dict[str, dict[str, Any]] = {}
        for item in itertools.islice(self.examples(0, 1), max_items + 1):
            first.setdefault(item["language"], item)
            if len(first) == len(languages):
                break
        return [first[tag] for tag in dict.fromkeys(wanted) if tag in first]

    def _epoch_stream(self, epoch: int, worker: int, num_workers: int):
        from datasets.distributed import split_dataset_by_node

        streams = []
        self.packers = []
        for source in self.sources:
            stream = split_dataset_by_node(
                load_source(source, self.base_dir), rank=worker, world_size=num_workers
            )
            if source.prerendered is not None:  # already packed and rendered; rows carry their language
                self.packers.append(None)
                streams.append(stream)
                continue
            packer = self.packer_factory() if self.packer_factory is not None else None
            self.packers.append(packer)
            stream = stream.map(
                _pack_batch,
                batched=True,
                batch_size=self.map_batch_size,
                fn_kwargs={"packer": packer, "language": source.tag},
            )
            streams.append(stream)
        given = [s.probability for s in self.sources]
        probabilities = [p for p in given if p is not None]
        if 0 < len(probabilities) < len(given):
            raise ValueError(f"give a probability for every source or for none: {given}")
        stream = interleave_sources(
            streams, probabilities or None, seed=self.seed + epoch, stopping_strategy=self.stopping_strategy
        )
        if self.shuffle_buffer > 1:
            stream = stream.shuffle(seed=self.seed + epoch, buffer_size=self.shuffle_buffer)
        return stream


def _pack_batch(batch: dict[str, list], packer: BlockPacker | None, language: str) -> dict[str, list]:
    texts = [t for t in batch["text"] if t]
    blocks = list(packer.pack(texts)) if packer is not None else [" ".join(t.split()) for t in texts]
    blocks = [b for b in blocks if b]
    return {"text": blocks, "language": [language] * len(blocks)}


@dataclass
class PretrainingCollator:
    """Render, pad and span-mask a list of dataset items into model inputs.

    Items from pre-rendered shards (with ``pixels`` and ``num_text_patches``) are not rendered again; their
    masks are drawn exactly as for rendered items.

    The batch is the processor's: ``collate_encodings`` of the items' Encodings (pre-rendered rows become
    Encodings of their stored strips) at the length ``padded_length`` gives here (the processor's rule with CLS
    counted); the span masks and the masking noise are added per row.

    Returns ``pixel_values (B, 3, 16, 16 L)`` (white padding), ``attention_mask (B, L)`` (text + EOS),
    ``patch_mask (B, L)`` (span mask; omitted without ``span_masking``) and ``noise (B, L)`` U[0, 1) for the
    model's masking, where L + 1 (CLS) is a multiple of ``pad_multiple`` (or L = ``max_patches`` with
    ``pad_to_max``).

    Attributes:
        renderer: a ``pixel.render`` renderer; its ``max_seq_length`` is set to ``max_patches``.
        span_masking: a ``SpanMaskingGenerator`` or None for the model's random masking.
        mask_ratio: fraction of the padded length to span-mask (``ceil(L * mask_ratio)``, published 0.25).
        pixel_dtype: "float32" (the model input, [0, 1]) or "uint8" (0-255, white = 255): a quarter of the bytes to
            move from the DataLoader workers (which copy every batch into shared memory, ~50 ms for a float batch
            of 32 x 511 patches) and to the GPU; the consumer then divides by 255 on the device (bit-identical).
    """

    renderer: Any
    span_masking: Any = None
    mask_ratio: float = 0.25
    max_patches: int = 511
    pad_multiple: int = 64
    pad_to_max: bool = False
    seed: int = 42
    pixel_dtype: str = "float32"

    def __post_init__(self) -> None:
        if self.pixel_dtype not in ("float32", "uint8"):
            raise ValueError(f"pixel_dtype must be 'float32' or 'uint8', got {self.pixel_dtype!r}")
        self.renderer.max_seq_length = self.max_patches

    def __call__(self, items: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        encodings = self._encodings(items)
        lengths = [min(e.num_text_patches + 1, self.max_patches) for e in encodings]  # text + EOS
        seq_length = (
            self.max_patches
            if self.pad_to_max
            else padded_length(max(lengths), self.pad_multiple, self.max_patches)
        )
        batch = processor.collate_encodings(  # pixel_values (B, 3, 16, 16 L), attention_mask (B, L)
            encodings, seq_length, padding="max_length", return_uint8=self.pixel_dtype == "uint8"
        )
        # The masks are built in numpy and handed to torch once (torch.from_numpy, no copy): per-item torch ops
        # cost more than the work itself in a single-threaded DataLoader worker.
        patch_mask = np.zeros((len(items), seq_length), dtype=np.float32)
        noise = np.empty((len(items), seq_length), dtype=np.float32)
        target = math.ceil(seq_length * self.mask_ratio)
        for row, (item, length) in enumerate(zip(items, lengths, strict=True)):
            rng = np.random.default_rng([self.seed, int(item["example_id"])])
            if self.span_masking is not None:
                patch_mask[row] = self.span_masking(seq_length, length, target, rng)
            noise[row] = rng.random(seq_length, dtype=np.float32)
        batch["noise"] = torch.from_numpy(noise)
        if self.span_masking is not None:
            batch["patch_mask"] = torch.from_numpy(patch_mask)
        return batch

    def _encodings(self, items: list[dict[str, Any]]) -> list[Encoding]:
        """Every item's Encoding: a pre-rendered row's stored strip, else rendered (all the batch's texts in one
        ``render_batch`` call where the renderer has one: the same strips, faster)."""
        out: list[Encoding | None] = [None] * len(items)
        todo = []
        for k, item in enumerate(items):
            if "pixels" in item:
                out[k] = Encoding(stored_pixels(item, self.max_patches), int(item["num_text_patches"]))
            else:
                todo.append(k)
        texts = [items[k]["text"] for k in todo]
        render_batch = getattr(self.renderer, "render_batch", None)
        encodings = render_batch(texts) if render_batch else [self.renderer(text) for text in texts]
        for k, encoding in zip(todo, encodings, strict=True):
            out[k] = encoding
        done = [encoding for encoding in out if encoding is not None]
        assert len(done) == len(items)  # every item was read or rendered above, in order
        return done
