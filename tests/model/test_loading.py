import json
from pathlib import Path

import pytest
import torch

from pixel.model import (
    PIXELConfig,
    PIXELForPreTraining,
    PIXELForTokenClassification,
    resize_model_embeddings,
)


def test_legacy_bin_with_vit_mae_config_loads(tmp_path, make_config, make_batch):
    torch.manual_seed(0)
    model = PIXELForPreTraining(make_config()).eval()
    torch.save(model.state_dict(), tmp_path / "pytorch_model.bin")
    config = model.config.to_dict()
    config.update(model_type="vit_mae", architectures=["ViTMAEForPreTraining"], transformers_version="4.17.0")
    (tmp_path / "config.json").write_text(json.dumps(config))
    loaded, info = PIXELForPreTraining.from_pretrained(tmp_path, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    assert loaded.config.model_type == "pixel"
    pixel_values, attention_mask = make_batch()
    noise = torch.rand(2, 12)
    torch.testing.assert_close(
        loaded.eval()(pixel_values, attention_mask, noise=noise).loss,
        model(pixel_values, attention_mask, noise=noise).loss,
        rtol=0,
        atol=0,
    )
    assert PIXELConfig.from_pretrained(tmp_path).model_type == "pixel"


class _Touch:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


def test_legacy_bin_is_never_unpickled_unsafely(tmp_path, make_config):
    model = PIXELForPreTraining(make_config())
    state = dict(model.state_dict())
    state["payload"] = _Touch(tmp_path / "executed")
    torch.save(state, tmp_path / "pytorch_model.bin")
    model.config.save_pretrained(tmp_path)
    with pytest.raises(Exception, match="(?i)weights_only|unpickl|unsupported"):
        PIXELForPreTraining.from_pretrained(tmp_path)
    assert not (tmp_path / "executed").exists()


def test_resize_truncates_the_raster_and_round_trips(tmp_path, make_config, make_batch):
    torch.manual_seed(0)
    PIXELForPreTraining(make_config()).save_pretrained(tmp_path / "pre")
    model = PIXELForTokenClassification.from_pretrained(tmp_path / "pre", num_labels=3)
    table = model.vit.embeddings.position_embeddings.detach().clone()  # (1, 17, D)
    resize_model_embeddings(model, 9)
    assert model.config.image_size == [16, 144]
    assert torch.equal(model.vit.embeddings.position_embeddings, table[:, :10])
    assert model.vit.embeddings.position_embeddings.requires_grad
    pixel_values, attention_mask = make_batch(num_patches=9)
    model.eval()
    model.save_pretrained(tmp_path / "ft")
    loaded = PIXELForTokenClassification.from_pretrained(tmp_path / "ft").eval()
    assert loaded.vit.embeddings.position_embeddings.shape == (1, 10, 32)
    torch.testing.assert_close(
        model(pixel_values, attention_mask).logits, loaded(pixel_values, attention_mask).logits
    )
    with pytest.raises(ValueError, match="resize_model_embeddings"):
        loaded(*make_batch(num_patches=10))


def test_resize_interpolates_longer_sequences_and_the_decoder(make_config, make_batch):
    torch.manual_seed(0)
    model = PIXELForPreTraining(make_config()).eval()  # 16 patches: a 4x4 grid
    resize_model_embeddings(model, 24)
    assert model.vit.embeddings.position_embeddings.shape == (1, 25, 32)
    assert model.decoder.decoder_pos_embed.shape == (1, 25, 32)
    assert torch.all(model.vit.embeddings.position_embeddings[0, 0] == 0)
    assert not model.vit.embeddings.position_embeddings.requires_grad
    out = model(*make_batch(num_patches=24))
    assert out.logits.shape == (2, 24, 768) and torch.isfinite(out.loss)
    resize_model_embeddings(model, 5)
    assert model.decoder.decoder_pos_embed.shape == (1, 6, 32) and model.config.image_size == [16, 80]
