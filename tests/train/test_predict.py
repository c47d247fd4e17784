"""`pixel predict`: a finetuned model (task found from its folder) annotates raw text and files; the output lines
up with the input (line numbers as ids), and a bad request fails before the model is loaded."""

from __future__ import annotations

import csv
import json
import logging

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
    assert [s.metadata for s in sentences] == [{"sent_id": str(n), "text": line} for n, line in enumerate(
        text.split("\n"), start=1)]  # fmt: skip
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


def test_parser_keeps_line_numbers_across_blank_lines(finetuned, tmp_path, caplog):
    source = tmp_path / "raw.txt"
    source.write_text("Tôi yêu Hà_Nội .\n\n  \nHôm nay trời đẹp .\n", encoding="utf-8")
    out = tmp_path / "parsed.conllu"
    with caplog.at_level(logging.INFO):
        assert (
            cli(["predict", "--model", str(finetuned["ud"]), "--input", str(source), "--output", str(out)])
            == 0
        )
    assert [s.metadata["sent_id"] for s in conllu.parse(out.read_text(encoding="utf-8"))] == ["1", "4"]
    assert f"{source}: 2 blank line(s) skipped (line 2, 3)" in caplog.text


def test_tagger_on_raw_text_writes_upos_and_no_tree(finetuned, tmp_path):
    from pixel.tasks.treebank import UPOS_LABELS

    out = tmp_path / "tagged.conllu"
    assert (
        cli(["predict", "--model", str(finetuned["pos"]), "--text", "இது ஒரு சோதனை .", "--output", str(out)])
        == 0
    )
    (sentence,) = conllu.parse(out.read_text(encoding="utf-8"))
    assert sentence.metadata == {"sent_id": "1", "text": "இது ஒரு சோதனை ."}
    assert [t["form"] for t in sentence] == ["இது", "ஒரு", "சோதனை", "."]
    assert {t["upos"] for t in sentence} <= set(UPOS_LABELS)
    assert all(t["head"] is None and t["deprel"] == "_" for t in sentence)  # `_`: unknown, not a root each
    # the tagged file is parser input: the parser re-annotates it with a tree
    parsed = tmp_path / "parsed.conllu"
    argv = ["predict", "--model", str(finetuned["ud"]), "--input", str(out), "--input_format", "task"]
    assert cli([*argv, "--output", str(parsed)]) == 0
    (tree,) = conllu.parse(parsed.read_text(encoding="utf-8"))
    assert [t["head"] for t in tree].count(0) == 1  # one root
    assert [t["upos"] for t in tree] == [t["upos"] for t in sentence]  # the tags are kept


def test_unsegmented_script_gets_one_warning_naming_the_line(finetuned, tmp_path, caplog):
    text = "இது ஒரு சோதனை .\nผมชอบกินข้าวผัดมากที่สุดในโลก\nวันนี้อากาศดีมากเลยนะครับ"
    out = tmp_path / "tagged.conllu"
    with caplog.at_level(logging.WARNING):
        assert cli(["predict", "--model", str(finetuned["pos"]), "--text", text, "--output", str(out)]) == 0
    (warning,) = [r.getMessage() for r in caplog.records if "became one word" in r.getMessage()]
    assert warning.startswith("--text:2: ") and "1 more line(s)" in warning
    assert "Thai text is written without spaces" in warning
    assert "word-segmented" in warning and "--input_format task" in warning


def test_ner_on_a_raw_file_writes_conll(finetuned, tmp_path, caplog):
    source = tmp_path / "raw.txt"
    source.write_text("இது ஒரு சோதனை\n\nமற்றொரு வரி இங்கே உள்ளது\n", encoding="utf-8")
    out = tmp_path / "ner.conll"
    with caplog.at_level(logging.INFO):
        assert (
            cli(["predict", "--model", str(finetuned["ner"]), "--input", str(source), "--output", str(out)])
            == 0
        )
    assert "1 blank line(s) skipped (line 2)" in caplog.text  # CoNLL has no ids: the skip is reported
    blocks = [b.split("\n") for b in out.read_text(encoding="utf-8").strip().split("\n\n")]
    assert [[line.split("\t")[0] for line in b] for b in blocks] == [["இது", "ஒரு", "சோதனை"],
                                                                    ["மற்றொரு", "வரி", "இங்கே", "உள்ளது"]]  # fmt: skip
    assert {line.split("\t")[1] for b in blocks for line in b} <= {"O", "B-PER", "I-PER", "B-NUM", "I-NUM"}


