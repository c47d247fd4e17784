"""Classification reads one text column or two (a pair): more is refused where the file is read, naming them,
rather than failing later in the renderer (which takes a str or a (str, str) pair)."""

from pathlib import Path

import pytest

from pixel.tasks.classification import read_examples


def test_three_text_columns_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "train.tsv"
    path.write_text("a\tb\tc\tlabel\nx\ty\tz\t1\n")
    assert read_examples(path, ("a", "b"))[0].text == ("x", "y")
    with pytest.raises(ValueError, match=r"one text column or two \(a pair\), got 3"):
        read_examples(path, ("a", "b", "c"))
