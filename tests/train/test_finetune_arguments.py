"""Argument parsing of `pixel finetune` and the published scripts (no model, no data)."""

import json
import logging

import pytest

from pixel.train.arguments import parse_finetune_args

README_FLAGS = """
--model_name_or_path=/m --remove_unused_columns=False --data_dir=/d --do_train --do_eval --do_predict
--dropout_prob=0.1 --max_seq_length=256 --max_steps=15000 --early_stopping --early_stopping_patience=5
--per_device_train_batch_size=64 --gradient_accumulation_steps=1 --learning_rate=1e-5 --warmup_steps=100
--run_name=pixel-m4--debug --output_dir=./debug/x --overwrite_output_dir --overwrite_cache --logging_strategy=steps
--logging_steps=100 --evaluation_strategy=steps --eval_steps=500 --save_strategy=steps --save_steps=500
--save_total_limit=2 --report_to=none --log_predictions --load_best_model_at_end=True
--metric_for_best_model=eval_las --bf16 --half_precision_backend=cuda_amp --fallback_fonts_dir=./fb --seed=0
--dataloader_num_workers=8 --rendering_backend=pangocairo
""".split()


def test_readme_command_parses_with_legacy_names_mapped(caplog):
    with caplog.at_level(logging.WARNING), pytest.warns(UserWarning, match="bf16"):
        model, data, train = parse_finetune_args(README_FLAGS, metric_for_best_model="las")
    assert train.eval_strategy == "steps"  # --evaluation_strategy mapped
    assert (
        train.load_best_model_at_end and train.metric_for_best_model == "eval_las" and train.greater_is_better
    )
    assert train.bf16 is False  # no CUDA here: float32 fallback instead of a crash
    assert train.overwrite_output_dir and train.early_stopping and train.log_predictions
    assert train.remove_unused_columns is False
    assert (model.dropout_prob, model.rendering_backend, model.fallback_fonts_dir) == (
        0.1,
        "pangocairo",
        "./fb",
    )
    assert (data.max_seq_length, data.overwrite_cache) == (256, True)
    assert "half_precision_backend=cuda_amp is accepted and ignored" in caplog.text


