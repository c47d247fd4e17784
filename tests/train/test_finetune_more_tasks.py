"""QA, sentence-pair classification and regression through `pixel finetune`, on data built from SIB-200 sentences.

Smoke runs (a few steps of a tiny model): the pipeline, the task options on the command line, the metrics files
and the prediction files. The data is synthetic, so no score is expected to be meaningful.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from finetune_support import FAST, SIB, needs_data, single_thread, tiny_pretrained_model  # noqa: F401

from pixel.cli import main as cli

pytestmark = [needs_data, pytest.mark.usefixtures("single_thread")]


def sib_rows(split: str, count: int) -> list[dict[str, str]]:
    with open(SIB / "eng_Latn" / f"{'dev' if split == 'dev' else split}.tsv", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))[:count]


def squad_folder(out: Path) -> Path:
    """Question: 'Which word follows X?' about a SIB sentence; the answer is the word after X."""
    out.mkdir()
    for split in ("train", "dev", "test"):
        paragraphs = []
        for i, row in enumerate(sib_rows(split, 10)):
            context = row["text"]
            words = context.split(" ")
            start = len(" ".join(words[:3])) + 1
            qa = {"id": f"{split}-{i}", "question": f"Which word follows {words[2]}?",
                  "answers": [{"text": words[3], "answer_start": start}]}  # fmt: skip
            paragraphs.append({"context": context, "qas": [qa]})
        (out / f"{split}.json").write_text(
            json.dumps({"data": [{"paragraphs": paragraphs}]}), encoding="utf-8"
        )
    return out


def run(task: str, data: Path, out: Path, *extra: str) -> dict:
    argv = ["finetune", task, "--model_name_or_path", str(tiny_pretrained_model()), "--data_dir", str(data)]
    assert (
        cli([*argv, "--output_dir", str(out), *FAST, "--do_train", "--do_eval", "--do_predict", *extra]) == 0
    )
    return json.loads((out / "all_results.json").read_text())


def test_extractive_qa(tmp_path):
    results = run("qa", squad_folder(tmp_path / "squad"), tmp_path / "out", "--doc_stride", "16")
    assert 0.0 <= results["test_f1"] <= 100.0 and 0.0 <= results["test_exact_match"] <= 100.0
    answers = json.loads((tmp_path / "out" / "test_predictions.json").read_text())
    assert set(answers) == {f"test-{i}" for i in range(10)}


def test_sentence_pairs_from_csv(tmp_path):
    data = tmp_path / "pairs"
    data.mkdir()
    for split in ("train", "dev", "test"):
        rows = sib_rows(split, 40)
        with open(data / f"{split}.csv", "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["first", "second", "same_topic"])
            for a, b in zip(rows, rows[1:], strict=False):
                writer.writerow([a["text"], b["text"], "yes" if a["category"] == b["category"] else "no"])
    flags = ["--text_columns", "first,second", "--label_column", "same_topic"]
    results = run("pair_classification", data, tmp_path / "out", *flags)
    assert 0.0 <= results["test_accuracy"] <= 1.0
    config = json.loads((tmp_path / "out" / "config.json").read_text())
    assert sorted(config["id2label"].values()) == ["no", "yes"]


def test_regression_from_jsonl(tmp_path):
    data = tmp_path / "lengths"
    data.mkdir()
    for split in ("train", "dev", "test"):
        lines = [
            json.dumps({"text": r["text"], "label": len(r["text"].split()) / 10}) for r in sib_rows(split, 40)
        ]
        (data / f"{split}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    results = run("classification", data, tmp_path / "out", "--is_regression")
    assert -1.0 <= results["test_pearson"] <= 1.0 and results["test_mse"] >= 0.0
