from __future__ import annotations

import pytest
import torch

from pixel.model import PIXELConfig


def make_tiny_config(**overrides) -> PIXELConfig:
    fields = dict(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        decoder_hidden_size=32,
        decoder_num_hidden_layers=1,
        decoder_num_attention_heads=4,
        decoder_intermediate_size=48,
        image_size=(16, 16 * 16),
        mask_ratio=0.25,
    )
    fields.update(overrides)
    return PIXELConfig(**fields)


@pytest.fixture
def tiny_config() -> PIXELConfig:
    return make_tiny_config()


@pytest.fixture(name="make_config")
def make_config_fixture():
    return make_tiny_config


def make_batch(
    batch_size: int = 2, num_patches: int = 12, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random strips with per-example text lengths; attention 1 on text + EOS."""
    gen = torch.Generator().manual_seed(seed)
    pixel_values = torch.rand(batch_size, 3, 16, 16 * num_patches, generator=gen)
    attention_mask = torch.zeros(batch_size, num_patches)
    for i in range(batch_size):
        attention_mask[i, : num_patches - 3 * i] = 1
    return pixel_values, attention_mask


@pytest.fixture(name="make_batch")
def make_batch_fixture():
    return make_batch
