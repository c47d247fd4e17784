"""A tiny PIXEL model runs through each task's dataset, collator, head, metric preprocessing, metrics and writer."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import EvalPrediction

from pixel.tasks import get_task
from pixel.tasks.ner import read_conll_ner
from pixel.tasks.treebank import read_conllu

L = 64


def tiny_model(task, labels: list[str]):
    from pixel.model import PIXELConfig

    torch.manual_seed(0)
    config = PIXELConfig(
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        image_size=(16, 16 * L),
        **task.model_kwargs(labels),
    )
    return task.model_class(config).eval()


def run_eval(task, model, dataset, indices: list[int]) -> tuple[dict, EvalPrediction]:
    """What the HF Trainer does in evaluation: collate, forward, drop the loss, shrink logits, gather labels."""
    batch = task.collator(dataset.encoder.processor)([dataset[i] for i in indices])
    label_names = [k for k in batch if "label" in k or "positions" in k]
    with torch.no_grad():
        outputs = model(**batch)
    assert torch.isfinite(outputs.loss)
    logits = tuple(v for k, v in outputs.items() if k != "loss")
    logits = logits[0] if len(logits) == 1 else logits
    labels = tuple(batch[k] for k in label_names)
    labels = labels[0] if len(labels) == 1 else labels
    predictions = task.preprocess_logits_for_metrics(logits, labels)
    label_ids = tuple(x.numpy() for x in labels) if isinstance(labels, tuple) else labels.numpy()
    return batch, EvalPrediction(predictions=predictions.numpy(), label_ids=label_ids)


def test_parser(processor, tamil: Path, tmp_path: Path) -> None:
    task = get_task("ud")
    sentences = read_conllu(tamil / "ta_ttb-ud-dev.conllu")[:3]
    labels = task.labels()
    dataset = task.dataset(sentences, processor, labels)
    _, eval_pred = run_eval(task, tiny_model(task, labels), dataset, [0, 1, 2])
    assert eval_pred.predictions.shape == (3, L, 4)
    metrics = task.compute_metrics(eval_pred)
    assert set(metrics) == {"uas", "las", "mst_uas", "mst_las", "words"}
    assert 0 <= metrics["las"] <= metrics["uas"] <= 100
    task.write_predictions(sentences, eval_pred.predictions, labels, tmp_path / "pred.conllu")
    written = read_conllu(tmp_path / "pred.conllu")
    assert [s.words for s in written] == [s.words for s in sentences]
    for sentence in written:  # MST output is a tree with one root
        assert sum(h == 0 for h in sentence.heads) == 1


def test_pos(processor, vietnamese: Path, tmp_path: Path) -> None:
    task = get_task("pos")
    sentences = read_conllu(vietnamese / "vi_vtb-ud-dev.conllu")[:3]
    labels = task.labels()
    dataset = task.dataset(sentences, processor, labels)
    batch, eval_pred = run_eval(task, tiny_model(task, labels), dataset, [0, 1, 2])
    kept = (batch["labels"] != -100).sum(1)
    assert ((eval_pred.predictions != -100).sum(1) == kept.numpy()).all()  # one prediction per kept word
    assert 0 <= task.compute_metrics(eval_pred)["accuracy"] <= 1
    task.write_predictions(sentences, eval_pred.predictions, labels, tmp_path / "pos.conllu")
    written = read_conllu(tmp_path / "pos.conllu")
    assert all(u in labels or u == "_" for s in written for u in s.upos)


def test_ner(processor, ner_dir: Path, tmp_path: Path) -> None:
    task = get_task("ner")
    labels = task.labels(ner_dir)
    sentences = task.read(ner_dir / "test.txt")[:3]
    dataset = task.dataset(sentences, processor, labels)
    _, eval_pred = run_eval(task, tiny_model(task, labels), dataset, [0, 1, 2])
    assert set(task.compute_metrics(eval_pred)) == {"precision", "recall", "f1", "accuracy"}
    task.write_predictions(sentences, eval_pred.predictions, labels, tmp_path / "ner.conll")
    assert [s.words for s in read_conll_ner(tmp_path / "ner.conll")] == [s.words for s in sentences]


@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_sib(processor, sib_eng: Path, tmp_path: Path, pooling: str) -> None:
    task = get_task("sib", pooling_mode=pooling)
    labels = task.labels(sib_eng)
    examples = task.read(sib_eng / "test.tsv")[:3]
    dataset = task.dataset(examples, processor, labels)
    _, eval_pred = run_eval(task, tiny_model(task, labels), dataset, [0, 1, 2])
    assert eval_pred.predictions.shape == (3,)
    assert set(task.compute_metrics(eval_pred)) == {"accuracy", "f1"}
    task.write_predictions(examples, eval_pred.predictions, labels, tmp_path / "sib.tsv")
    assert len((tmp_path / "sib.tsv").read_text(encoding="utf-8").splitlines()) == 4


def test_regression_pairs(processor, tmp_path: Path) -> None:
    rows = [{"sentence1": f"a {i}", "sentence2": f"b {i}", "label": i / 2} for i in range(3)]
    (tmp_path / "train.jsonl").write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    task = get_task("pair_classification", regression=True)
    examples = task.read(task.find_split(tmp_path, "train"))
    labels = task.labels(tmp_path)
    dataset = task.dataset(examples, processor, labels)
    _, eval_pred = run_eval(task, tiny_model(task, labels), dataset, [0, 1, 2])
    assert eval_pred.predictions.dtype == np.float32
    assert set(task.compute_metrics(eval_pred)) == {"pearson", "spearmanr", "mse"}


def test_qa(processor, tmp_path: Path) -> None:
    context = "Kyiv is the capital of Ukraine and its largest city ."
    qas = [{"id": "q", "question": "Capital of Ukraine?", "answers": [{"text": "Kyiv", "answer_start": 0}]}]
    (tmp_path / "train.json").write_text(
        json.dumps({"data": [{"paragraphs": [{"context": context, "qas": qas}]}]})
    )
    task = get_task("qa")
    examples = task.read(tmp_path / "train.json")
    dataset = task.dataset(examples, processor, [])
    _, eval_pred = run_eval(task, tiny_model(task, []), dataset, list(range(len(dataset))))
    metrics = task.metrics_for(dataset)(eval_pred)
    assert set(metrics) == {"exact_match", "f1"}


def test_parser_through_the_hf_trainer(processor, tamil: Path, tmp_path: Path) -> None:
    """The real Trainer passes (arc_labels, rel_labels) as a tuple and concatenates shrunk predictions."""
    from transformers import Trainer, TrainingArguments

    task = get_task("ud")
    sentences = read_conllu(tamil / "ta_ttb-ud-test.conllu")[:5]
    labels = task.labels()
    dataset = task.dataset(sentences, processor, labels)
    args = TrainingArguments(
        output_dir=str(tmp_path), per_device_eval_batch_size=2, report_to=[], use_cpu=True, disable_tqdm=True,
        remove_unused_columns=False,  # as `pixel finetune` sets it: items hold Encodings for the collator
    )  # fmt: skip
    trainer = Trainer(
        model=tiny_model(task, labels),
        args=args,
        data_collator=task.collator(processor),
        compute_metrics=task.metrics_for(dataset),
        preprocess_logits_for_metrics=task.preprocess_logits_for_metrics,
    )
    output = trainer.predict(dataset)
    assert output.predictions.shape == (5, L, 4)
    assert {"test_las", "test_uas", "test_mst_las", "test_mst_uas"} <= set(output.metrics)
    assert output.metrics["test_words"] == sum(
        int((dataset[i]["arc_labels"] != -100).sum()) for i in range(len(dataset))
    )
