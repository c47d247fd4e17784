"""`run_tsne(layers=[])` is refused up front (it used to embed every sentence, then fail on `float(None)`)."""

from pathlib import Path

import pytest

from pixel.analysis.tsne import run_tsne


def test_no_layer_is_refused_before_any_work() -> None:
    with pytest.raises(ValueError, match="layers is empty"):
        run_tsne(None, None, Path("does-not-exist"), ["eng_Latn"], layers=[])
