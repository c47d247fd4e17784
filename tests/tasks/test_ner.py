"""NER readers (CoNLL built from UD tokens, HF datasets), labels, seqeval metrics, writer, errors."""

from pathlib import Path

import numpy as np
import pytest
from transformers import EvalPrediction

from pixel.tasks import get_task
from pixel.tasks.ner import load_hf_ner, ner_metrics, read_conll_ner, read_label_file, write_conll_ner
from pixel.tasks.tagging import TaggedSentence


def test_conll_reader_on_ud_tokens(ner_dir: Path) -> None:
    task = get_task("ner")
    sentences = task.read(task.find_split(ner_dir, "train"))
    assert len(sentences) == 400  # one per Tamil-TTB training sentence; -DOCSTART- is not a sentence
    first = sentences[0]
    assert first.words[:3] == ["சென்னை", "அருகே", "ஸ்ரீ"]
    assert first.tags[:7] == ["B-PER", "O", "B-PER", "I-PER", "I-PER", "I-PER", "O"]
    assert first.where(0) == f"{ner_dir / 'train.txt'}:3"


def test_labels_inferred_with_o_first(ner_dir: Path) -> None:
    assert get_task("ner").labels(ner_dir) == ["O", "B-PER", "I-PER", "B-QTY"]


def test_label_file_and_unknown_label_error(ner_dir: Path, tmp_path: Path) -> None:
    label_file = tmp_path / "labels.txt"
    label_file.write_text("B-PER\nI-PER\n\n", encoding="utf-8")
    labels = read_label_file(label_file)
    assert labels == ["O", "B-PER", "I-PER"]
    task = get_task("ner")
    examples = task.read(ner_dir / "dev.txt")
    with pytest.raises(ValueError, match=r"dev\.txt:\d+: unknown label 'B-QTY'"):
        task.dataset(examples, processor=None, labels=labels)


def test_line_without_tag_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("a O\nb B-PER\n\nlonely\n", encoding="utf-8")
    with pytest.raises(ValueError, match=rf"{path}:4: expected 'token tag'"):
        read_conll_ner(path)


def test_missing_split_names_the_file(ner_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="validation|dev.txt"):
        get_task("ner").find_split(tmp_path, "dev")


def test_hf_dataset_on_disk(tmp_path: Path) -> None:
    import datasets

    features = datasets.Features(
        {
            "tokens": datasets.Sequence(datasets.Value("string")),
            "ner_tags": datasets.Sequence(datasets.ClassLabel(names=["O", "B-LOC", "I-LOC"])),
        }
    )
    rows = {"tokens": [["Kyiv", "is", "big"], [], ["New", "York"]], "ner_tags": [[1, 0, 0], [], [1, 2]]}
    split = datasets.Dataset.from_dict(rows, features=features)
    datasets.DatasetDict({"train": split, "validation": split}).save_to_disk(str(tmp_path / "hf"))
    task = get_task("ner")
    path = task.find_split(tmp_path / "hf", "dev")
    assert path.name == "validation"
    sentences = task.read(path)
    assert [s.tags for s in sentences] == [["B-LOC", "O", "O"], ["B-LOC", "I-LOC"]]  # empty example dropped
    assert task.labels(tmp_path / "hf") == ["O", "B-LOC", "I-LOC"]
    assert load_hf_ner(tmp_path / "hf", "train")[1].words == ["New", "York"]


def test_seqeval_metrics_hand_computed() -> None:
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-ORG"]]
    predicted = [["B-PER", "I-PER", "O", "O"], ["O", "B-LOC"]]
    # gold entities: PER, LOC, ORG (3); predicted: PER, LOC@(1,1) (2); correct: PER only
    metrics = ner_metrics(predicted, gold)
    assert metrics["precision"] == pytest.approx(1 / 2)
    assert metrics["recall"] == pytest.approx(1 / 3)
    assert metrics["f1"] == pytest.approx(2 * (1 / 2) * (1 / 3) / (1 / 2 + 1 / 3))
    assert metrics["accuracy"] == pytest.approx(4 / 6)


def test_compute_metrics_from_patch_labels() -> None:
    task = get_task("ner")
    task.label_names = ["O", "B-PER", "I-PER"]
    # two examples, L = 6; words start at patches 0, 2, 3 and 0, 4
    label_ids = np.full((2, 6), -100)
    label_ids[0, [0, 2, 3]] = [1, 2, 0]
    label_ids[1, [0, 4]] = [0, 1]
    predictions = np.full((2, 6), -100)  # word-aligned, as preprocess_logits_for_metrics leaves them
    predictions[0, :3] = [1, 2, 0]
    predictions[1, :2] = [0, 0]
    metrics = task.compute_metrics(EvalPrediction(predictions=predictions, label_ids=label_ids))
    assert metrics["precision"] == 1.0 and metrics["recall"] == pytest.approx(0.5)
    assert metrics["accuracy"] == pytest.approx(4 / 5)


def test_writer(tmp_path: Path) -> None:
    sentences = [TaggedSentence(["a", "b", "c"], ["O", "O", "O"])]
    write_conll_ner(sentences, [["B-PER", "I-PER"]], tmp_path / "out.txt")
    assert (tmp_path / "out.txt").read_text(encoding="utf-8") == "a\tB-PER\nb\tI-PER\nc\tO\n\n"
    back = read_conll_ner(tmp_path / "out.txt")
    assert back[0].tags == ["B-PER", "I-PER", "O"]


def test_conll2003_columns_and_docstart(tmp_path: Path) -> None:
    path = tmp_path / "train.txt"
    path.write_text(
        "-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n-DOCSTART- -X- -X- O\nPeter\tNNP\tB-NP\tB-PER\n",
        encoding="utf-8",
    )
    sentences = read_conll_ner(path)
    assert [s.words for s in sentences] == [["EU", "rejects"], ["Peter"]]
    assert [s.tags for s in sentences] == [["B-ORG", "O"], ["B-PER"]]
