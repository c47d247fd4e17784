"""Every evaluation report of `pixel finetune` carries the task's trivial baseline and the collapse flag."""

from __future__ import annotations

import csv
import json
import logging
from collections import Counter
from types import SimpleNamespace

import pytest
from finetune_support import FAST, SIB, needs_data, single_thread, tiny_pretrained_model  # noqa: F401
from sklearn.metrics import accuracy_score, f1_score

from pixel.cli import main as cli
from pixel.train.finetune import _log_against_baseline

LABELS = ["entertainment", "geography", "health", "politics", "science/technology", "sports", "travel"]


def categories(split: str, limit: int) -> list[str]:
    with open(SIB / "eng_Latn" / f"{split}.tsv", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [row[1] for row in rows[1:]][:limit]


def majority_scores(majority: str, gold: list[str]) -> dict[str, float]:
    predicted = [majority] * len(gold)
    return {
        "accuracy": accuracy_score(gold, predicted),
        "f1": f1_score(gold, predicted, average="macro", zero_division=0),
    }


@needs_data
@pytest.mark.usefixtures("single_thread")
def test_sib_results_carry_the_train_majority_baseline(tmp_path, caplog):
    out = tmp_path / "out"
    argv = [
        "finetune", "sib", "--model_name_or_path", str(tiny_pretrained_model()), "--data_dir", str(SIB),
        "--language", "eng_Latn", "--output_dir", str(out), *FAST,
        "--eval_strategy", "steps", "--eval_steps", "2", "--save_strategy", "no",
        "--do_train", "--do_eval", "--do_predict",
    ]  # fmt: skip
    with caplog.at_level(logging.INFO):
        assert cli(argv) == 0
    results = json.loads((out / "all_results.json").read_text())
    # FAST: the first 32 train, 16 dev and 16 test examples; ties go to the first label in labels.txt order
    counts = Counter(categories("train", 32))
    majority = min((label for label in counts if counts[label] == max(counts.values())), key=LABELS.index)
    for prefix, split in (("eval", "dev"), ("test", "test")):
        expected = majority_scores(majority, categories(split, 16))
        for metric, value in expected.items():
            assert results[f"{prefix}_baseline_{metric}"] == pytest.approx(value), (prefix, metric)
        assert results[f"{prefix}_baseline_from_eval_split"] == 0
        assert results[f"{prefix}_collapsed"] in (0, 1)
        saved = json.loads((out / f"{prefix}_results.json").read_text())
        assert saved[f"{prefix}_baseline_f1"] == results[f"{prefix}_baseline_f1"]
    with open(out / "test_predictions.tsv", encoding="utf-8") as f:
        predicted = {row[-1] for row in list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]}
    assert results["test_collapsed"] == int(len(predicted) == 1)
    # evaluations during training carry the baseline too
    state = json.loads((out / "trainer_state.json").read_text())
    assert all("eval_baseline_f1" in h for h in state["log_history"] if "eval_f1" in h)
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("test: f1 ") and "(baseline " in m for m in messages)
    assert any(f"majority class {majority!r} of the train split" in m for m in messages)

    # without a train split the baseline is the evaluated split's own majority, flagged as such
    argv = [
        "finetune", "sib", "--model_name_or_path", str(out), "--data_dir", str(SIB), "--language", "eng_Latn",
        "--output_dir", str(tmp_path / "eval"), *FAST, "--do_eval",
    ]  # fmt: skip
    assert cli(argv) == 0
    results = json.loads((tmp_path / "eval" / "all_results.json").read_text())
    assert results["eval_baseline_from_eval_split"] == 1
    gold = categories("dev", 16)
    counts = Counter(gold)
    own = min((label for label in counts if counts[label] == max(counts.values())), key=LABELS.index)
    assert results["eval_baseline_accuracy"] == pytest.approx(majority_scores(own, gold)["accuracy"])


def test_summary_line_warns_when_the_score_does_not_beat_the_baseline(caplog):
    task = SimpleNamespace(metric_for_best_model="f1", greater_is_better=True)
    metrics = {
        "test_accuracy": 0.3, "test_f1": 0.25, "test_loss": 1.9, "test_baseline_accuracy": 0.3,
        "test_baseline_f1": 0.25, "test_baseline_from_eval_split": 0, "test_collapsed": 1,
    }  # fmt: skip
    with caplog.at_level(logging.INFO, logger="pixel.train.finetune"):
        _log_against_baseline(task, "test", metrics)
        _log_against_baseline(task, "test", {**metrics, "test_f1": 0.5, "test_collapsed": 0})
    collapsed, fine = caplog.records
    assert collapsed.levelno == logging.WARNING
    assert collapsed.getMessage() == (
        "test: f1 0.25 (baseline 0.25), accuracy 0.3 (baseline 0.3) [every prediction is one class] "
        "-- f1 does not beat the trivial baseline"
    )
    assert fine.levelno == logging.INFO
    assert fine.getMessage() == "test: f1 0.5 (baseline 0.25), accuracy 0.3 (baseline 0.3)"
