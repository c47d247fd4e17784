"""Split files of `pixel finetune` on a treebank without a train split (UD_Japanese-GSD here ships only dev and
test): the error names the pattern and --train_file, and a dev/test file that is the train file is refused."""

from __future__ import annotations

import json
import logging
import shutil

import pytest
from finetune_support import UD, needs_data

from pixel.cli import UsageError
from pixel.cli import main as cli
from pixel.tasks import get_task
from pixel.train.arguments import parse_finetune_args
from pixel.train.splits import resolve_splits, same_file

pytestmark = needs_data

JAPANESE = UD / "UD_Japanese-GSD"
DEV, TEST = JAPANESE / "ja_gsd-ud-dev.conllu", JAPANESE / "ja_gsd-ud-test.conllu"


def splits(tmp_path, *flags: str) -> dict:
    """The split files `pixel finetune ud` would read with `flags` (no model is loaded)."""
    argv = ["--model_name_or_path", "m", "--output_dir", str(tmp_path / "out"), "--report_to", "none", *flags]
    _, data_args, training_args = parse_finetune_args(argv, metric_for_best_model="las")
    return resolve_splits(get_task("ud"), data_args, training_args)


def test_missing_train_split_names_the_pattern_and_the_flags(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        splits(tmp_path, "--data_dir", str(JAPANESE), "--do_train")
    message = str(error.value)
    assert f"no train split in {JAPANESE}" in message and "*-ud-train.conllu" in message
    assert "ja_gsd-ud-train.conllu" in message and "ja_gsd-ud-dev.conllu, ja_gsd-ud-test.conllu" in message
    assert "--train_file" in message and "--validation_file" in message


def test_training_on_dev_and_testing_on_test_is_allowed(tmp_path):
    paths = splits(
        tmp_path, "--data_dir", str(JAPANESE), "--train_file", str(DEV), "--do_train", "--do_predict"
    )
    assert paths == {"train": DEV, "test": TEST}


@pytest.mark.parametrize("evaluate", [["--do_eval"], ["--eval_strategy", "steps"]])
def test_dev_file_as_train_file_is_refused(tmp_path, evaluate):
    with pytest.raises(UsageError) as error:
        splits(tmp_path, "--data_dir", str(JAPANESE), "--train_file", str(DEV), "--do_train", *evaluate)
    message = str(error.value)
    assert f"the dev file {DEV} is the same file as the train file {DEV}" in message
    assert "--validation_file" in message and "--allow_eval_on_train_file" in message


def test_a_copy_of_the_test_file_is_refused_and_the_flag_allows_it_loudly(tmp_path, caplog):
    copy = tmp_path / "train.conllu"
    shutil.copyfile(TEST, copy)
    flags = ["--data_dir", str(JAPANESE), "--train_file", str(copy), "--do_train", "--do_predict"]
    with pytest.raises(UsageError, match="is a copy with the same content as the train file"):
        splits(tmp_path, *flags)
    with caplog.at_level(logging.WARNING):
        assert splits(tmp_path, *flags, "--allow_eval_on_train_file") == {"train": copy, "test": TEST}
    assert "EVALUATING ON THE TRAINING DATA" in caplog.text and str(TEST) in caplog.text


def test_identical_files_in_data_dir_are_a_data_error(tmp_path):
    folder = tmp_path / "UD_Japanese-GSD"
    folder.mkdir()
    for name in ("ja_gsd-ud-dev.conllu", "ja_gsd-ud-train.conllu"):
        shutil.copyfile(DEV, folder / name)
    with pytest.raises(ValueError, match="is a copy with the same content") as error:
        splits(tmp_path, "--data_dir", str(folder), "--do_train", "--do_eval")
    assert not isinstance(error.value, UsageError)


def test_a_train_file_that_only_overlaps_dev_is_not_a_copy(tmp_path):
    # as in the README test: train = the first dev sentences plus more, dev = fewer of them
    blocks = DEV.read_text(encoding="utf-8").split("\n\n")
    train, dev = tmp_path / "train.conllu", tmp_path / "dev.conllu"
    train.write_text("\n\n".join(blocks[:8]) + "\n\n", encoding="utf-8")
    dev.write_text("\n\n".join(blocks[:4]) + "\n\n", encoding="utf-8")
    assert same_file(train, dev) is None
    assert same_file(dev, tmp_path / "." / "dev.conllu") == "the same file"
    (tmp_path / "link.conllu").symlink_to(dev)
    assert same_file(tmp_path / "link.conllu", dev) == "the same file"


def test_the_cli_reports_one_line_before_loading_a_model(tmp_path, capsys):
    argv = [
        "finetune",
        "ud",
        "--model_name_or_path",
        str(tmp_path / "no-model"),
        "--output_dir",
        str(tmp_path),
    ]
    flags = ["--data_dir", str(JAPANESE), "--train_file", str(DEV), "--do_train", "--do_eval"]
    assert cli([*argv, *flags]) == 2  # the model folder does not exist: nothing was loaded
    err = capsys.readouterr().err.strip()
    assert err.startswith("pixel finetune ud: error: the dev file") and "\n" not in err
    assert cli([*argv, "--data_dir", str(JAPANESE), "--do_train"]) == 1
    assert "pass --train_file FILE" in capsys.readouterr().err


def test_a_dev_test_only_treebank_trains_on_dev_and_tests_on_test(tmp_path):
    from finetune_support import FAST, one_thread, tiny_pretrained_model

    argv = [
        "finetune",
        "ud",
        "--model_name_or_path",
        str(tiny_pretrained_model()),
        "--output_dir",
        str(tmp_path),
    ]
    flags = ["--data_dir", str(JAPANESE), "--train_file", str(DEV), "--do_train", "--do_predict"]
    with one_thread():
        assert cli([*argv, *flags, *FAST, "--max_steps", "1"]) == 0
    results = json.loads((tmp_path / "all_results.json").read_text())
    assert results["train_samples"] == 32 and "test_las" in results and "eval_las" not in results
