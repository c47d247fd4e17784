"""Where the tests find the real data: `$PIXEL_DATA_DIR`, else `../shared/data` beside the repository (where the
demo, `pixel analyze` and the pretraining preset look too). The data is never copied into the repository.

Without the data, tests that need it skip locally; under CI (`CI` set to a true value) they fail instead, and
`tests/conftest.py` fails the session at start: a CI run must not pass by skipping a fifth of the suite.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("PIXEL_DATA_DIR") or REPO.parent / "shared" / "data")
UD = DATA / "ud"
SIB200 = DATA / "sib200"


def in_ci() -> bool:
    """True when `CI` is set to a true value (GitHub Actions, GitLab and most CI services set CI=true)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no", "off")


def missing_message(path: Path) -> str:
    return f"real data not found at {path} (it lives in ../shared/data beside the repo; PIXEL_DATA_DIR overrides)"


def need_data(path: Path) -> Path:
    """`path` if it exists; otherwise skip the test, or fail it under CI."""
    if not path.exists():
        if in_ci():
            pytest.fail(missing_message(path) + "; under CI missing data is an error", pytrace=False)
        pytest.skip(missing_message(path))
    return path


def data_mark(*paths: Path) -> pytest.MarkDecorator:
    """`skipif` for tests that need all of `paths` (under CI the session has already failed without them)."""
    missing = [path for path in paths if not path.is_dir()]
    return pytest.mark.skipif(bool(missing), reason=missing_message(missing[0]) if missing else "")
