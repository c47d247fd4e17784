"""`PIXELConfig` checks every field where it enters: on construction, in `config.json`, in keyword overrides.

A bad value is one ValueError naming the field, the value and (from a file) the file; released configs still load.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from transformers import AutoConfig

from pixel.model import PIXELConfig, PIXELForPreTraining, PIXELForSequenceClassification
from pixel.model.configuration import config_location

# The released Team-PIXEL/pixel-m4 config.json (spec: pixel-m4-state-dict-keys.json).
PIXEL_M4 = {
    "architectures": ["PIXELForPreTraining"],
    "attention_probs_dropout_prob": 0.1,
    "decoder_hidden_size": 512,
    "decoder_intermediate_size": 2048,
    "decoder_num_attention_heads": 16,
    "decoder_num_hidden_layers": 8,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "hidden_size": 768,
    "image_size": [16, 8464],
    "initializer_range": 0.02,
    "intermediate_size": 3072,
    "layer_norm_eps": 1e-12,
    "mask_ratio": 0.25,
    "model_type": "pixel",
    "norm_pix_loss": True,
    "num_attention_heads": 12,
    "num_channels": 3,
    "num_hidden_layers": 12,
    "patch_size": 16,
    "qkv_bias": True,
    "transformers_version": "4.28.0",
}


def write_config(folder: Path, **changes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps({**PIXEL_M4, **changes}), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("hidden_size", "sixty-four", "hidden_size must be a positive integer, got 'sixty-four'"),
        ("hidden_size", 64.0, "hidden_size must be a positive integer, got 64.0"),
        ("num_hidden_layers", 0, "num_hidden_layers must be a positive integer, got 0"),
        ("patch_size", -16, "patch_size must be a positive integer, got -16"),
        ("num_attention_heads", True, "num_attention_heads must be a positive integer, got True"),
        ("hidden_size", 100, "hidden_size=100 must be a multiple of num_attention_heads=12"),
        (
            "decoder_hidden_size",
            500,
            "decoder_hidden_size=500 must be a multiple of decoder_num_attention_heads=16",
        ),
        ("hidden_dropout_prob", 1.5, "hidden_dropout_prob must be in [0, 1], got 1.5"),
        ("attention_probs_dropout_prob", "0.1", "attention_probs_dropout_prob must be in [0, 1], got '0.1'"),
        ("mask_ratio", 1.0, "mask_ratio must be in [0, 1), got 1.0"),
        ("layer_norm_eps", 0, "layer_norm_eps must be a number > 0, got 0"),
        ("initializer_range", float("nan"), "initializer_range must be a number >= 0, got nan"),
        ("qkv_bias", "yes", "qkv_bias must be true or false, got 'yes'"),
        ("hidden_act", "swishy", "hidden_act must be an activation name such as 'gelu', got 'swishy'"),
        ("image_size", [16, 100], "image_size must be [height, width], positive multiples of patch_size=16"),
        ("image_size", [16], "image_size must be [height, width]"),
        ("image_size", "16x8464", "image_size must be [height, width]"),
        (
            "pooling_mode",
            "median",
            "pooling_mode must be 'cls', 'mean', 'max' or 'pma<k>' (e.g. 'pma8'), got",
        ),
        ("pooling_mode", "pma5", "pooling_mode='pma5' needs hidden_size=768 to be a multiple of its 5 heads"),
        ("parser_decoding", "greedy", "parser_decoding must be 'argmax' or 'mst', got 'greedy'"),
    ],
)
def test_a_bad_field_is_named_with_its_value(tmp_path: Path, field: str, value, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        PIXELConfig(**{field: value})
    if isinstance(value, float) and value != value:
        return  # NaN is not JSON
    folder = write_config(tmp_path / "model", **{field: value})
    where = re.escape(f"{folder / 'config.json'}: {message}")
    for load in (
        PIXELConfig.from_pretrained,
        PIXELForPreTraining.from_pretrained,
        AutoConfig.from_pretrained,
    ):
        with pytest.raises(ValueError, match=where) as error:
            load(folder)
        assert "fix it in that file" in str(error.value) and "\n" not in str(error.value)
    with pytest.raises(ValueError, match=where):
        PIXELConfig.from_json_file(folder / "config.json")


def test_a_bad_keyword_override_is_named_without_blaming_the_file(tmp_path: Path) -> None:
    folder = write_config(tmp_path / "model")
    with pytest.raises(ValueError) as error:
        PIXELForSequenceClassification.from_pretrained(folder, pooling_mode="median")
    assert str(error.value).startswith("pooling_mode must be") and "config.json" not in str(error.value)
    with pytest.raises(ValueError, match="hidden_dropout_prob must be in"):
        PIXELConfig.from_pretrained(folder, hidden_dropout_prob=2)


@pytest.mark.parametrize(
    ("text", "encoding", "message"),
    [
        (
            '{"hidden_size": 768,\n "patch_size": }',
            "utf-8",
            "not valid JSON: line 2 column 16: Expecting value",
        ),
        ('{"hidden_act": "gélu"}', "latin-1", "not UTF-8 (byte 0xe9 at offset 17); re-encode it as UTF-8"),
    ],
)
def test_a_malformed_config_file_is_named(tmp_path: Path, text: str, encoding: str, message: str) -> None:
    (tmp_path / "config.json").write_text(text, encoding=encoding)
    where = re.escape(f"{tmp_path / 'config.json'}: {message}")
    for load in (PIXELConfig.from_pretrained, PIXELForPreTraining.from_pretrained):
        with pytest.raises(ValueError, match=where):
            load(tmp_path)
    with pytest.raises(ValueError, match=where):
        PIXELConfig.from_json_file(tmp_path / "config.json")


def test_released_configs_still_load(tmp_path: Path) -> None:
    m4 = PIXELConfig.from_pretrained(write_config(tmp_path / "m4"))
    assert m4.image_size == [16, 8464] and m4.num_patches == 529 and m4.mask_ratio == 0.25
    legacy = write_config(tmp_path / "legacy", model_type="vit_mae", transformers_version="4.17.0")
    assert PIXELConfig.from_pretrained(legacy).model_type == "pixel"
    # a finetuned published config: labels, pad_token_id=-100 (UD), interpolate_pos_encoding, 196-patch strip
    finetuned = write_config(
        tmp_path / "ner",
        image_size=[16, 3136],
        interpolate_pos_encoding=False,
        pad_token_id=-100,
        id2label={"0": "O", "1": "B-PER"},
        label2id={"O": 0, "B-PER": 1},
        architectures=["PIXELForTokenClassification"],
    )
    config = PIXELConfig.from_pretrained(finetuned)
    assert config.num_labels == 2 and config.num_patches == 196
    assert PIXELConfig(image_size=224).image_size == [224, 224]


def test_config_location_names_the_file_read() -> None:
    assert (
        config_location("Team-PIXEL/pixel-m4", "last-checkpoint")
        == "last-checkpoint/config.json of Team-PIXEL/pixel-m4"
    )
    assert config_location(Path(__file__).parent) == str(Path(__file__).parent / "config.json")
    assert config_location(__file__) == __file__


def test_finetune_prints_a_bad_model_config_as_one_error_line(tmp_path: Path, capsys) -> None:
    from pixel.train.finetune import main

    data = tmp_path / "sib"
    data.mkdir()
    (data / "train.tsv").write_text(
        "index_id\tcategory\ttext\n1\tsports\ta\n2\thealth\tb\n", encoding="utf-8"
    )
    model = write_config(tmp_path / "model", hidden_size="sixty-four")
    argv = [
        "--model_name_or_path",
        str(model),
        "--data_dir",
        str(data),
        "--output_dir",
        str(tmp_path / "out"),
    ]
    assert main(["sib", *argv, "--do_train", "--report_to", "none"]) == 1
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if "error:" in line]  # (log lines may come before it)
    assert errors == [
        f"pixel finetune sib: error: {model / 'config.json'}: hidden_size must be a positive integer, "
        "got 'sixty-four'; fix it in that file"
    ]
    assert "Traceback" not in err
