"""A preset whose ``data.data_dir`` is not a path is a usage error naming the key, not a TypeError traceback."""

from pathlib import Path

import pytest

from pixel.cli import UsageError
from pixel.train.pretrain_preset import read_preset


@pytest.mark.parametrize(("value", "got"), [("", "null"), (" 5", "an integer 5")])
def test_data_dir_that_is_not_a_path_is_named(value, got, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("PIXEL_DATA_DIR", raising=False)
    path = tmp_path / "preset.yaml"
    path.write_text(f"data:\n  data_dir:{value}\n")
    with pytest.raises(UsageError, match=f"data.data_dir: expected a string, got {got}"):
        read_preset(path)
