"""The tiny PIXEL-M4-shaped MAE the tests build (importable from every test folder, like `data_location`)."""

from __future__ import annotations

from typing import Any

# 32 wide, 2 + 1 layers: seconds per run on two CPU cores. mask_ratio 0.25 as the pretraining presets (the
# config's published default 0.0 masks nothing, and the loss over no patch is 0 / 0).
TINY_MAE = dict(
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=64,
    decoder_hidden_size=32,
    decoder_num_hidden_layers=1,
    decoder_num_attention_heads=2,
    decoder_intermediate_size=64,
    mask_ratio=0.25,
)


def tiny_mae_config(**overrides: Any):
    """A `PIXELConfig` with the `TINY_MAE` fields, updated by `overrides`."""
    from pixel.model import PIXELConfig

    return PIXELConfig(**(TINY_MAE | overrides))
