"""Parser decoding (argmax as published, MST) and UAS/LAS on word-aligned predictions, against hand-made values."""

import numpy as np
import pytest
import torch
from transformers import EvalPrediction

from pixel.tasks import get_task
from pixel.tasks.ud import ARGMAX_HEAD, ARGMAX_REL, MST_HEAD, MST_REL, decode_parses, parsing_metrics

L, R = 5, 4


def _logits() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One sentence of 3 words (L = 5). Argmax heads form a cycle 1 <-> 2 and point word 3 at padding (5)."""
    arc = torch.full((1, L, L + 1), -10.0)
    arc[0, 0, 2] = 5.0  # word 1 -> word 2 (best), ROOT second best
    arc[0, 0, 0] = 4.0
    arc[0, 1, 1] = 5.0  # word 2 -> word 1
    arc[0, 2, 5] = 6.0  # word 3 -> padding position 5 (argmax may pick it, MST may not)
    arc[0, 2, 1] = 3.0
    rel = torch.zeros(1, L, L + 1, R)
    rel[0, 0, 2, 1] = 1.0  # relation 1 at head 2 for word 1
    rel[0, 0, 0, 3] = 1.0  # relation 3 at ROOT for word 1
    rel[0, 1, 1, 2] = 1.0
    rel[0, 2, 1, 2] = 1.0
    arc_labels = torch.tensor([[0, 1, 1, -100, -100]])
    return arc, rel, arc_labels


def test_decode_argmax_and_mst() -> None:
    arc, rel, arc_labels = _logits()
    out = decode_parses((arc, rel), (arc_labels, arc_labels.clone()))
    assert out.shape == (1, L, 4)
    assert out[0, :3, ARGMAX_HEAD].tolist() == [2, 1, 5]  # published argmax: a cycle and a padding head
    assert out[0, :3, ARGMAX_REL].tolist() == [1, 2, 0]
    assert out[0, :3, MST_HEAD].tolist() == [0, 1, 1]  # a tree: word 1 is the root
    assert out[0, :3, MST_REL].tolist() == [3, 2, 2]  # relation read at the MST head
    assert (out[0, 3:] == -100).all()  # beyond the sentence


def test_parsing_metrics_hand_computed() -> None:
    predictions = np.full((2, 4, 4), -100)
    predictions[0, :3] = [[2, 1, 0, 1], [0, 2, 0, 2], [2, 1, 2, 3]]  # (argmax head, rel, mst head, rel)
    predictions[1, :2] = [[0, 5, 0, 5], [1, 7, 1, 6]]
    arc_labels = np.array([[2, 0, 1, -100], [0, 1, -100, -100]])
    rel_labels = np.array([[1, 2, 3, -100], [5, 7, -100, -100]])
    metrics = parsing_metrics(predictions, arc_labels, rel_labels)
    # argmax: heads right for (0,0) (0,1) (1,0) (1,1) = 4/5; labels right for all four = 4/5
    assert metrics["uas"] == pytest.approx(80.0) and metrics["las"] == pytest.approx(80.0)
    # mst: heads right for (0,1) (1,0) (1,1) = 3/5; labels right for (0,1) (1,0) = 2/5
    assert metrics["mst_uas"] == pytest.approx(60.0) and metrics["mst_las"] == pytest.approx(40.0)
    assert metrics["words"] == 5
    task = get_task("ud")
    via_task = task.compute_metrics(
        EvalPrediction(predictions=predictions, label_ids=(arc_labels, rel_labels))
    )
    assert via_task == metrics


def test_preprocess_and_metrics_agree_with_gold_logits() -> None:
    """Logits that put all mass on the gold tree give 100 UAS/LAS for both decodings."""
    arc_labels = torch.tensor([[2, 0, 2, -100, -100], [0, 1, -100, -100, -100]])
    rel_labels = torch.tensor([[1, 3, 2, -100, -100], [3, 0, -100, -100, -100]])
    arc = torch.randn(2, L, L + 1, generator=torch.Generator().manual_seed(0))
    rel = torch.randn(2, L, L + 1, R, generator=torch.Generator().manual_seed(1))
    for b, i in zip(*torch.where(arc_labels != -100), strict=True):
        arc[b, i, arc_labels[b, i]] = 20.0
        rel[b, i, arc_labels[b, i], rel_labels[b, i]] = 20.0
    task = get_task("ud")
    predictions = task.preprocess_logits_for_metrics((arc, rel), (arc_labels, rel_labels))
    metrics = task.compute_metrics(
        EvalPrediction(predictions=predictions.numpy(), label_ids=(arc_labels.numpy(), rel_labels.numpy()))
    )
    assert metrics["las"] == metrics["uas"] == metrics["mst_las"] == metrics["mst_uas"] == 100.0
