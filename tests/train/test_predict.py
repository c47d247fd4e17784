"""`pixel predict`: a finetuned model (task found from its folder) annotates raw text and files."""

from __future__ import annotations

import csv
import json

import conllu
import pytest
from finetune_support import (  # noqa: F401
    FAST,
    SIB,
    UD,
    needs_data,
    ner_folder_from_ud,
    one_thread,
    single_thread,
    tiny_pretrained_model,
)

from pixel.cli import main as cli
from pixel.train.predict import infer_task

pytestmark = [needs_data, pytest.mark.usefixtures("single_thread")]


@pytest.fixture(scope="module")
def finetuned(tmp_path_factory):
    """task -> folder of a model finetuned for 2 steps by `pixel finetune`."""
    root = tmp_path_factory.mktemp("finetuned")
    data = {
        "ud": ["--data_dir", str(UD / "UD_Vietnamese-VTB")],
        "pos": ["--data_dir", str(UD / "UD_Tamil-TTB")],
        "ner": ["--data_dir", str(ner_folder_from_ud(UD / "UD_Tamil-TTB", root / "ner-data", sentences=40))],
        "sib": ["--data_dir", str(SIB / "eng_Latn")],
    }
    folders = {}
    with one_thread():
        for task, flags in data.items():
            out = root / task
            argv = ["finetune", task, "--model_name_or_path", str(tiny_pretrained_model()), *flags]
            assert cli([*argv, "--output_dir", str(out), *FAST, "--max_steps", "2", "--do_train"]) == 0
            folders[task] = out
    return folders


def test_parser_on_raw_text_writes_conllu(finetuned, tmp_path):
    out = tmp_path / "parsed.conllu"
    text = "Tôi yêu Hà_Nội .\nHôm nay trời đẹp ."
    assert cli(["predict", "--model", str(finetuned["ud"]), "--text", text, "--output", str(out)]) == 0
    sentences = conllu.parse(out.read_text(encoding="utf-8"))
    assert [[t["form"] for t in s] for s in sentences] == [line.split() for line in text.split("\n")]
    for sentence in sentences:
        heads = [t["head"] for t in sentence]
        assert heads.count(0) == 1 and all(0 <= h <= len(sentence) for h in heads)  # one root, a tree
        assert all(t["deprel"] for t in sentence)


def test_parser_reannotates_a_conllu_file(finetuned, tmp_path):
    source = tmp_path / "in.conllu"
    blocks = (
        (UD / "UD_Vietnamese-VTB" / "vi_vtb-ud-test.conllu").read_text(encoding="utf-8").split("\n\n")[:3]
    )
    source.write_text("\n\n".join(blocks) + "\n\n", encoding="utf-8")
    out = tmp_path / "out.conllu"
    argv = ["predict", "--model", str(finetuned["ud"]), "--input", str(source), "--input_format", "task"]
    assert cli([*argv, "--output", str(out)]) == 0
    assert len(conllu.parse(out.read_text(encoding="utf-8"))) == 3


def test_tagger_on_raw_text_writes_upos(finetuned, tmp_path):
    from pixel.tasks.treebank import UPOS_LABELS

    out = tmp_path / "tagged.conllu"
    assert (
        cli(["predict", "--model", str(finetuned["pos"]), "--text", "இது ஒரு சோதனை .", "--output", str(out)])
        == 0
    )
    (sentence,) = conllu.parse(out.read_text(encoding="utf-8"))
    assert [t["form"] for t in sentence] == ["இது", "ஒரு", "சோதனை", "."]
    assert {t["upos"] for t in sentence} <= set(UPOS_LABELS)


def test_ner_on_a_raw_file_writes_conll(finetuned, tmp_path):
    source = tmp_path / "raw.txt"
    source.write_text("இது ஒரு சோதனை\n\nமற்றொரு வரி இங்கே உள்ளது\n", encoding="utf-8")
    out = tmp_path / "ner.conll"
    assert (
        cli(["predict", "--model", str(finetuned["ner"]), "--input", str(source), "--output", str(out)]) == 0
    )
    blocks = [b.split("\n") for b in out.read_text(encoding="utf-8").strip().split("\n\n")]
    assert [[line.split("\t")[0] for line in b] for b in blocks] == [["இது", "ஒரு", "சோதனை"],
                                                                    ["மற்றொரு", "வரி", "இங்கே", "உள்ளது"]]  # fmt: skip
    assert {line.split("\t")[1] for b in blocks for line in b} <= {"O", "B-PER", "I-PER", "B-NUM", "I-NUM"}


def test_classifier_writes_tsv(finetuned, tmp_path):
    out = tmp_path / "topics.tsv"
    argv = [
        "predict",
        "--model",
        str(finetuned["sib"]),
        "--text",
        "The team won the match.\nRain is expected.",
    ]
    assert cli([*argv, "--output", str(out)]) == 0
    with open(out, encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    labels = set((SIB / "eng_Latn" / "labels.txt").read_text().split())
    assert len(rows) == 3 and {row[-1] for row in rows[1:]} <= labels


def test_task_is_inferred_from_the_architecture():
    assert infer_task({"architectures": ["PIXELForBiaffineParsing"]}) == "ud"
    assert (
        infer_task({"architectures": ["PIXELForTokenClassification"], "id2label": {"0": "O", "1": "B-PER"}})
        == "ner"
    )
    assert (
        infer_task({"finetuning_task": "sib", "architectures": ["PIXELForSequenceClassification"]}) == "sib"
    )
    with pytest.raises(ValueError, match="--task"):
        infer_task({"architectures": ["Unknown"]})


def test_missing_model_folder_is_a_clear_error(tmp_path, capsys):
    assert cli(["predict", "--model", str(tmp_path), "--text", "x", "--output", str(tmp_path / "o")]) == 1
    assert "config.json" in capsys.readouterr().err


def test_finetuned_model_is_evaluated_without_training(finetuned, tmp_path):
    argv = [
        "finetune",
        "ud",
        "--model_name_or_path",
        str(finetuned["ud"]),
        "--data_dir",
        str(UD / "UD_Tamil-TTB"),
    ]
    assert cli([*argv, "--output_dir", str(tmp_path), *FAST, "--do_predict"]) == 0
    results = json.loads((tmp_path / "all_results.json").read_text())
    assert "test_las" in results and "train_loss" not in results
    assert (tmp_path / "test_predictions.conllu").is_file()
