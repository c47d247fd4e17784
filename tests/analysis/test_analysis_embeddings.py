from __future__ import annotations

import numpy as np
import pytest
import torch

from pixel.analysis.embeddings import (
    check_model_source,
    embed_layers,
    load_model,
    load_processor,
)

TEXTS = ["A short one.", "A much longer sentence that needs many more patches to render.", "Мій кіт."]


def test_every_layer_in_one_pass_matches_embed(model_dir, processor):
    model = load_model(model_dir)
    run = embed_layers(model, processor, TEXTS, batch_size=2, progress=False)
    assert run.embeddings.dtype == np.float32
    assert run.embeddings.shape == (3, len(TEXTS), 32)  # (layers + 1, n, D)
    assert run.truncated == 0
    for i, text in enumerate(TEXTS):  # one text per batch: no padding, the model's own pooling
        inputs = processor([text])
        for layer in range(3):
            expected = model.embed(inputs["pixel_values"], inputs["attention_mask"], layer=layer)[0].numpy()
            np.testing.assert_allclose(run.embeddings[layer, i], expected, rtol=1e-4, atol=1e-5)


def test_batching_does_not_change_embeddings(model_dir, processor):
    model = load_model(model_dir)
    together = embed_layers(model, processor, TEXTS, batch_size=3, progress=False).embeddings
    alone = embed_layers(model, processor, TEXTS, batch_size=1, progress=False).embeddings
    np.testing.assert_allclose(together, alone, rtol=1e-4, atol=1e-5)
    assert not np.allclose(together[0], together[2])  # layers differ


def test_pretraining_model_and_dtype_option(model_dir, processor):
    from pixel.model import PIXELForPreTraining

    full = PIXELForPreTraining.from_pretrained(model_dir)
    encoder_only = load_model(model_dir)
    a = embed_layers(full, processor, TEXTS[:1], progress=False).embeddings
    b = embed_layers(encoder_only, processor, TEXTS[:1], progress=False).embeddings
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    half = embed_layers(load_model(model_dir), processor, TEXTS[:1], dtype=torch.bfloat16, progress=False)
    assert half.embeddings.dtype == np.float32
    np.testing.assert_allclose(half.embeddings, b, atol=0.1)


def test_truncation_is_counted(model_dir):
    model = load_model(model_dir)
    short = load_processor(model_dir, max_seq_length=8)
    assert short.max_seq_length == 8
    run = embed_layers(model, short, [TEXTS[1], TEXTS[0]], progress=False)
    assert run.truncated == 1


def test_load_processor_falls_back_to_the_default_renderer(tmp_path, caplog):
    (tmp_path / "config.json").write_text("{}")  # a model folder saved without its renderer
    processor = load_processor(tmp_path, max_seq_length=16)
    assert "using the default renderer" in caplog.text
    assert processor.max_seq_length == 16 and processor.renderer.rendering_strategy == "bigrams"


def test_model_source_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        check_model_source(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="no config.json"):
        check_model_source(tmp_path)
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(NotADirectoryError):
        check_model_source(tmp_path / "file.txt")
