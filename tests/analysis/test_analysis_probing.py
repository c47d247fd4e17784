from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from pixel.analysis.embeddings import load_model
from pixel.analysis.probing import majority_baseline, probe_accuracy, run_probe


def test_majority_baseline_by_hand():
    assert majority_baseline(["a", "a", "b"], ["a", "b", "b", "b"]) == 0.25


def test_probe_finds_a_linear_signal_and_not_noise():
    rng = np.random.default_rng(0)
    labels = np.array(["x", "y"] * 50)
    features = rng.normal(size=(100, 6))
    informative = features + 3 * (labels == "y")[:, None]
    assert probe_accuracy(informative[:60], labels[:60], informative[60:], labels[60:]) == 1.0
    noise_only = probe_accuracy(features[:60], labels[:60], features[60:], labels[60:])
    assert noise_only < 0.8


def test_run_probe_reports_layers_and_baseline(model_dir, processor, sib_dir, tmp_path):
    result = run_probe(
        load_model(model_dir), processor, sib_dir, ["eng_Latn", "ukr_Cyrl"], layers=[0, 1, 2], progress=False
    )
    assert list(result.accuracy) == ["eng_Latn", "ukr_Cyrl"]
    assert result.sizes["eng_Latn"] == (12, 8)
    assert result.baseline["eng_Latn"] == pytest.approx(0.5)  # 6/6 in train: first label wins, 4 of 8 in test
    for values in result.accuracy.values():
        assert values.shape == (3,) and np.all((values >= 0) & (values <= 1))
    lines = result.tsv().splitlines()
    assert lines[0].split("\t") == ["language", "train", "test", "majority", "layer_0", "layer_1", "layer_2"]
    assert lines[1].split("\t")[:4] == ["eng_Latn", "12", "8", "0.5000"]
    assert "| majority |" in result.markdown()
    image = np.asarray(Image.open(result.plot(tmp_path / "probe.png")).convert("L"))
    assert image.std() > 5
