"""`PIXELConfig`: the published PIXEL / PIXEL-M4 configuration (spec §2.1), JSON-compatible with hub configs."""

from __future__ import annotations

from typing import Any

from transformers import PretrainedConfig

__all__ = ["PIXELConfig"]


class PIXELConfig(PretrainedConfig):
    """Configuration of the PIXEL ViT-MAE and its finetuning heads.

    Defaults are the pixel-base / PIXEL-M4 values. `image_size` is `(16, 16 * L)`: a 1-row strip of L patches; the
    positional table has `L + 1` rows. `mask_ratio` defaults to 0.0 as in PIXEL-M4 (its pretraining script sets 0.25).

    Fields beyond the published config (all off / published-equivalent by default):
        pooling_mode: sequence-classification pooling, "mean" | "max" | "cls" | "pma<k>" (published default "mean").
        add_layer_norm: LayerNorm in the sequence-classification pooling head (published default True).
        biaffine_mlp: Dozat-Manning arc/rel MLPs before the biaffine scorers (off = published parser).
        arc_mlp_size, rel_mlp_size: MLP widths when `biaffine_mlp` is on.
        parser_decoding: "argmax" (published) or "mst" (well-formed trees, one root) for `PIXELForBiaffineParsing.decode`.
    """

    model_type = "pixel"

    def __init__(
        self,
        hidden_size: int = 768,
        num_hidden_layers: int = 12,
        num_attention_heads: int = 12,
        intermediate_size: int = 3072,
        hidden_act: str = "gelu",
        hidden_dropout_prob: float = 0.1,
        attention_probs_dropout_prob: float = 0.1,
        initializer_range: float = 0.02,
        layer_norm_eps: float = 1e-12,
        image_size: tuple[int, int] | list[int] | int = (16, 8464),
        patch_size: int = 16,
        num_channels: int = 3,
        qkv_bias: bool = True,
        decoder_num_attention_heads: int = 16,
        decoder_hidden_size: int = 512,
        decoder_num_hidden_layers: int = 8,
        decoder_intermediate_size: int = 2048,
        mask_ratio: float = 0.0,
        norm_pix_loss: bool = True,
        interpolate_pos_encoding: bool = False,
        pooling_mode: str = "mean",
        add_layer_norm: bool = True,
        biaffine_mlp: bool = False,
        arc_mlp_size: int = 500,
        rel_mlp_size: int = 100,
        parser_decoding: str = "argmax",
        **kwargs: Any,
    ) -> None:
        # A published config may say "vit_mae"; the instance must report "pixel" so that transformers applies no
        # ViT-MAE key renaming when loading weights.
        kwargs.pop("model_type", None)
        super().__init__(**kwargs)
        if hidden_size % num_attention_heads:
            raise ValueError(
                f"hidden_size={hidden_size} is not a multiple of num_attention_heads={num_attention_heads}"
            )
        if decoder_hidden_size % decoder_num_attention_heads:
            raise ValueError(
                f"decoder_hidden_size={decoder_hidden_size} is not a multiple of "
                f"decoder_num_attention_heads={decoder_num_attention_heads}"
            )
        if not 0.0 <= mask_ratio < 1.0:
            raise ValueError(f"mask_ratio must be in [0, 1), got {mask_ratio}")
        if parser_decoding not in ("argmax", "mst"):
            raise ValueError(f"parser_decoding must be 'argmax' or 'mst', got {parser_decoding!r}")
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.hidden_act = hidden_act
        self.hidden_dropout_prob = hidden_dropout_prob
        self.attention_probs_dropout_prob = attention_probs_dropout_prob
        self.initializer_range = initializer_range
        self.layer_norm_eps = layer_norm_eps
        self.image_size = list(image_size) if not isinstance(image_size, int) else [image_size, image_size]
        self.patch_size = patch_size
        self.num_channels = num_channels
        self.qkv_bias = qkv_bias
        self.decoder_num_attention_heads = decoder_num_attention_heads
        self.decoder_hidden_size = decoder_hidden_size
        self.decoder_num_hidden_layers = decoder_num_hidden_layers
        self.decoder_intermediate_size = decoder_intermediate_size
        self.mask_ratio = mask_ratio
        self.norm_pix_loss = norm_pix_loss
        self.interpolate_pos_encoding = interpolate_pos_encoding
        self.pooling_mode = pooling_mode
        self.add_layer_norm = add_layer_norm
        self.biaffine_mlp = biaffine_mlp
        self.arc_mlp_size = arc_mlp_size
        self.rel_mlp_size = rel_mlp_size
        self.parser_decoding = parser_decoding

    @classmethod
    def get_config_dict(cls, pretrained_model_name_or_path: Any, **kwargs: Any) -> tuple[dict, dict]:
        config_dict, kwargs = super().get_config_dict(pretrained_model_name_or_path, **kwargs)
        return normalize_legacy_config(config_dict), kwargs

    @property
    def num_patches(self) -> int:
        """Patches in the configured image (the positional table has one more row, for CLS)."""
        height, width = self.image_size
        return (height // self.patch_size) * (width // self.patch_size)


LEGACY_MODEL_TYPES = ("vit_mae",)


def normalize_legacy_config(config_dict: dict[str, Any]) -> dict[str, Any]:
    """Early pixel-base checkpoints were saved with `model_type: "vit_mae"`; they are PIXEL models."""
    if config_dict.get("model_type") in LEGACY_MODEL_TYPES:
        config_dict = {**config_dict, "model_type": PIXELConfig.model_type}
    return config_dict
