"""The standard overfit check for every head: a tiny randomly initialised model fits a small fixed training set.

Eight examples, full batch, AdamW, no dropout, a bounded number of steps. A head whose loss, labels or decoding were
wired wrongly cannot get there (the sequence head of an earlier version sat at the majority class for 150 steps on
64 sentences; docs/finetuning.md has the measurement).
"""

import json
import re
from pathlib import Path

import pytest
import torch

from pixel.tasks import get_task
from pixel.tasks.treebank import read_conllu

L = 64
N = 8


def fit(task, labels: list[str], dataset, steps: int, lr: float = 1e-3) -> dict[str, float]:
    """Train a tiny model on the whole `dataset` as one batch, then the task's own metrics on it."""
    from pixel.model import PIXELConfig

    torch.manual_seed(0)
    config = PIXELConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        image_size=(16, 16 * L),
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        **task.model_kwargs(labels),
    )
    model = task.model_class(config)
    batch = task.collator(dataset.encoder.processor)([dataset[i] for i in range(len(dataset))])
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        model(**batch).loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        outputs = model(**batch)
    names = [k for k in batch if "label" in k or "positions" in k]
    logits = tuple(v for k, v in outputs.items() if k != "loss")
    logits = logits[0] if len(logits) == 1 else logits
    gold = tuple(batch[k] for k in names)
    gold = gold[0] if len(gold) == 1 else gold
    from transformers import EvalPrediction

    predictions = task.preprocess_logits_for_metrics(logits, gold)
    label_ids = tuple(x.numpy() for x in gold) if isinstance(gold, tuple) else gold.numpy()
    return task.metrics_for(dataset)(EvalPrediction(predictions=predictions.numpy(), label_ids=label_ids))


@pytest.mark.parametrize(("pooling", "steps"), [("mean", 150), ("max", 150), ("cls", 400), ("pma2", 400)])
def test_sequence_classification_fits(processor, sib_eng: Path, pooling: str, steps: int) -> None:
    task = get_task("sib", pooling_mode=pooling)
    labels = task.labels(sib_eng)
    examples = task.read(sib_eng / "train.tsv")[:N]
    metrics = fit(task, labels, task.dataset(examples, processor, labels), steps=steps)
    assert metrics["accuracy"] >= 0.95, metrics


def test_token_classification_fits(processor, vietnamese: Path) -> None:
    task = get_task("pos")
    labels = task.labels(vietnamese)
    sentences = read_conllu(vietnamese / "vi_vtb-ud-train.conllu")[:N]
    metrics = fit(task, labels, task.dataset(sentences, processor, labels), steps=150)
    assert metrics["accuracy"] >= 0.95, metrics


def test_biaffine_parser_fits(processor, vietnamese: Path) -> None:
    task = get_task("ud")
    labels = task.labels()
    sentences = read_conllu(vietnamese / "vi_vtb-ud-train.conllu")[:N]
    metrics = fit(task, labels, task.dataset(sentences, processor, labels), steps=300)
    assert metrics["las"] >= 95.0, metrics


def test_question_answering_fits(processor, sib_eng: Path, tmp_path: Path) -> None:
    task = get_task("qa")
    texts = [e.text for e in get_task("sib").read(sib_eng / "train.tsv")[:N]]
    paragraphs = []
    for i, context in enumerate(texts):
        word = list(re.finditer(r"\S+", context))[3]  # the fourth word, where it stands
        answer, start = word.group(), word.start()
        qas = [
            {
                "id": f"q{i}",
                "question": f"Where is {answer}?",
                "answers": [{"text": answer, "answer_start": start}],
            }
        ]
        paragraphs.append({"context": context, "qas": qas})
    (tmp_path / "train.json").write_text(json.dumps({"data": [{"paragraphs": paragraphs}]}), encoding="utf-8")
    examples = task.read(tmp_path / "train.json")
    metrics = fit(task, [], task.dataset(examples, processor, []), steps=400)
    assert metrics["exact_match"] >= 95.0, metrics