def read_tsv(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def test_classifier_writes_tsv_with_line_ids_and_top_k(finetuned, tmp_path):
    out = tmp_path / "topics.tsv"
    text = "The team won the match.\n\nRain is expected."
    assert cli(["predict", "--model", str(finetuned["sib"]), "--text", text, "--output", str(out)]) == 0
    rows = read_tsv(out)
    labels = (SIB / "eng_Latn" / "labels.txt").read_text().split()
    assert [(r["id"], r["index_id"]) for r in rows] == [("1", ""), ("3", "")]  # line numbers; no own ids
    assert {r["prediction"] for r in rows} <= set(labels) and "top1" not in rows[0]

    assert (
        cli(
            [
                "predict",
                "--model",
                str(finetuned["sib"]),
                "--text",
                text,
                "--output",
                str(out),
                "--top_k",
                "3",
            ]
        )
        == 0
    )
    for row in read_tsv(out):
        best = [(row[f"top{i}"], float(row[f"top{i}_prob"])) for i in (1, 2, 3)]
        assert best[0][0] == row["prediction"] and {c for c, _ in best} <= set(labels)
        assert 1.0 >= best[0][1] >= best[1][1] >= best[2][1] > 0.0
    with_all = tmp_path / "all.tsv"
    argv = ["predict", "--model", str(finetuned["sib"]), "--text", "Rain.", "--output", str(with_all)]
    assert cli([*argv, "--top_k", "99"]) == 0
    (row,) = read_tsv(with_all)
    assert sum(float(row[f"top{i}_prob"]) for i in range(1, len(labels) + 1)) == pytest.approx(1.0, abs=1e-3)


def test_classifier_reannotates_a_tsv_keeping_its_ids(finetuned, tmp_path):
    source = tmp_path / "test.tsv"
    source.write_text("index_id\tcategory\ttext\n431\tsports\tThe team won .\n", encoding="utf-8")
    out = tmp_path / "out.tsv"
    argv = ["predict", "--model", str(finetuned["sib"]), "--input", str(source), "--input_format", "task"]
    assert cli([*argv, "--output", str(out)]) == 0
    assert [(r["id"], r["index_id"], r["label"]) for r in read_tsv(out)] == [("2", "431", "sports")]


def config_only_model(folder, **config):
    """A model folder with config.json and nothing else: loading the model would fail."""
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("task", "output", "expected"),
    [("sib", "x.conllu", "writes TSV; name the file *.tsv"), ("ud", "x.tsv", "name the file *.conllu"),
     ("ner", "x.json", "*.conll or *.txt")],
)  # fmt: skip
def test_output_of_another_format_is_a_usage_error_before_loading(tmp_path, capsys, task, output, expected):
    model = config_only_model(tmp_path / "model", finetuning_task=task)
    assert cli(["predict", "--model", str(model), "--text", "x", "--output", str(tmp_path / output)]) == 2
    err = capsys.readouterr().err.strip()
    assert (
        err.startswith(f"pixel predict: error: --output {tmp_path / output}: a {task} model")
        and expected in err
    )


def test_bad_requests_fail_before_the_model_loads(tmp_path, capsys):
    model = config_only_model(
        tmp_path / "model", finetuning_task="sib", problem_type="single_label_classification"
    )
    out = ["--output", str(tmp_path / "o.tsv")]
    assert cli(["predict", "--model", str(model), "--input", str(tmp_path / "missing.txt"), *out]) == 1
    assert f"--input {tmp_path / 'missing.txt'} does not exist" in capsys.readouterr().err
    assert cli(["predict", "--model", str(model), "--text", "x", *out, "--top_k", "0"]) == 2
    assert "--top_k must be at least 1" in capsys.readouterr().err
    (tmp_path / "blank.txt").write_text("\n  \n", encoding="utf-8")
    assert cli(["predict", "--model", str(model), "--input", str(tmp_path / "blank.txt"), *out]) == 1
    assert "no text to predict on" in capsys.readouterr().err
    regression = config_only_model(
        tmp_path / "regression", finetuning_task="classification", problem_type="regression"
    )
    assert cli(["predict", "--model", str(regression), "--text", "x", *out, "--top_k", "2"]) == 2
    assert "regression" in capsys.readouterr().err
    parser = config_only_model(tmp_path / "parser", finetuning_task="ud")
    assert cli(["predict", "--model", str(parser), "--text", "x", "--output", str(tmp_path / "o.conllu"),
                "--top_k", "2"]) == 2  # fmt: skip
    assert "--top_k is for sequence classifiers" in capsys.readouterr().err


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
