from __future__ import annotations

import numpy as np
import pytest
import torch

from pixel.analysis.embeddings import load_processor
from pixel.analysis.reconstruct import load_pretraining_model, reconstruct_texts

TEXTS = ["Reconstruct this sentence, please.", "Коротко."]


def test_reconstructions_are_seeded_and_shaped(model_dir):
    model = load_pretraining_model(model_dir)
    processor = load_processor(model_dir)
    first = reconstruct_texts(model, processor, TEXTS, seed=0)
    again = reconstruct_texts(model, processor, TEXTS, seed=0)
    other = reconstruct_texts(model, processor, TEXTS, seed=1)
    batch, _, height, width = first.original.shape
    length = width // 16
    assert (batch, height) == (2, 16) and first.mask.shape == (2, length)
    torch.testing.assert_close(first.composite, again.composite)
    assert not torch.equal(first.mask, other.mask)
    # the model removes L - int(L * 0.75) patches per text, the span masker's ceil(L * 0.25)
    assert first.mask.sum(1).tolist() == [length - int(length * 0.75)] * 2
    # visible patches are copied from the original, removed ones are grey in the masked input
    keep = first.mask[:, None, None, :].repeat_interleave(16, -1) == 0  # (B, 1, 1, 16 L)
    keep = keep.expand_as(first.original)
    torch.testing.assert_close(first.composite[keep], first.original[keep])
    assert torch.all(first.masked_input[~keep] == 0.5)
    assert all(e > 0 for e in first.error)
    picture = first.picture(zoom=2)
    assert picture.dtype == np.uint8 and picture.shape == (2 * (3 * 2 * 16 + 4), 2 * width, 3)


def test_mask_ratio_option(model_dir):
    model = load_pretraining_model(model_dir)
    rec = reconstruct_texts(model, load_processor(model_dir), TEXTS[:1], mask_ratio=0.5)
    length = rec.mask.shape[1]
    assert rec.mask.sum().item() == length - int(length * 0.5)
    assert model.config.mask_ratio == 0.25  # restored
    with pytest.raises(ValueError, match="mask_ratio"):
        reconstruct_texts(model, load_processor(model_dir), TEXTS[:1], mask_ratio=1.5)


def test_encoder_only_checkpoint_is_refused(tmp_path, model_dir):
    from pixel.model import PIXELModel

    PIXELModel.from_pretrained(model_dir).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="no MAE decoder weights"):
        load_pretraining_model(tmp_path)
