"""Shared set-up of the end-to-end pretraining tests: the tiny preset, shorter sequences, one thread per process."""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / ".." / "shared" / "data"
TINY = REPO / "configs" / "pretrain" / "tiny.yaml"

# Short sequences and few workers keep every run to seconds on two shared cores.
FAST = [
    "--override",
    "data.max_patches=63",
    "--override",
    "data.min_patches=8",
    "--override",
    "data.shuffle_buffer=64",
]
FAST_OVERRIDES = FAST[1::2]  # the key=value items, for apply_overrides
# One torch thread per process: two shared cores, and OpenMP spinning under oversubscription is 20x slower.
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "OMP_NUM_THREADS": "1"}

needs_sib200 = pytest.mark.skipif(not (DATA / "sib200").is_dir(), reason=f"SIB-200 data not found in {DATA}")
