from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from pixel.analysis.embeddings import load_model
from pixel.analysis.tsne import run_tsne, tsne_points


def test_tsne_is_seeded_and_separates_clusters():
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.normal(size=(10, 5)), rng.normal(size=(10, 5)) + 20])
    a, perplexity = tsne_points(points, seed=3)
    b, _ = tsne_points(points, seed=3)
    assert a.shape == (20, 2) and perplexity == pytest.approx(19 / 3)
    np.testing.assert_array_equal(a, b)
    # every point is nearer its own cluster's centre than the other's
    centres = np.stack([a[:10].mean(0), a[10:].mean(0)])
    nearest = np.linalg.norm(a[:, None] - centres[None], axis=-1).argmin(1)
    assert nearest.tolist() == [0] * 10 + [1] * 10


def test_bad_perplexity_is_refused():
    with pytest.raises(ValueError, match="perplexity"):
        tsne_points(np.zeros((5, 3)), seed=0, perplexity=10)


def test_run_tsne_panels(model_dir, processor, sib_dir, tmp_path):
    result = run_tsne(
        load_model(model_dir),
        processor,
        sib_dir,
        ["eng_Latn", "hin_Deva", "ukr_Cyrl"],
        layers=[0, 2],
        num_sentences=5,
        seed=1,
        progress=False,
    )
    assert result.layers == [0, 2]
    assert [p.shape for p in result.points] == [(15, 2), (15, 2)]
    assert result.labels == ["eng_Latn"] * 5 + ["hin_Deva"] * 5 + ["ukr_Cyrl"] * 5
    path = result.plot(tmp_path / "tsne.png")
    image = np.asarray(Image.open(path).convert("RGB")).astype(int)
    assert image.shape[1] > image.shape[0] > 200
    colourful = np.abs(image[..., 0] - image[..., 2]) > 60  # coloured markers, not just black axes
    assert colourful.sum() > 100
