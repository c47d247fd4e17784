"""Every task end to end through `pixel finetune` on real data, with a tiny model initialised by the test."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import conllu
import pytest
from finetune_support import (  # noqa: F401
    FAST,
    SIB,
    UD,
    needs_data,
    ner_folder_from_ud,
    single_thread,
    tiny_pretrained_model,
)

from pixel.cli import main as cli

pytestmark = [needs_data, pytest.mark.usefixtures("single_thread")]

# Evaluate and checkpoint every 2 steps so early stopping and best-model selection are exercised.
SELECT = [
    "--eval_strategy", "steps", "--eval_steps", "2", "--save_steps", "2", "--load_best_model_at_end", "True",
    "--do_train", "--do_eval", "--do_predict",
]  # fmt: skip


def finetune(task: str, data: list[str], out: Path, *extra: str) -> dict:
    argv = ["finetune", task, "--model_name_or_path", str(tiny_pretrained_model()), *data]
    assert cli([*argv, "--output_dir", str(out), *FAST, *SELECT, *extra]) == 0
    results = json.loads((out / "all_results.json").read_text())
    for name in ("train_results.json", "eval_results.json", "test_results.json", "config.json"):
        assert (out / name).is_file(), name
    assert_processor_saved(out)
    config = json.loads((out / "config.json").read_text())
    assert config["finetuning_task"] == task
    state = json.loads((out / "trainer_state.json").read_text())
    assert state["best_model_checkpoint"] is not None  # selection on the task metric happened
    return results


def assert_processor_saved(out: Path) -> None:
    """The Trainer saved the PIXELProcessor beside the model, in output_dir and in every checkpoint, and the
    folder runs as `AutoModel.from_pretrained(out)(**AutoProcessor.from_pretrained(out)(texts))`."""
    import torch
    from transformers import AutoModel, AutoProcessor

    from pixel.data.processor import PROCESSOR_NAME, PIXELProcessor

    checkpoints = sorted(out.glob("checkpoint-*"))
    assert checkpoints
    for folder in (out, *checkpoints):
        assert (folder / PROCESSOR_NAME).is_file(), folder
        assert (folder / "text_renderer_config.json").is_file(), folder  # as released checkpoints hold it
    processor = AutoProcessor.from_pretrained(out)
    assert type(processor) is PIXELProcessor and processor.max_seq_length == 64  # --max_seq_length
    inputs = processor(["a", "b"], return_tensors="pt")
    with torch.no_grad():
        hidden = AutoModel.from_pretrained(out)(**inputs).last_hidden_state
    assert hidden.shape[:2] == (2, inputs["attention_mask"].shape[1] + 1)  # CLS + patches


@pytest.mark.parametrize("treebank", ["UD_Tamil-TTB", "UD_Vietnamese-VTB"])
def test_ud_parsing(tmp_path, treebank):
    results = finetune("ud", ["--data_dir", str(UD / treebank)], tmp_path)
    for key in ("test_las", "test_uas", "test_mst_las", "test_mst_uas", "eval_las", "eval_uas"):
        assert 0.0 <= results[key] <= 100.0, key
    assert results["test_las"] <= results["test_uas"]
    state = json.loads((tmp_path / "trainer_state.json").read_text())
    assert state["best_metric"] == max(h["eval_las"] for h in state["log_history"] if "eval_las" in h)
    sentences = conllu.parse((tmp_path / "test_predictions.conllu").read_text(encoding="utf-8"))
    assert len(sentences) == 16
    for sentence in sentences:
        words = [t for t in sentence if isinstance(t["id"], int)]
        assert all(0 <= t["head"] <= len(words) for t in words)  # MST output: a tree over the sentence


@pytest.mark.parametrize("treebank", ["UD_Tamil-TTB", "UD_Vietnamese-VTB"])
def test_pos_tagging(tmp_path, treebank):
    results = finetune("pos", ["--data_dir", str(UD / treebank)], tmp_path)
    assert 0.0 <= results["test_accuracy"] <= 1.0
    sentences = conllu.parse((tmp_path / "test_predictions.conllu").read_text(encoding="utf-8"))
    assert len(sentences) == 16 and all(t["upos"] for s in sentences for t in s)


def test_sib(tmp_path):
    results = finetune("sib", ["--data_dir", str(SIB), "--language", "eng_Latn"], tmp_path)
    assert 0.0 <= results["test_f1"] <= 1.0 and 0.0 <= results["test_accuracy"] <= 1.0
    labels = set((SIB / "eng_Latn" / "labels.txt").read_text().split())
    with open(tmp_path / "test_predictions.tsv", encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    assert len(rows) == 17  # header + 16 predictions
    assert {row[-1] for row in rows[1:]} <= labels


def test_ner_from_ud_tokens(tmp_path):
    data = ner_folder_from_ud(UD / "UD_Tamil-TTB", tmp_path / "ner")
    results = finetune("ner", ["--data_dir", str(data)], tmp_path / "out")
    for key in ("test_f1", "test_precision", "test_recall", "eval_f1"):
        assert 0.0 <= results[key] <= 1.0, key
    lines = (tmp_path / "out" / "test_predictions.conll").read_text(encoding="utf-8").split("\n")
    tags = {line.split("\t")[1] for line in lines if line}
    assert tags <= {"O", "B-PER", "I-PER", "B-NUM", "I-NUM"}


def test_missing_split_names_the_file(tmp_path, capsys):
    argv = ["finetune", "ud", "--model_name_or_path", str(tiny_pretrained_model())]
    code = cli(
        [*argv, "--data_dir", str(UD / "UD_Japanese-GSD"), "--output_dir", str(tmp_path), "--do_train"]
    )
    assert code == 1
    assert "-ud-train.conllu" in capsys.readouterr().err


def test_early_stopping_stops_when_the_metric_stalls(tmp_path):
    # learning rate 0: the dev accuracy never improves, so patience 1 stops training at the second evaluation.
    argv = [
        "finetune",
        "pos",
        "--model_name_or_path",
        str(tiny_pretrained_model()),
        "--data_dir",
        str(UD / "UD_Tamil-TTB"),
    ]
    extra = ["--learning_rate", "0", "--max_steps", "50", "--eval_steps", "1", "--save_steps", "1"]
    assert (
        cli([*argv, "--output_dir", str(tmp_path), *FAST, *SELECT, *extra, "--early_stopping_patience", "1"])
        == 0
    )
    state = json.loads((tmp_path / "trainer_state.json").read_text())
    assert state["global_step"] == 2
    assert state["best_model_checkpoint"].endswith("checkpoint-1")
