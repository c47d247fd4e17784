"""Classification readers (SIB-200 TSV, CSV, JSON, pairs), labels, metrics, writer, errors."""

import json
from pathlib import Path

import numpy as np
import pytest
from transformers import EvalPrediction

from pixel.tasks import get_task
from pixel.tasks.classification import (
    classification_metrics,
    glue_strip_spaces,
    regression_metrics,
)


def test_sib_reader_and_sorted_labels(sib_eng: Path) -> None:
    task = get_task("sib")
    assert task.metric_for_best_model == "f1"
    train = task.read(task.find_split(sib_eng, "train"))
    assert len(train) == 701
    assert train[0].id == "431" and train[0].label == "geography"
    assert train[0].text.startswith("Turkey is encircled by seas")
    labels = task.labels(sib_eng)
    assert labels == sorted(labels) and len(labels) == 7
    assert {e.label for e in train} == set(labels)  # labels.txt sorted = sorted unique train categories
    assert len(task.read(task.find_split(sib_eng, "dev"))) == 99
    assert len(task.read(task.find_split(sib_eng, "test"))) == 204


def test_missing_column_names_file_and_header(tmp_path: Path) -> None:
    path = tmp_path / "train.tsv"
    path.write_text("index_id\ttext\n1\thello\n", encoding="utf-8")
    with pytest.raises(
        ValueError, match=r"train\.tsv: missing column\(s\) category; the header is \['index_id', 'text'\]"
    ):
        get_task("sib").read(path)


def test_short_row_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "train.tsv"
    path.write_text("index_id\tcategory\ttext\n1\ttravel\thi\n2\ttravel\n", encoding="utf-8")
    with pytest.raises(ValueError, match=rf"{path}:3: 2 fields, but the header has 3"):
        get_task("sib").read(path)


def test_unknown_label_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "dev.csv"
    path.write_text('text,label\n"a, b",pos\nc,neutral\n', encoding="utf-8")
    task = get_task("classification")
    examples = task.read(path)
    assert examples[0].text == "a, b"
    with pytest.raises(ValueError, match=rf"{path}:3: unknown label 'neutral'"):
        task.dataset(examples, processor=None, labels=["neg", "pos"])


def test_pairs_from_jsonl_and_numeric_labels(tmp_path: Path) -> None:
    rows = [
        {"premise": "A man.", "hypothesis": "A person.", "label": 0},
        {"premise": "x", "hypothesis": "y", "label": 2},
    ]
    rows += [{"premise": "p", "hypothesis": "q", "label": 10}]
    (tmp_path / "train.jsonl").write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    task = get_task("pair_classification")
    examples = task.read(task.find_split(tmp_path, "train"))
    assert examples[0].text == ("A man.", "A person.") and examples[0].label == "0"
    assert task.labels(tmp_path) == ["0", "2", "10"]  # numeric order


def test_glue_strip_spaces() -> None:
    assert glue_strip_spaces("It is n't ( really ) fine , is it ?") == "It isn't (really) fine, is it?"


def test_classification_metrics_hand_computed() -> None:
    gold = np.array([0, 0, 1, 1, 2])
    predicted = np.array([0, 1, 1, 1, 0])
    # class 0: P 1/2 R 1/2 F 1/2; class 1: P 2/3 R 1 F 4/5; class 2: F 0 -> macro F1 = (0.5 + 0.8 + 0) / 3
    metrics = classification_metrics(predicted, gold)
    assert metrics["accuracy"] == pytest.approx(3 / 5)
    assert metrics["f1"] == pytest.approx(1.3 / 3)


def test_regression_task_metrics() -> None:
    task = get_task("classification", regression=True)
    assert task.metric_for_best_model == "pearson"
    assert task.model_kwargs(task.labels(Path("."))) | {} == {
        **task.model_kwargs(["score"]),
        "num_labels": 1,
        "problem_type": "regression",
    }
    gold = np.array([1.0, 2.0, 3.0, 4.0])
    metrics = task.compute_metrics(EvalPrediction(predictions=np.array([1.0, 2.0, 4.0, 3.0]), label_ids=gold))
    assert metrics["pearson"] == pytest.approx(0.8)
    assert metrics["spearmanr"] == pytest.approx(0.8)
    assert metrics["mse"] == pytest.approx(0.5)
    assert regression_metrics(gold, gold)["pearson"] == pytest.approx(1.0)


def test_writer_tsv(tmp_path: Path) -> None:
    task = get_task("classification", label_column="category", id_column="index_id")
    path = tmp_path / "train.tsv"
    path.write_text('index_id\tcategory\ttext\n7\ttravel\tGo "there" now\n8\thealth\tEat\n', encoding="utf-8")
    examples = task.read(path)
    task.write_predictions(examples, np.array([1, 1]), ["health", "travel"], tmp_path / "pred.tsv")
    lines = (tmp_path / "pred.tsv").read_text(encoding="utf-8").splitlines()
    assert lines == [  # id: the line in the input; index_id: the input's own id
        "id\tindex_id\ttext\tlabel\tprediction",
        '2\t7\tGo "there" now\ttravel\ttravel',
        "3\t8\tEat\thealth\ttravel",
    ]


def test_hf_dataset_folder(tmp_path: Path) -> None:
    import datasets

    features = datasets.Features(
        {"sentence": datasets.Value("string"), "label": datasets.ClassLabel(names=["neg", "pos"])}
    )
    split = datasets.Dataset.from_dict(
        {"sentence": ["bad", "good", "fine"], "label": [0, 1, 1]}, features=features
    )
    datasets.DatasetDict({"train": split, "validation": split}).save_to_disk(str(tmp_path / "hf"))
    task = get_task("classification")
    path = task.find_split(tmp_path / "hf", "dev")
    assert path.name == "validation"
    examples = task.read(path)
    assert [(e.text, e.label) for e in examples] == [("bad", "0"), ("good", "1"), ("fine", "1")]
    assert task.labels(tmp_path / "hf") == ["0", "1"]  # ids as stored
