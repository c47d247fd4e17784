"""`pixel sweep`: seed parsing, best-lr selection on dev, the mean ± sd table, and a small real sweep."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest
from finetune_support import FAST, SIB, needs_data, single_thread, tiny_pretrained_model  # noqa: F401

from pixel.train.sweep import Run, parse_seeds, summarise, write_table


def test_parse_seeds():
    assert parse_seeds("0-7") == list(range(8))
    assert parse_seeds("0,2,5-6") == [0, 2, 5, 6]
    with pytest.raises(ValueError, match="x"):
        parse_seeds("0,x")


def make_runs() -> list[Run]:
    # lr 1e-5 has the better mean dev score (80 vs 75), although 3e-5 has the single best dev run (90)
    # and the better test scores: the protocol must still pick 1e-5 and report its test scores.
    dev = {1e-5: [80.0, 80.0], 3e-5: [90.0, 60.0]}
    test = {1e-5: [70.0, 74.0], 3e-5: [95.0, 96.0]}
    return [
        Run("ta", lr, seed, Path(f"/x/{lr}-{seed}"), {"eval_las": dev[lr][seed], "test_las": test[lr][seed],
                                                     "test_uas": test[lr][seed] + 5, "test_runtime": 1.0,
                                                     "test_loss": 0.5, "test_words": 10})
        for lr in dev
        for seed in (0, 1)
    ]  # fmt: skip


def test_best_learning_rate_is_chosen_on_mean_dev():
    summary = summarise(make_runs(), "las")
    entry = summary["ta"]
    assert entry["best_learning_rate"] == 1e-5
    chosen = entry["per_learning_rate"][repr(1e-5)]
    assert chosen["test"]["test_las"]["mean"] == 72.0
    assert chosen["test"]["test_las"]["sd"] == pytest.approx(statistics.stdev([70.0, 74.0]))
    assert set(chosen["test"]) == {"test_las", "test_uas"}
    assert summarise(make_runs(), "las", greater_is_better=False)["ta"]["best_learning_rate"] == 3e-5


def test_table(tmp_path):
    text = write_table(summarise(make_runs(), "las"), "las", tmp_path / "t.md")
    header, rule, row, blank, selection = text.strip().split("\n")
    assert (
        header
        == "| language | best lr | dev las | las (test) | baseline (test) | uas (test) | seeds | notes |"
    )
    # runs without baseline keys (written before baselines were reported) show "–"
    assert row == "| ta | 1e-05 | 80.00 ± 0.00 | 72.00 ± 2.83 | – | 77.00 ± 2.83 | 2 |  |"
    assert selection == "ta: selected lr 1e-05 on mean dev las 80.00 ± 0.00 (2 seeds)"
    assert (tmp_path / "t.md").read_text() == text


def sib_runs(dev: dict[float, list[float]], collapsed: bool = False, baseline: float = 0.25) -> list[Run]:
    """SIB-like runs: f1 per lr and seed on dev (test = dev - 0.01), with their baseline and collapse keys."""
    runs = []
    for lr, values in dev.items():
        for seed, value in enumerate(values):
            metrics = {"eval_f1": value, "test_f1": value - 0.01, "test_accuracy": 0.5}
            metrics |= {"eval_baseline_f1": baseline, "test_baseline_f1": baseline - 0.01}
            metrics |= {"eval_baseline_accuracy": 0.3, "test_baseline_accuracy": 0.3}
            metrics |= {"eval_collapsed": int(collapsed), "test_collapsed": int(collapsed)}
            metrics |= {"eval_baseline_from_eval_split": 0, "test_baseline_from_eval_split": 0}
            runs.append(Run("eng", lr, seed, Path(f"/x/{lr}-{seed}"), metrics))
    return runs


def table_row(summary: dict, tmp_path: Path) -> tuple[list[str], list[str]]:
    lines = write_table(summary, "f1", tmp_path / "t.md").strip().split("\n")
    return lines[0].strip("| ").split(" | "), lines[2].strip("| ").split(" | ")


def test_baselines_and_collapse_flags_are_not_score_columns(tmp_path):
    summary = summarise(sib_runs({1e-5: [0.6, 0.7], 3e-5: [0.5, 0.5]}), "f1")
    header, row = table_row(summary, tmp_path)
    assert header == ["language", "best lr", "dev f1", "f1 (test)", "baseline (test)", "accuracy (test)", "seeds",
                      "notes"]  # fmt: skip
    assert row[:6] == ["eng", "1e-05", "0.650 ± 0.071", "0.640 ± 0.071", "0.240", "0.500 ± 0.000"]
    entry = summary["eng"]
    assert entry["flags"] == [] and entry["tied_learning_rates"] == []
    assert entry["per_learning_rate"][repr(1e-5)]["baseline"] == {"dev": 0.25, "test": pytest.approx(0.24)}
    assert entry["per_learning_rate"][repr(1e-5)]["collapsed_runs"] == {"dev": 0, "test": 0}


def test_single_seed_rows_have_no_sd(tmp_path):
    summary = summarise(sib_runs({1e-5: [0.6], 3e-5: [0.5]}), "f1")
    header, row = table_row(summary, tmp_path)
    assert row[2:4] == ["0.600 ± n/a", "0.590 ± n/a"]
    assert row[header.index("seeds")] == "1"
    assert row[header.index("notes")] == "single seed"
    assert summary["eng"]["selection"] == "eng: selected lr 1e-05 on mean dev f1 0.600 ± n/a (1 seed)"


def test_a_tie_is_reported_as_a_tie(tmp_path):
    # The SIB-200 sweep: every run predicts the majority class, so every lr scores the baseline exactly.
    summary = summarise(
        sib_runs({1e-5: [0.25, 0.25], 3e-5: [0.25, 0.25], 5e-5: [0.25, 0.25]}, collapsed=True), "f1"
    )
    entry = summary["eng"]
    assert entry["tied_learning_rates"] == [1e-5, 3e-5, 5e-5]
    assert entry["selection"].startswith(
        "eng: tie between lr 1e-05, 3e-05, 5e-05 on mean dev f1 (0.250 ± 0.000"
    )
    assert "selected lr" not in entry["selection"]
    assert entry["flags"] == [
        "tie on dev between lr 1e-05, 3e-05, 5e-05",
        "dev at trivial baseline",
        "test at trivial baseline",
        "dev: 2/2 runs predict one class",
        "test: 2/2 runs predict one class",
    ]
    header, row = table_row(summary, tmp_path)
    assert row[1] == "tie: 1e-05, 3e-05, 5e-05"
    assert row[header.index("notes")] == "; ".join(entry["flags"])
    assert (tmp_path / "t.md").read_text().rstrip().endswith(entry["selection"])


def test_tie_tolerance():
    runs = sib_runs({1e-5: [0.80, 0.80], 3e-5: [0.79, 0.79]})
    assert summarise(runs, "f1")["eng"]["tied_learning_rates"] == []
    assert summarise(runs, "f1", tie_tolerance=0.02)["eng"]["tied_learning_rates"] == [1e-5, 3e-5]
    # means equal up to float rounding are a tie even at tolerance 0
    rounding = sib_runs({1e-5: [0.1 + 0.2, 0.3], 3e-5: [0.3, 0.3]})
    assert summarise(rounding, "f1")["eng"]["tied_learning_rates"] == [1e-5, 3e-5]


def test_worse_than_baseline_and_one_learning_rate():
    summary = summarise(sib_runs({1e-5: [0.1, 0.2]}), "f1")
    assert summary["eng"]["flags"] == ["dev worse than trivial baseline", "test worse than trivial baseline"]
    assert summary["eng"]["selection"].startswith("eng: one learning rate, 1e-05")
    # lower is better (e.g. mse): 0.1 < 0.25 beats the baseline
    assert summarise(sib_runs({1e-5: [0.1, 0.2]}), "f1", greater_is_better=False)["eng"]["flags"] == []


@needs_data
@pytest.mark.usefixtures("single_thread")
def test_sweep_end_to_end(tmp_path):
    from pixel.cli import main as cli

    out = tmp_path / "sweep"
    argv = [
        "sweep", "sib", "--seeds", "0-1", "--learning_rates", "1e-3,3e-3", "--output_dir", str(out),
        "--data_dir", str(SIB), "--languages", "eng_Latn",
        "--model_name_or_path", str(tiny_pretrained_model()), *FAST, "--max_steps", "2", "--max_seq_length", "32",
        "--max_eval_samples", "8", "--max_predict_samples", "8",
    ]  # fmt: skip
    assert cli(argv) == 0
    result = json.loads((out / "results.json").read_text())
    assert len(result["runs"]) == 4
    assert {(r["learning_rate"], r["seed"]) for r in result["runs"]} == {
        (1e-3, 0),
        (1e-3, 1),
        (3e-3, 0),
        (3e-3, 1),
    }
    entry = result["summary"]["eng_Latn"]
    best = entry["per_learning_rate"][repr(entry["best_learning_rate"])]
    runs = [r for r in result["runs"] if r["learning_rate"] == entry["best_learning_rate"]]
    assert best["test"]["test_f1"]["mean"] == pytest.approx(
        statistics.fmean(r["metrics"]["test_f1"] for r in runs)
    )
    assert (
        (out / "results.md")
        .read_text()
        .startswith("| language | best lr | dev f1 | f1 (test) | baseline (test)")
    )
    for run in result["runs"]:  # every run reports the trivial baseline and the collapse flag
        assert {"test_baseline_f1", "eval_baseline_f1", "test_collapsed"} <= set(run["metrics"])
    assert entry["selection"].startswith("eng_Latn: ")
    assert (out / "plot_eng_Latn.png").stat().st_size > 1000
    # Finished runs are reused: a second call trains nothing and gives the same table.
    mtimes = {p: p.stat().st_mtime for p in out.glob("eng_Latn/*/all_results.json")}
    assert cli(argv) == 0
    assert {p: p.stat().st_mtime for p in out.glob("eng_Latn/*/all_results.json")} == mtimes
