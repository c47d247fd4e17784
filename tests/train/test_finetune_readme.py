"""The published README's Japanese-GSD command, pasted into bash as is (small --max_steps): the model is
`Team-PIXEL/pixel-m4` by hub id, from an offline hub cache holding a tiny model in the released layout.

Our UD_Japanese-GSD copy has only dev and test, so the run uses a folder whose train file is a copy of dev (all
three files cut to their first sentences, to keep the test short); on the real folder the script must stop with an
error naming the missing train file.
"""

from __future__ import annotations

import json
import os
import runpy
import shlex
import string
import subprocess
import sys
from pathlib import Path

import pytest
from finetune_support import SINGLE_THREAD_ENV, UD, needs_data, tiny_pretrained_model

pytestmark = needs_data

REPO = Path(__file__).resolve().parents[2]
CJK_FONTS = Path("/usr/share/fonts/opentype/noto")  # Debian fonts-noto-cjk

# From the seed README ("Verify Installation on Japanese Dependency Parsing"); only --max_steps differs (1 step).
# `python` is the interpreter running the tests.
README_COMMAND = r"""
TREEBANK="UD_Japanese-GSD"
SEED=0
LR=1e-5

python ./scripts/training/run_ud_bigrams.py \
	--model_name_or_path="Team-PIXEL/pixel-m4" \
	--remove_unused_columns=False \
	--data_dir=${DATA_DIR} \
	--do_train --do_eval --do_predict \
	--dropout_prob=0.1 \
	--max_seq_length=256 \
	--max_steps=1 \
	--early_stopping \
	--early_stopping_patience=5 \
	--per_device_train_batch_size=64 \
	--gradient_accumulation_steps=1 \
	--learning_rate=${LR} \
	--warmup_steps=100 \
	--run_name="pixel-m4--debug" \
	--output_dir=${OUT}/udp/${TREEBANK}/${LR}--${SEED} \
	--overwrite_output_dir \
	--overwrite_cache \
	--logging_strategy=steps \
	--logging_steps=100 \
	--evaluation_strategy=steps \
	--eval_steps=500 \
	--save_strategy=steps \
	--save_steps=500 \
	--save_total_limit=2 \
	--report_to=none \
	--log_predictions \
	--load_best_model_at_end=True \
	--metric_for_best_model="eval_las" \
	--bf16 \
	--half_precision_backend=cuda_amp \
	--fallback_fonts_dir=${FALLBACK_FONTS_DIR} \
	--seed=0 \
	--dataloader_num_workers=8 \
	--rendering_backend="pangocairo"
"""


def run_readme(data_dir: Path, out: Path, fonts: Path, hub_cache: Path) -> subprocess.CompletedProcess:
    bin_dir = Path(sys.executable).parent  # as in an activated virtual environment: `python` is ours
    env = dict(
        os.environ,
        PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        HF_HUB_CACHE=str(hub_cache),
        DATA_DIR=str(data_dir),
        OUT=str(out),
        FALLBACK_FONTS_DIR=str(fonts),
        HF_HUB_OFFLINE="1",
        **SINGLE_THREAD_ENV,
    )
    return subprocess.run(
        ["bash", "-c", README_COMMAND], cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )


def head_sentences(source: Path, target: Path, count: int) -> None:
    blocks = source.read_text(encoding="utf-8").split("\n\n")[:count]
    target.write_text("\n\n".join(blocks) + "\n\n", encoding="utf-8")


@pytest.mark.slow
def test_readme_command_runs_and_writes_test_las(tmp_path, pixel_m4_hub):
    source = UD / "UD_Japanese-GSD"
    data = tmp_path / "UD_Japanese-GSD"
    data.mkdir()
    head_sentences(source / "ja_gsd-ud-dev.conllu", data / "ja_gsd-ud-train.conllu", 64)  # train = dev
    for split in ("dev", "test"):
        head_sentences(source / f"ja_gsd-ud-{split}.conllu", data / f"ja_gsd-ud-{split}.conllu", 16)
    fonts = CJK_FONTS if CJK_FONTS.is_dir() else tmp_path  # the README's FALLBACK_FONTS_DIR: Japanese glyphs
    done = run_readme(data, tmp_path, fonts, hub_cache=pixel_m4_hub[0])
    assert done.returncode == 0, done.stderr[-3000:]
    out = tmp_path / "udp" / "UD_Japanese-GSD" / "1e-5--0"
    results = json.loads((out / "all_results.json").read_text())
    assert 0.0 <= results["test_las"] <= results["test_uas"] <= 100.0
    assert "eval_las" in results and "test_loss" in results
    assert (out / "test_predictions.conllu").is_file() and (out / "eval_predictions.conllu").is_file()
    assert "--evaluation_strategy is --eval_strategy" in done.stderr + done.stdout


def run_script_in_process(script: str, argv: list[str]) -> int:
    """Run a scripts/training entry point in this process (as `python script argv...`); its exit code."""
    saved = sys.argv
    sys.argv = [script, *argv]
    try:
        runpy.run_path(str(REPO / script), run_name="__main__")
    except SystemExit as done:
        return int(done.code or 0)
    finally:
        sys.argv = saved
    return 0


def readme_argv(model: str, **variables: str) -> list[str]:
    """The README command's arguments after bash-style expansion of its variables, with another model."""
    lines = README_COMMAND.strip().split("\n")
    assignments = dict(
        line.split("=", 1) for line in lines if "=" in line and not line.startswith(("\t", "python"))
    )
    command = README_COMMAND[README_COMMAND.index("run_ud_bigrams.py") + len("run_ud_bigrams.py") :]
    command = command.replace("\\\n", " ")
    values = {k: v.strip('"') for k, v in assignments.items()} | variables
    argv = shlex.split(string.Template(command).substitute(values))
    return [f"--model_name_or_path={model}" if a.startswith("--model_name_or_path=") else a for a in argv]


def test_readme_command_on_a_treebank_without_train_names_the_file(tmp_path, capsys):
    argv = readme_argv(str(tiny_pretrained_model()), DATA_DIR=str(UD / "UD_Japanese-GSD"), OUT=str(tmp_path),
                       FALLBACK_FONTS_DIR=str(tmp_path))  # fmt: skip
    assert "--evaluation_strategy=steps" in argv and "--half_precision_backend=cuda_amp" in argv
    assert run_script_in_process("scripts/training/run_ud_bigrams.py", argv) == 1
    err = capsys.readouterr().err
    assert "-ud-train.conllu" in err and "UD_Japanese-GSD" in err and "Traceback" not in err
    assert "--train_file" in err  # the way to train on a treebank that ships only dev and test


@pytest.mark.parametrize("script", ["run_ud_bigrams.py", "run_ner_bigrams.py", "run_sib_bigrams.py"])
def test_scripts_reject_an_unknown_flag(script, capsys):
    assert (
        run_script_in_process(
            f"scripts/training/{script}", ["--model_name_or_path", "m", "--learning_rte", "1"]
        )
        == 2
    )
    assert "--learning_rte" in capsys.readouterr().err
