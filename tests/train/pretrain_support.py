"""Shared set-up of the end-to-end pretraining tests: the tiny preset, shorter sequences, one thread per process."""

import os
from pathlib import Path

from data_location import DATA, data_mark  # tests/ is on sys.path (beside tests/conftest.py)

REPO = Path(__file__).resolve().parents[2]
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

needs_sib200 = data_mark(DATA / "sib200")
