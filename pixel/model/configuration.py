"""`PIXELConfig`: the published PIXEL / PIXEL-M4 configuration (spec §2.1), JSON-compatible with hub configs.

Every field is checked on construction and after `from_pretrained` keyword overrides: a value of the wrong type or
range raises ValueError naming the field and the value (and, when it comes from a file, that file), instead of an
obscure error deep inside the model.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from transformers import PretrainedConfig
from transformers.utils import CONFIG_NAME

if TYPE_CHECKING:
    from .pooling import PoolingMode

__all__ = ["ConfigFieldError", "PIXELConfig"]


class ConfigFieldError(ValueError):
    """A `PIXELConfig` field whose value has the wrong type or range.

    `from_overrides` is True when the value came from keyword arguments to `from_pretrained`, not from the file.
    """

    from_overrides: bool = False


_POSITIVE_INTS = (
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "patch_size",
    "num_channels",
    "decoder_hidden_size",
    "decoder_num_hidden_layers",
    "decoder_num_attention_heads",
    "decoder_intermediate_size",
    "arc_mlp_size",
    "rel_mlp_size",
)
_FLAGS = ("qkv_bias", "norm_pix_loss", "interpolate_pos_encoding", "add_layer_norm", "biaffine_mlp")
# width field -> heads field: attention splits the width evenly over the heads
_HEAD_SPLITS = (
    ("hidden_size", "num_attention_heads"),
    ("decoder_hidden_size", "decoder_num_attention_heads"),
)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _pooling_mode(value: Any) -> PoolingMode | None:
    from .pooling import PoolingMode

    try:
        return PoolingMode.from_string(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _is_activation(value: Any) -> bool:
    from transformers.activations import ACT2FN

    return isinstance(value, str) and value in ACT2FN


# (fields, test, what a valid value is)
_FIELD_RULES: tuple[tuple[tuple[str, ...], Callable[[Any], bool], str], ...] = (
    (_POSITIVE_INTS, lambda v: _is_int(v) and v > 0, "a positive integer"),
    (_FLAGS, lambda v: isinstance(v, bool), "true or false"),
    (
        ("hidden_dropout_prob", "attention_probs_dropout_prob"),
        lambda v: _is_number(v) and 0 <= v <= 1,
        "in [0, 1]",
    ),
    (("mask_ratio",), lambda v: _is_number(v) and 0 <= v < 1, "in [0, 1)"),
    (("layer_norm_eps",), lambda v: _is_number(v) and v > 0, "a number > 0"),
    (("initializer_range",), lambda v: _is_number(v) and v >= 0, "a number >= 0"),
    (("hidden_act",), _is_activation, "an activation name such as 'gelu'"),
    (("parser_decoding",), lambda v: v in ("argmax", "mst"), "'argmax' or 'mst'"),
    (
        ("pooling_mode",),
        lambda v: _pooling_mode(v) is not None,
        "'cls', 'mean', 'max' or 'pma<k>' (e.g. 'pma8')",
    ),
)


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
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.hidden_act = hidden_act
        self.hidden_dropout_prob = hidden_dropout_prob
        self.attention_probs_dropout_prob = attention_probs_dropout_prob
        self.initializer_range = initializer_range
        self.layer_norm_eps = layer_norm_eps
        if isinstance(image_size, int) and not isinstance(image_size, bool):
            image_size = [image_size, image_size]
        # any other value is kept as given so that check_fields below rejects it with the usual message
        self.image_size: list[int] = (
            list(image_size) if isinstance(image_size, list | tuple) else cast(Any, image_size)
        )
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
        self.check_fields()

    def check_fields(self) -> None:
        """Raise ConfigFieldError naming the first field whose value has the wrong type or range."""
        for names, test, requirement in _FIELD_RULES:
            for name in names:
                if not test(getattr(self, name)):
                    raise ConfigFieldError(f"{name} must be {requirement}, got {getattr(self, name)!r}")
        height_width = self.image_size
        if not (
            isinstance(height_width, list)
            and len(height_width) == 2
            and all(_is_int(side) and side > 0 and side % self.patch_size == 0 for side in height_width)
        ):
            raise ConfigFieldError(
                f"image_size must be [height, width], positive multiples of patch_size={self.patch_size} "
                f"(PIXEL: [16, 8464]), got {height_width!r}"
            )
        for width, heads in _HEAD_SPLITS:
            if getattr(self, width) % getattr(self, heads):
                raise ConfigFieldError(
                    f"{width}={getattr(self, width)} must be a multiple of {heads}={getattr(self, heads)}"
                )
            if getattr(self, width) % 4:  # the 2-D sin-cos position table splits the width in four
                raise ConfigFieldError(f"{width}={getattr(self, width)} must be a multiple of 4")
        pooling_mode = _pooling_mode(self.pooling_mode)
        assert pooling_mode is not None  # rejected by _FIELD_RULES above
        pma_heads = pooling_mode.num_heads
        if pma_heads and self.hidden_size % pma_heads:
            raise ConfigFieldError(
                f"pooling_mode={self.pooling_mode!r} needs hidden_size={self.hidden_size} to be a multiple of "
                f"its {pma_heads} heads"
            )

    @classmethod
    def from_pretrained(
        cls, pretrained_model_name_or_path: str | os.PathLike, *args: Any, **kwargs: Any
    ) -> Any:
        """`PretrainedConfig.from_pretrained`; a bad value or malformed JSON in the file raises ValueError naming it."""
        try:
            return super().from_pretrained(pretrained_model_name_or_path, *args, **kwargs)
        except ConfigFieldError as error:
            if error.from_overrides:
                raise  # the file is fine; the caller's keyword arguments are not
            where = config_location(pretrained_model_name_or_path, kwargs.get("subfolder") or "")
            raise ValueError(f"{where}: {_describe(error)}") from None

    @classmethod
    def from_json_file(cls, json_file: str | os.PathLike) -> PIXELConfig:
        try:
            return super().from_json_file(json_file)
        except (ConfigFieldError, json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ValueError(f"{json_file}: {_describe(error)}") from None

    @classmethod
    def from_dict(cls, config_dict: dict[str, Any], **kwargs: Any) -> Any:
        try:
            loaded = super().from_dict(config_dict, **kwargs)
        except ConfigFieldError as error:
            if not kwargs.get("name_or_path"):
                raise
            # AutoConfig.from_pretrained reads the file itself and passes where it came from
            where = config_location(kwargs["name_or_path"], kwargs.get("subfolder") or "")
            raise ValueError(f"{where}: {_describe(error)}") from None
        # transformers sets keyword overrides (e.g. pooling_mode=) as attributes after construction
        try:
            (loaded[0] if isinstance(loaded, tuple) else loaded).check_fields()
        except ConfigFieldError as error:
            error.from_overrides = True
            raise
        return loaded

    @classmethod
    def get_config_dict(cls, pretrained_model_name_or_path: Any, **kwargs: Any) -> tuple[dict, dict]:
        try:
            config_dict, kwargs = super().get_config_dict(pretrained_model_name_or_path, **kwargs)
        except OSError as error:  # transformers reports malformed JSON as an OSError without the line
            cause = error.__cause__ or error.__context__
            if not isinstance(cause, json.JSONDecodeError | UnicodeDecodeError):
                raise
            where = config_location(pretrained_model_name_or_path, kwargs.get("subfolder") or "")
            raise ValueError(f"{where}: {_describe(cause)}") from None
        return normalize_legacy_config(config_dict), kwargs

    @property
    def num_patches(self) -> int:
        """Patches in the configured image (the positional table has one more row, for CLS)."""
        height, width = self.image_size
        return (height // self.patch_size) * (width // self.patch_size)


def _describe(error: Exception) -> str:
    """What is wrong with a config file, and the fix."""
    if isinstance(error, json.JSONDecodeError):
        return f"not valid JSON: line {error.lineno} column {error.colno}: {error.msg}; fix it in that file"
    if isinstance(error, UnicodeDecodeError):
        return (
            f"not UTF-8 (byte 0x{error.object[error.start]:02x} at offset {error.start}); re-encode it as UTF-8, "
            "e.g. iconv -f latin1 -t utf-8"
        )
    return f"{error}; fix it in that file"


def config_location(name_or_path: str | os.PathLike, subfolder: str = "") -> str:
    """The config file `from_pretrained(name_or_path, subfolder=...)` reads, for error messages."""
    path = Path(name_or_path)
    if path.is_file():
        return str(path)
    file = Path(subfolder, CONFIG_NAME)
    return str(path / file) if path.is_dir() else f"{file} of {name_or_path}"


LEGACY_MODEL_TYPES = ("vit_mae",)


def normalize_legacy_config(config_dict: dict[str, Any]) -> dict[str, Any]:
    """Early pixel-base checkpoints were saved with `model_type: "vit_mae"`; they are PIXEL models."""
    if config_dict.get("model_type") in LEGACY_MODEL_TYPES:
        config_dict = {**config_dict, "model_type": PIXELConfig.model_type}
    return config_dict
