"""The published README's Japanese-GSD command, pasted into bash as is (local model, small --max_steps).

Our UD_Japanese-GSD copy has only dev and test, so the run uses a folder whose train file is a copy of dev; on
the real folder the script must stop with an error naming the missing train file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from finetune_support import UD, needs_data, tiny_pretrained_model

pytestmark = needs_data

REPO = Path(__file__).resolve().parents[2]

# From the seed README ("Verify Installation on Japanese Dependency Parsing"); only the model path and
# --max_steps differ (a local tiny model, 2 steps). `python` is the interpreter running the tests.
README_COMMAND = r"""
TREEBANK="UD_Japanese-GSD"
SEED=0
LR=1e-5

python ./scripts/training/run_ud_bigrams.py \
	--model_name_or_path="${MODEL}" \
	--remove_unused_columns=False \
	--data_dir=${DATA_DIR} \
	--do_train --do_eval --do_predict \
	--dropout_prob=0.1 \
	--max_seq_length=256 \
	--max_steps=2 \
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


def run_readme(data_dir: Path, out: Path, fonts: Path) -> subprocess.CompletedProcess:
    bin_dir = out / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    (bin_dir / "python").symlink_to(sys.executable)
    env = dict(
        os.environ,
        PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        MODEL=str(tiny_pretrained_model()),
        DATA_DIR=str(data_dir),
        OUT=str(out),
        FALLBACK_FONTS_DIR=str(fonts),
        HF_HUB_OFFLINE="1",
    )
    return subprocess.run(
        ["bash", "-c", README_COMMAND], cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )


def test_readme_command_runs_and_writes_test_las(tmp_path):
    source = UD / "UD_Japanese-GSD"
    data = tmp_path / "UD_Japanese-GSD"
    data.mkdir()
    shutil.copy(source / "ja_gsd-ud-dev.conllu", data / "ja_gsd-ud-train.conllu")  # train = dev
    for split in ("dev", "test"):
        (data / f"ja_gsd-ud-{split}.conllu").symlink_to(source / f"ja_gsd-ud-{split}.conllu")
    fonts = tmp_path / "fallback_fonts_dir"
    fonts.mkdir()
    done = run_readme(data, tmp_path, fonts)
    assert done.returncode == 0, done.stderr[-3000:]
    out = tmp_path / "udp" / "UD_Japanese-GSD" / "1e-5--0"
    results = json.loads((out / "all_results.json").read_text())
    assert 0.0 <= results["test_las"] <= results["test_uas"] <= 100.0
    assert "eval_las" in results and "test_loss" in results
    assert (out / "test_predictions.conllu").is_file() and (out / "eval_predictions.conllu").is_file()
    assert "--evaluation_strategy is --eval_strategy" in done.stderr + done.stdout


def test_readme_command_on_a_treebank_without_train_names_the_file(tmp_path):
    done = run_readme(UD / "UD_Japanese-GSD", tmp_path, tmp_path)
    assert done.returncode != 0
    assert "-ud-train.conllu" in done.stderr and "UD_Japanese-GSD" in done.stderr
    assert "Traceback" not in done.stderr


def test_script_rejects_an_unknown_flag(tmp_path):
    done = subprocess.run(
        [sys.executable, "scripts/training/run_ner_bigrams.py", "--model_name_or_path", "m", "--learning_rte", "1"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 2 and "--learning_rte" in done.stderr