def test_unknown_flag_is_an_error_naming_it(capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_finetune_args(["--model_name_or_path", "m", "--learnin_rate", "1e-5"])
    assert exit_info.value.code == 2
    assert "--learnin_rate" in capsys.readouterr().err


def test_prefix_of_a_flag_is_not_accepted(capsys):
    with pytest.raises(SystemExit):
        parse_finetune_args(["--model_name_or_path", "m", "--eval", "steps"])
    assert "--eval" in capsys.readouterr().err


def test_metric_for_best_model_defaults_to_the_task_metric(tmp_path):
    _, _, train = parse_finetune_args(
        ["--model_name_or_path", "m", "--output_dir", str(tmp_path)], metric_for_best_model="f1"
    )
    assert train.metric_for_best_model == "eval_f1" and train.greater_is_better is True
    _, _, train = parse_finetune_args(
        ["--model_name_or_path", "m", "--output_dir", str(tmp_path), "--metric_for_best_model", "loss"],
        metric_for_best_model="f1",
    )
    assert train.metric_for_best_model == "loss" and train.greater_is_better is False


@pytest.mark.parametrize(
    ("flags", "attr", "value"),
    [
        (["--no_cuda"], "use_cpu", True),
        (["--per_gpu_train_batch_size", "3"], "per_device_train_batch_size", 3),
        (["--warmup_ratio", "0.1"], "warmup_steps", 0.1),
        (["--group_by_length"], "train_sampling_strategy", "group_by_length"),
        (["--adafactor"], "optim", "adafactor"),
    ],
)
def test_renamed_transformers_4_flags(tmp_path, flags, attr, value):
    _, _, train = parse_finetune_args(["--model_name_or_path", "m", "--output_dir", str(tmp_path), *flags])
    assert getattr(train, attr) == value


def test_pygame_backend_is_rejected_with_a_reason():
    with pytest.raises(ValueError, match="PyGame"):
        parse_finetune_args(["--model_name_or_path", "m", "--rendering_backend", "pygame"])


def test_hub_dataset_is_rejected_offline():
    with pytest.raises(ValueError, match="save the dataset to disk"):
        parse_finetune_args(["--model_name_or_path", "m", "--hf_dataset_name", "ai4bharat/naamapadam"])


def test_json_file_of_arguments(tmp_path):
    path = tmp_path / "args.json"
    path.write_text(
        json.dumps({"model_name_or_path": "m", "output_dir": str(tmp_path), "evaluation_strategy": "epoch"})
    )
    _, _, train = parse_finetune_args([str(path)])
    assert train.eval_strategy == "epoch"
    path.write_text(json.dumps({"model_name_or_path": "m", "not_a_flag": 1}))
    with pytest.raises(ValueError, match="not_a_flag"):
        parse_finetune_args([str(path)])


def test_sib_language_folder(tmp_path):
    _, data, _ = parse_finetune_args(
        [
            "--model_name_or_path",
            "m",
            "--data_dir",
            "/x/sib200",
            "--language",
            "eng_Latn",
            "--output_dir",
            str(tmp_path),
        ]
    )
    assert str(data.resolved_data_dir()) == "/x/sib200/eng_Latn"


def test_task_options_are_read_ahead_of_the_full_parse(tmp_path):
    from pixel.train.arguments import task_options

    argv = [
        "--text_columns",
        "a,b",
        "--label_column",
        "y",
        "--is_regression",
        "--doc_stride",
        "32",
        "--seed",
        "3",
    ]
    assert task_options("pair_classification", argv) == {"text_columns": ("a", "b"), "label_column": "y",
                                                         "regression": True}  # fmt: skip
    assert task_options("qa", argv) == {"stride": 32}
    assert task_options("ud", argv) == {}
    # ... and the full parse accepts them too
    _, data, _ = parse_finetune_args(["--model_name_or_path", "m", "--output_dir", str(tmp_path), *argv])
    assert (data.text_columns, data.is_regression, data.doc_stride) == ("a,b", True, 32)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--max_steps", "-5"],
            "--max_steps: must be a positive number of steps (or -1: train num_train_epochs)",
        ),
        (["--per_device_train_batch_size", "0"], "--per_device_train_batch_size: must be at least 1, got 0"),
        (["--learning_rate=-1e-5"], "--learning_rate: must be at least 0, got -1e-05"),
    ],
)
def test_value_out_of_range_is_a_usage_error_naming_the_flag(tmp_path, flags, message):
    from pixel.cli import UsageError

    with pytest.raises(UsageError) as error:
        parse_finetune_args(["--model_name_or_path", "m", "--output_dir", str(tmp_path), *flags])
    assert str(error.value).startswith(message)


def test_negative_max_steps_exits_2_before_any_training(tmp_path, capsys):
    from pixel.cli import main as pixel

    argv = ["finetune", "pos", "--model_name_or_path", str(tmp_path), "--data_dir", str(tmp_path), "--do_train",
            "--output_dir", str(tmp_path / "o"), "--max_steps", "-5"]  # fmt: skip
    assert pixel(argv) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("pixel finetune pos: error: --max_steps: must be a positive number")
        and err.count("\n") == 1
    )
    assert not (tmp_path / "o").exists()


def test_no_prefix_sets_a_boolean_flag_false(tmp_path):
    argv = ["--model_name_or_path", "m", "--output_dir", str(tmp_path)]
    assert parse_finetune_args(argv)[2].log_on_each_node is True
    _, _, train = parse_finetune_args([*argv, "--no_log_on_each_node", "--no_pooler_add_layer_norm"])
    assert train.log_on_each_node is False
    assert parse_finetune_args([*argv, "--no_pooler_add_layer_norm"])[0].pooler_add_layer_norm is False
