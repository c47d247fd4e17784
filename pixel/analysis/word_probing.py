"""Word-level probing: per layer, a logistic-regression probe predicting a word's UPOS tag from the mean of its
patches (a LINSPECTOR-style word probe; the paper probes with LINSPECTOR's tasks, this one needs only UD data).

Sentences are rendered as word lists, so the renderer's `word_starts` give each word's patches; a word's vector at
layer k is the mean of `hidden_states[k]` over them (`pixel.model.biaffine.pool_words`, as the parser pools). Words
cut off by `max_seq_length` are left out of both training and scoring (their count is reported).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .embeddings import position_capacity
from .probing import ProbeResult, majority_baseline, probe_accuracy
from .sib import default_data_dir

if TYPE_CHECKING:
    from pixel.data.processor import PIXELProcessor

__all__ = ["WordRun", "default_ud_dir", "embed_words", "find_treebank_split", "run_upos_probe"]


def default_ud_dir() -> Path:
    """`ud/` beside the SIB-200 folder: `$PIXEL_DATA_DIR/ud`, else `<repo>/../shared/data/ud`."""
    return default_data_dir().parent / "ud"


def find_treebank_split(treebank: Path, split: str) -> Path | None:
    """`<treebank>/*-ud-<split>.conllu`, or None when the treebank has no such file."""
    if not treebank.is_dir():
        raise FileNotFoundError(f"treebank folder {treebank} does not exist")
    found = sorted(treebank.glob(f"*-ud-{split}.conllu"))
    return found[0] if found else None


@dataclass
class WordRun:
    """features: float32 (N + 1, W, D) for the W words kept; kept[i]: how many words of sentence i were kept."""

    features: np.ndarray
    kept: list[int]


@torch.inference_mode()
def embed_words(
    model: Any,
    processor: PIXELProcessor,
    sentences: Sequence[Sequence[str]],
    batch_size: int = 32,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    progress: bool | str = True,
) -> WordRun:
    """Word vectors of every layer for word-tokenised sentences, one forward pass per batch."""
    from tqdm.auto import tqdm

    from pixel.model.biaffine import pool_words

    encoder = getattr(model, "vit", model)
    encoder.to(device=device, dtype=dtype).eval()
    processor.renderer.max_seq_length = min(processor.max_seq_length, position_capacity(encoder))
    layer_chunks: list[list[np.ndarray]] = []  # per layer, (words of a batch, D) pieces
    kept: list[int] = []
    label = progress if isinstance(progress, str) else "words"
    for start in tqdm(range(0, len(sentences), batch_size), desc=label, unit="batch", disable=not progress):
        chunk = [list(words) for words in sentences[start : start + batch_size]]
        batch = processor(chunk, is_split_into_words=True, return_word_starts=True)
        starts = batch["word_starts"]  # (B, L + 1): each word's first patch, the EOS patch, then -100
        batch_kept = ((starts != -100).sum(1) - 1).tolist()
        kept += batch_kept
        pixels = batch["pixel_values"].to(device=device, dtype=dtype)  # (B, 3, P, P L)
        mask = batch["attention_mask"].to(device=device, dtype=dtype)  # (B, L)
        hidden = encoder(pixels, mask, output_hidden_states=True, return_dict=True).hidden_states
        for k, layer_states in enumerate(hidden):  # (B, 1 + L, D) each
            words = pool_words(layer_states[:, 1:].float(), starts.to(device))  # (B, L, D)
            pieces = torch.cat([words[row, :count] for row, count in enumerate(batch_kept)])  # (W_batch, D)
            if k == len(layer_chunks):
                layer_chunks.append([])
            layer_chunks[k].append(pieces.cpu().numpy())
    if not layer_chunks:
        raise ValueError("no sentences to embed")
    return WordRun(np.stack([np.concatenate(parts) for parts in layer_chunks]), kept)


def _read(path: Path, limit: int | None) -> tuple[list[list[str]], list[list[str]]]:
    from pixel.tasks.treebank import read_conllu

    sentences = read_conllu(path)[:limit]
    return [s.words for s in sentences], [s.upos for s in sentences]


def run_upos_probe(
    model: Any,
    processor: PIXELProcessor,
    treebanks: Sequence[Path],
    layers: Sequence[int] | None = None,
    max_sentences: int | None = 1000,
    seed: int = 0,
    regularisation: float = 1.0,
    progress: bool = True,
    **embed_options: Any,
) -> ProbeResult:
    """Per treebank: fit on train (dev when the treebank has no train file), score on test; first `max_sentences`
    sentences of each split."""
    result: ProbeResult | None = None
    for treebank in treebanks:
        train_path = find_treebank_split(treebank, "train") or find_treebank_split(treebank, "dev")
        test_path = find_treebank_split(treebank, "test")
        if train_path is None or test_path is None:
            raise FileNotFoundError(
                f"{treebank} needs *-ud-test.conllu and *-ud-train.conllu or *-ud-dev.conllu"
            )
        runs, tags = {}, {}
        for name, path in (("train", train_path), ("test", test_path)):
            words, upos = _read(path, max_sentences)
            label = progress and f"{treebank.name} {path.stem.rsplit('-', 1)[-1]}"
            runs[name] = embed_words(model, processor, words, progress=label, **embed_options)
            tags[name] = [
                tag for sent, count in zip(upos, runs[name].kept, strict=True) for tag in sent[:count]
            ]
        if result is None:
            chosen = list(range(len(runs["train"].features))) if layers is None else list(layers)
            result = ProbeResult(
                chosen, "train (dev without train)", "test", seed, task="UPOS", key="treebank"
            )
        result.accuracy[treebank.name] = np.array(
            [
                probe_accuracy(
                    runs["train"].features[k],
                    tags["train"],
                    runs["test"].features[k],
                    tags["test"],
                    seed,
                    regularisation,
                )
                for k in result.layers
            ]
        )
        result.baseline[treebank.name] = majority_baseline(tags["train"], tags["test"])
        result.sizes[treebank.name] = (len(tags["train"]), len(tags["test"]))
    if result is None:
        raise ValueError("no treebank to probe")
    return result
