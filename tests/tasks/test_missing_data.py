"""Without the real data, tests that need it skip locally but fail under CI (`data_location`, tests/conftest.py).

Each case runs pytest on one data test in a subprocess, with `PIXEL_DATA_DIR` pointing at a folder built here: the
real data is never moved.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from data_location import in_ci

REPO = Path(__file__).resolve().parents[2]
DATA_TEST = "tests/tasks/test_treebank.py::test_tamil_multiword_tokens_are_skipped"  # needs UD_Tamil-TTB


def run_pytest(data_dir: Path, ci: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CI": ci, "PIXEL_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", DATA_TEST]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("1", True), ("", False), ("false", False)])
def test_ci_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch, value: str, expected: bool) -> None:
    monkeypatch.setenv("CI", value)
    assert in_ci() is expected


def test_ci_without_the_data_folder_fails_the_session(tmp_path: Path) -> None:
    run = run_pytest(tmp_path / "absent", "true")
    assert run.returncode == pytest.ExitCode.USAGE_ERROR, run.stdout + run.stderr
    assert f"CI is set and real data not found at {tmp_path / 'absent' / 'ud'}" in run.stderr


def test_ci_with_a_treebank_missing_fails_the_test(tmp_path: Path) -> None:
    (tmp_path / "ud").mkdir(), (tmp_path / "sib200").mkdir()
    run = run_pytest(tmp_path, "true")
    assert run.returncode == pytest.ExitCode.TESTS_FAILED, run.stdout + run.stderr
    assert f"real data not found at {tmp_path / 'ud' / 'UD_Tamil-TTB'}" in run.stdout
    assert "under CI missing data is an error" in run.stdout


def test_without_ci_missing_data_skips(tmp_path: Path) -> None:
    run = run_pytest(tmp_path / "absent", "false")
    assert run.returncode == pytest.ExitCode.OK, run.stdout + run.stderr
    assert "1 skipped" in run.stdout and f"real data not found at {tmp_path / 'absent'}" in run.stdout
