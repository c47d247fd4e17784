"""Trivial baselines (fit on the train split, scored on the evaluated one) and the collapse flag, on hand-made
label arrays whose scores are computed by hand in the comments."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import numpy as np
import pytest
from transformers import EvalPrediction

from pixel.tasks import get_task
from pixel.tasks.base import collapsed_class, majority_id, reported_metrics
from pixel.tasks.classification import TextExample
from pixel.tasks.qa import QAExample
from pixel.tasks.tagging import TaggedSentence
from pixel.tasks.treebank import UD_HEAD_LABELS, UPOS_LABELS, Sentence
from pixel.tasks.ud import chain_baseline, chain_heads

X = -100  # IGNORE_INDEX: padding and non-first patches
ABC = ["a", "b", "c"]


def texts(*labels: str) -> list[TextExample]:
    return [TextExample(f"text {i}", label) for i, label in enumerate(labels)]


def test_majority_id_skips_padding_and_breaks_ties_by_label_order():
    assert majority_id([2, 2, 1, X, X, X], 3) == 2
    assert majority_id([2, 1], 3) == 1  # tie: the first label of the list
    assert majority_id([], 3) == 0


def test_classification_majority_class_of_train():
    task = get_task("sib")
    gold = np.array([1, 1, 0, 2])  # b b a c
    baseline = task.baseline(gold, None, texts("a", "a", "b"), ABC)
    # "a" for all: 1 of 4 right; F1 a = 2 * (1/4 * 1) / (1/4 + 1) = 0.4, b = c = 0 -> macro 0.4 / 3
    assert baseline.metrics == pytest.approx({"accuracy": 0.25, "f1": 0.4 / 3})
    assert not baseline.from_eval_split
    assert "'a'" in baseline.description and "train split" in baseline.description


def test_classification_without_train_uses_the_evaluated_split_and_says_so():
    task = get_task("sib")
    baseline = task.baseline(np.array([1, 1, 0, 2]), None, None, ABC)
    # "b" for all: 2 of 4 right; F1 b = 2 * (1/2 * 1) / (1/2 + 1) = 2/3 -> macro 2/9
    assert baseline.metrics == pytest.approx({"accuracy": 0.5, "f1": 2 / 9})
    assert baseline.from_eval_split
    assert "no train split" in baseline.description


def test_regression_predicts_the_train_mean():
    task = get_task("classification", regression=True)
    gold = np.array([1.0, 2.0, 4.0])
    # train mean 2: squared errors 1, 0, 4
    assert task.baseline(gold, None, texts("1", "3"), ["score"]).metrics["mse"] == pytest.approx(5 / 3)
    # own mean 7/3: squared errors (4/3)^2, (1/3)^2, (5/3)^2 -> 42/27
    own = task.baseline(gold, None, None, ["score"])
    assert own.metrics == pytest.approx({"pearson": 0.0, "spearmanr": 0.0, "mse": 42 / 27})
    assert own.from_eval_split
    assert task.predicted_classes(gold, gold) is None  # no classes, never "collapsed"


def sentence(upos: list[str], heads: list[int] | None = None, rels: list[str] | None = None) -> Sentence:
    n = len(upos)
    return Sentence([f"w{i}" for i in range(n)], upos, heads or [0] * n, rels or ["dep"] * n)


def test_pos_majority_tag_of_train():
    noun, verb, adj = (UPOS_LABELS.index(t) for t in ("NOUN", "VERB", "ADJ"))
    # patch-level gold: a label on each word's first patch; scored words NOUN VERB | NOUN ADJ
    gold = np.array([[X, noun, X, verb, X, X], [noun, X, adj, X, X, X]])
    train = [sentence(["NOUN", "VERB"]), sentence(["NOUN"])]
    baseline = get_task("pos").baseline(gold, None, train, UPOS_LABELS)
    assert baseline.metrics == {"accuracy": 0.5}  # NOUN for all: 2 of 4
    assert "'NOUN'" in baseline.description
    # without train: NOUN is also the evaluated split's majority (2 of 4)
    assert get_task("pos").baseline(gold, None, None, UPOS_LABELS).metrics == {"accuracy": 0.5}


NER_LABELS = ["O", "B-PER", "I-PER"]


def tagged(*tags: str) -> TaggedSentence:
    return TaggedSentence([f"w{i}" for i in range(len(tags))], list(tags))


def test_ner_all_o_scores_no_entity():
    gold = np.array([[1, X, 0, 1, 0, X, X]])  # B-PER O B-PER O (word-first patches)
    baseline = get_task("ner").baseline(gold, None, [tagged("O", "O", "B-PER")], NER_LABELS)
    # all O: no entity predicted -> precision = recall = F1 = 0; 2 of 4 tags right
    assert baseline.metrics == pytest.approx({"precision": 0.0, "recall": 0.0, "f1": 0.0, "accuracy": 0.5})


def test_ner_majority_tag_is_scored_by_seqeval():
    gold = np.array([[1, X, 0, 1, 0, X, X]])  # B-PER O B-PER O
    baseline = get_task("ner").baseline(gold, None, [tagged("B-PER", "B-PER", "O")], NER_LABELS)
    # B-PER for all: 4 one-word entities predicted, 2 of them gold -> P 1/2, R 1, F1 2/3; 2 of 4 tags right
    assert baseline.metrics == pytest.approx({"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "accuracy": 0.5})


def test_chain_heads():
    assert chain_heads(4, "left").tolist() == [0, 1, 2, 3]
    assert chain_heads(4, "right").tolist() == [2, 3, 4, 0]
    assert chain_heads(1, "left").tolist() == chain_heads(1, "right").tolist() == [0]


def rel_ids(*rels: str) -> list[int]:
    return [UD_HEAD_LABELS.index(r) for r in rels]


# Two evaluated sentences, padded to L = 6:
#   s1: w1 -nsubj-> w2 (root), w3 -det-> w4, w4 -obj-> w2     heads 2 0 4 2
#   s2: w1 root, w2 -punct-> w1                               heads 0 1
# Right chain s1: 2 3 4 0 -> w1, w3 right; s2: 2 0 -> none: UAS 2/6. Left chain s1: 0 1 2 3 -> none;
# s2: 0 1 -> both: UAS 2/6.
ARCS = np.array([[2, 0, 4, 2, X, X], [0, 1, X, X, X, X]])
RELS = np.array([[*rel_ids("nsubj", "root", "det", "obj"), X, X], [*rel_ids("root", "punct"), X, X, X, X]])


def test_chain_baseline_direction_and_relation_come_from_train():
    # train: w1 -det-> w2 -nsubj-> w3 (root): a right chain (right 3/3, left 0/3); relations tie -> "det"
    # (first in the label list). Right chain + det on the evaluated split: UAS 2/6, LAS: only s1's w3 (det) -> 1/6.
    train = [Sentence(["a", "b", "c"], ["DET", "NOUN", "VERB"], [2, 3, 0], ["det", "nsubj", "root"])]
    baseline = chain_baseline(ARCS, RELS, train, UD_HEAD_LABELS)
    expected = {"uas": 100 * 2 / 6, "las": 100 * 1 / 6}
    assert baseline.metrics == pytest.approx({**expected, **{f"mst_{k}": v for k, v in expected.items()}})
    assert baseline.description.startswith("right chain") and "'det'" in baseline.description
    assert not baseline.from_eval_split
    # the same through the task, with the Trainer's (arc_labels, rel_labels) label_ids
    assert get_task("ud").baseline((ARCS, RELS), None, train, UD_HEAD_LABELS).metrics == baseline.metrics


def test_chain_baseline_from_a_left_branching_train_split():
    # train: a left chain with "punct" twice -> left chain + punct: UAS 2/6, LAS: s2's w2 (punct) -> 1/6
    train = [Sentence(["a", "b", "c"], ["X"] * 3, [0, 1, 2], ["root", "punct", "punct"])]
    baseline = chain_baseline(ARCS, RELS, train, UD_HEAD_LABELS)
    assert baseline.metrics["uas"] == pytest.approx(100 * 2 / 6)
    assert baseline.metrics["las"] == pytest.approx(100 * 1 / 6)
    assert baseline.description.startswith("left chain") and "'punct'" in baseline.description


def test_chain_baseline_without_train_is_fit_on_the_gold_arcs():
    # UAS ties (2/6 each) -> left; relations of the split: nsubj root det obj root punct -> "root" (2)
    # Left chain + root: LAS = s2's w1 (root) -> 1/6
    baseline = chain_baseline(ARCS, RELS, None, UD_HEAD_LABELS)
    assert baseline.from_eval_split
    assert baseline.metrics["uas"] == pytest.approx(100 * 2 / 6)
    assert baseline.metrics["las"] == pytest.approx(100 * 1 / 6)
    assert "'root'" in baseline.description


def test_qa_first_context_word():
    examples = [
        QAExample("1", "capital?", "Paris is the capital", [{"text": "Paris", "answer_start": 0}]),
        QAExample("2", "where?", "It is Rome", [{"text": "Rome", "answer_start": 6}]),
        QAExample("3", "none?", "No answer here"),  # unanswerable: not scored
    ]
    dataset = SimpleNamespace(encoder=SimpleNamespace(examples=examples))
    baseline = get_task("qa").baseline(None, dataset, None, [])
    # "Paris" is right, "It" is wrong: EM and F1 50
    assert baseline.metrics == pytest.approx({"exact_match": 50.0, "f1": 50.0})
    assert not baseline.from_eval_split


def test_collapsed_class():
    assert collapsed_class(np.array([2, 2, 2])) == 2
    assert collapsed_class(np.array([2, 1, 2])) is None
    assert collapsed_class(np.array([2])) is None  # one prediction says nothing
    assert collapsed_class(None) is None


def test_tagger_and_parser_predicted_classes():
    words = np.array([[7, 7, X], [7, X, X]])  # word-aligned, -100 past each sentence's words
    assert get_task("pos").predicted_classes(words, None).tolist() == [7, 7, 7]
    assert get_task("ner").predicted_classes(words, None).tolist() == [7, 7, 7]
    parses = np.full((1, 3, 4), X)
    parses[0, :2] = [[2, 5, 2, 5], [0, 9, 0, 9]]  # argmax head/rel, MST head/rel of 2 words
    assert get_task("ud").predicted_classes(parses, None).tolist() == [5, 9]


def test_reported_metrics_adds_the_baseline_and_flags_a_collapse(caplog):
    task = get_task("sib")
    report = reported_metrics(task, [None] * 4, ABC, texts("a", "a", "b"))
    gold = np.array([1, 1, 0, 2])
    with caplog.at_level(logging.WARNING, logger="pixel.tasks.base"):
        metrics = report(EvalPrediction(predictions=np.array([0, 0, 0, 0]), label_ids=gold))
    assert metrics == pytest.approx(
        {
            "accuracy": 0.25,
            "f1": 0.4 / 3,
            "baseline_accuracy": 0.25,
            "baseline_f1": 0.4 / 3,
            "baseline_from_eval_split": 0,
            "collapsed": 1,
        }
    )
    (warning,) = caplog.records
    assert "all 4 predictions" in warning.getMessage() and "'a'" in warning.getMessage()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="pixel.tasks.base"):
        metrics = report(EvalPrediction(predictions=np.array([1, 1, 0, 0]), label_ids=gold))
    assert metrics["collapsed"] == 0 and metrics["accuracy"] == 0.75
    assert not caplog.records


def test_reported_metrics_without_train_flags_the_baseline():
    report = reported_metrics(get_task("sib"), [None] * 4, ABC)
    metrics = report(EvalPrediction(predictions=np.array([1, 1, 0, 0]), label_ids=np.array([1, 1, 0, 2])))
    assert metrics["baseline_from_eval_split"] == 1
    assert metrics["baseline_accuracy"] == 0.5
