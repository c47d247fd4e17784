"""Shared pieces of the finetuning, sweep and predict tests: a tiny "pretrained" model folder and the real data.

The model is a randomly initialised, tiny `PIXELForPreTraining` saved with the default renderer, exactly the layout
of a released checkpoint folder (config.json, model.safetensors, text_renderer_config.json + font). It is built
once per test session (cached) in a temporary folder.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import shutil
import tempfile
from pathlib import Path

import pytest
from data_location import SIB200, UD, data_mark  # tests/ is on sys.path (beside tests/conftest.py)

SIB = SIB200

# Two threads on two shared, busy cores run a tiny model ~7x slower than one (oversubscription).
SINGLE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@contextlib.contextmanager
def one_thread():
    """Run torch on one thread inside the block, then restore the previous setting."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@pytest.fixture
def single_thread():
    with one_thread():
        yield


needs_data = data_mark(UD, SIB)

# Few steps, short strips, small batches: each end-to-end run takes seconds on two CPU cores.
FAST = [
    "--max_seq_length", "64",
    "--per_device_train_batch_size", "8",
    "--per_device_eval_batch_size", "16",
    "--max_train_samples", "32",
    "--max_eval_samples", "16",
    "--max_predict_samples", "16",
    "--max_steps", "3",
    "--learning_rate", "1e-3",
    "--report_to", "none",
    "--dataloader_num_workers", "0",
    "--disable_tqdm", "True",
]  # fmt: skip


@functools.cache
def tiny_pretrained_model() -> Path:
    """Folder of a tiny PIXEL-M4-shaped pretraining checkpoint with its renderer."""
    import torch
    from tiny_models import tiny_mae_config

    from pixel.model import PIXELForPreTraining
    from pixel.render import PangoCairoTextRenderer

    folder = Path(tempfile.mkdtemp(prefix="pixel-tiny-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    torch.manual_seed(0)
    config = tiny_mae_config()
    PIXELForPreTraining(config).save_pretrained(folder)
    PangoCairoTextRenderer().save_pretrained(folder)
    return folder


def ner_folder_from_ud(treebank: Path, out: Path, sentences: int = 120) -> Path:
    """CoNLL NER files (train/dev/test.txt) built from UD tokens: PROPN runs -> PER, NUM runs -> NUM, else O."""
    from pixel.tasks.treebank import read_conllu

    out.mkdir(parents=True, exist_ok=True)
    for split in ("train", "dev", "test"):
        (path,) = treebank.glob(f"*-ud-{split}.conllu")
        lines = ["-DOCSTART- O", ""]
        for sentence in read_conllu(path)[:sentences]:
            previous = None
            for word, upos in zip(sentence.words, sentence.upos, strict=True):
                kind = {"PROPN": "PER", "NUM": "NUM"}.get(upos)
                tag = "O" if kind is None else ("I-" if previous == kind else "B-") + kind
                lines.append(f"{word} {tag}")
                previous = kind
            lines.append("")
        (out / f"{split}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out
