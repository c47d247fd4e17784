"""A tiny model finetuned for ~120 steps beats the trivial baseline (POS: the majority tag)."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from finetune_support import FAST, UD, needs_data, single_thread, tiny_pretrained_model  # noqa: F401

from pixel.cli import main as cli
from pixel.tasks.treebank import read_conllu

pytestmark = [needs_data, pytest.mark.usefixtures("single_thread")]


def test_pos_beats_the_majority_tag(tmp_path):
    treebank = UD / "UD_Vietnamese-VTB"
    argv = [
        "finetune", "pos", "--model_name_or_path", str(tiny_pretrained_model()), "--data_dir", str(treebank),
        "--output_dir", str(tmp_path), *FAST,
        "--max_seq_length", "36", "--max_steps", "120", "--learning_rate", "3e-3", "--warmup_steps", "10",
        "--max_train_samples", "600", "--max_predict_samples", "64", "--per_device_train_batch_size", "8",
        "--dropout_prob", "0.0", "--save_strategy", "no", "--do_train", "--do_predict",
    ]  # fmt: skip
    assert cli(argv) == 0
    results = json.loads((tmp_path / "all_results.json").read_text())
    gold = [tag for s in read_conllu(next(treebank.glob("*-ud-test.conllu")))[:64] for tag in s.upos]
    majority = Counter(gold).most_common(1)[0][1] / len(gold)
    assert results["test_accuracy"] > majority + 0.05, (results["test_accuracy"], majority)
