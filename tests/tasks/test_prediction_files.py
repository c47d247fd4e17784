"""Prediction files written from raw input lines, without a model: ids are input line numbers, a tagger writes
well-formed CoNLL-U (HEAD/DEPREL `_`, checked with the `conllu` library), classifiers add the top-k classes."""

from __future__ import annotations

import csv
from pathlib import Path

import conllu
import numpy as np
import pytest

from pixel.tasks import get_task
from pixel.tasks.base import IGNORE_INDEX
from pixel.tasks.treebank import UD_HEAD_LABELS, UPOS_LABELS, read_conllu


def conllu_sentences(path: Path) -> list[conllu.TokenList]:
    """Parse with the `conllu` library, and check every column a CoNLL-U validator checks for raw predictions."""
    sentences = conllu.parse(path.read_text(encoding="utf-8"))
    for sentence in sentences:
        assert {"sent_id", "text"} <= set(sentence.metadata)
        assert " ".join(t["form"] for t in sentence) == sentence.metadata["text"]
        assert [t["id"] for t in sentence] == list(range(1, len(sentence) + 1))
    return sentences


def test_pos_on_raw_lines_writes_sent_id_text_and_no_tree(tmp_path: Path) -> None:
    task = get_task("pos")
    examples = [
        task.encode_raw("The cat sat .", 1, "in.txt"),
        task.encode_raw("  Hello   world  ", 3, "in.txt"),
    ]
    upos = UPOS_LABELS.index
    predictions = np.full((2, 8), IGNORE_INDEX)
    predictions[0, :4] = [upos("DET"), upos("NOUN"), upos("VERB"), upos("PUNCT")]
    predictions[1, :1] = [upos("INTJ")]  # "world" was dropped by truncation
    out = tmp_path / "tagged.conllu"
    task.write_predictions(examples, predictions, UPOS_LABELS, out)

    first, second = conllu_sentences(out)
    assert first.metadata == {"sent_id": "1", "text": "The cat sat ."}
    assert second.metadata == {"sent_id": "3", "text": "Hello world"}  # the words, as CoNLL-U wants
    assert [t["upos"] for t in first] == ["DET", "NOUN", "VERB", "PUNCT"]
    assert [t["upos"] for t in second] == ["INTJ", "_"] and second[1]["misc"] == {"Truncated": "Yes"}
    for token in [*first, *second]:  # a tagger predicts no tree: unknown, not every word a root
        assert token["head"] is None and token["deprel"] == "_"
    assert "\t_\t_\t_\t" in out.read_text(encoding="utf-8").split("\n")[2]  # HEAD, DEPREL, DEPS columns
    # the output reads back for tagging, and a parser can take it as input (no tree needed to predict one)
    assert [s.words for s in get_task("pos").read(out)] == [["The", "cat", "sat", "."], ["Hello", "world"]]
    assert len(get_task("ud").read_for_prediction(out)) == 2
    with pytest.raises(ValueError, match="HEAD must be an integer"):
        read_conllu(out)  # training a parser on it still needs trees


def test_parser_on_raw_lines_writes_sent_id_and_text(tmp_path: Path) -> None:
    task = get_task("ud")
    examples = [task.encode_raw("a b", 2)]
    predictions = np.full((1, 4, 4), IGNORE_INDEX)
    root, dep = UD_HEAD_LABELS.index("root"), UD_HEAD_LABELS.index("dep")
    predictions[0, :2] = [[0, root, 0, root], [1, dep, 1, dep]]
    out = tmp_path / "parsed.conllu"
    task.write_predictions(examples, predictions, UD_HEAD_LABELS, out)
    (sentence,) = conllu_sentences(out)
    assert sentence.metadata == {"sent_id": "2", "text": "a b"}
    assert [(t["head"], t["deprel"]) for t in sentence] == [(0, "root"), (1, "dep")]
    assert read_conllu(out)[0].heads == [0, 1]  # a tree


def test_raw_lines_keep_their_line_number_for_errors() -> None:
    sentence = get_task("ner").encode_raw("x y", 7, "in.txt")
    assert sentence.where(1) == "in.txt:7"
    with pytest.raises(ValueError, match=r"^in.txt:4: pair classification input needs"):
        get_task("pair_classification").encode_raw("no tab here", 4, "in.txt")
    with pytest.raises(ValueError, match=r"^in.txt:5: QA input needs"):
        get_task("qa").encode_raw("no tab here", 5, "in.txt")
    assert get_task("qa").encode_raw("q?\tcontext", 9).id == "9"


def read_tsv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def test_classifier_tsv_ids_are_line_numbers_and_top_k_has_probabilities(tmp_path: Path) -> None:
    labels = ["health", "sports", "travel"]
    task = get_task("classification", top_k=2)
    examples = [task.encode_raw("A match.", 1), task.encode_raw("A trip.", 4)]
    probabilities = np.array([[0.1, 0.7, 0.2], [0.25, 0.25, 0.5]], dtype=np.float32)
    out = tmp_path / "classes.tsv"
    task.write_predictions(examples, probabilities, labels, out)
    rows = read_tsv(out)
    assert list(rows[0]) == ["id", "text", "label", "prediction", "top1", "top1_prob", "top2", "top2_prob"]
    assert [r["id"] for r in rows] == ["1", "4"]
    assert [(r["prediction"], r["top1"], r["top1_prob"], r["top2"], r["top2_prob"]) for r in rows] == [
        ("sports", "sports", "0.7000", "travel", "0.2000"),
        ("travel", "travel", "0.5000", "health", "0.2500"),  # a tie goes to the first class in label order
    ]
    # class ids (no probabilities) still write the plain file; k larger than the classes is cut to them
    get_task("classification").write_predictions(examples, np.array([1, 2]), labels, out)
    assert [(r["id"], r["prediction"]) for r in read_tsv(out)] == [("1", "sports"), ("4", "travel")]
    get_task("classification", top_k=9).write_predictions(examples, probabilities, labels, out)
    assert list(read_tsv(out)[0])[-2:] == ["top3", "top3_prob"]


def test_classifier_tsv_keeps_the_inputs_own_id_column(tmp_path: Path) -> None:
    source = tmp_path / "test.tsv"
    source.write_text(
        "index_id\tcategory\ttext\n431\tsports\tA match .\n7\ttravel\tA trip .\n", encoding="utf-8"
    )
    task = get_task("sib")
    examples = task.read(source)
    out = tmp_path / "out.tsv"
    task.write_predictions(examples, np.array([0, 1]), ["sports", "travel"], out)
    rows = read_tsv(out)
    assert [(r["id"], r["index_id"], r["label"], r["prediction"]) for r in rows] == [
        ("2", "431", "sports", "sports"),
        ("3", "7", "travel", "travel"),
    ]
    task.write_predictions([task.encode_raw("Raw text.", 1)], np.array([1]), ["sports", "travel"], out)
    assert [(r["id"], r["index_id"]) for r in read_tsv(out)] == [("1", "")]  # raw text has no id of its own
