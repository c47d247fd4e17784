"""The released PIXEL-M4 layout (../shared/spec/pixel-m4-state-dict-keys.json) loads with no key conversion.

State dicts and models are built on the meta device: full-size shapes, no memory.
"""

import json
import re
from pathlib import Path

import pytest
import torch

from pixel.model import (
    PIXELConfig,
    PIXELForBiaffineParsing,
    PIXELForPreTraining,
    PIXELForSequenceClassification,
    PIXELForTokenClassification,
)

SPEC = Path(__file__).resolve().parents[2] / ".." / "shared" / "spec" / "pixel-m4-state-dict-keys.json"
pytestmark = pytest.mark.skipif(not SPEC.exists(), reason=f"spec file {SPEC} is absent")

# Parameters the published heads create but never use; we do not build them and ignore them on load.
PUBLISHED_UNUSED = {
    "PIXELForBiaffineParsing(num_labels=38)": {"classifier.weight", "classifier.bias"},
    "PIXELForSequenceClassification(cls, num_labels=7) [extra]": {
        "pooler.linear.weight",
        "pooler.linear.bias",
        "pooler.ln.weight",
        "pooler.ln.bias",
    },
}

HEADS = {
    "PIXELForSequenceClassification(mean, add_layer_norm=True, num_labels=7)": (
        PIXELForSequenceClassification,
        {"pooling_mode": "mean", "add_layer_norm": True},
    ),
    "PIXELForTokenClassification(num_labels=9)": (PIXELForTokenClassification, {}),
    "PIXELForBiaffineParsing(num_labels=38)": (PIXELForBiaffineParsing, {}),
    "PIXELForSequenceClassification(cls, num_labels=7) [extra]": (
        PIXELForSequenceClassification,
        {"pooling_mode": "cls"},
    ),
}


@pytest.fixture(scope="module")
def spec() -> dict:
    return json.loads(SPEC.read_text())


def meta_state_dict(keys: dict) -> dict[str, torch.Tensor]:
    return {name: torch.empty(entry["shape"], device="meta") for name, entry in keys.items()}


def load_report(model: torch.nn.Module, state_dict: dict) -> tuple[set[str], set[str], list[str]]:
    """missing, unexpected (after the model's ignore patterns), shape mismatches."""
    own = model.state_dict()
    mismatched = [k for k, v in state_dict.items() if k in own and tuple(own[k].shape) != tuple(v.shape)]
    result = model.load_state_dict(state_dict, strict=False, assign=True)
    patterns = model._keys_to_ignore_on_load_unexpected or []
    unexpected = {k for k in result.unexpected_keys if not any(re.search(p, k) for p in patterns)}
    return set(result.missing_keys), unexpected, mismatched


def test_pretraining_model_has_exactly_the_released_keys(spec):
    config = PIXELConfig(
        **{k: v for k, v in spec["config"].items() if k not in ("architectures", "transformers_version")}
    )
    with torch.device("meta"):
        model = PIXELForPreTraining(config)
    released = spec["PIXELForPreTraining"]
    missing, unexpected, mismatched = load_report(model, meta_state_dict(released["keys"]))
    assert not missing and not unexpected and not mismatched
    state_dict = model.state_dict()
    assert len(state_dict) == released["num_state_dict_keys"] == 334
    assert sum(p.numel() for p in model.parameters()) == released["total_parameters"]
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == released["trainable_parameters"]
    for name, entry in released["keys"].items():
        assert model.get_parameter(name).requires_grad == entry["requires_grad"], name


@pytest.mark.parametrize("name", list(HEADS))
def test_heads_load_the_released_finetuned_layout(spec, name):
    cls, fields = HEADS[name]
    entry = spec[name]
    base = {k: v for k, v in spec["config"].items() if k not in ("architectures", "transformers_version")}
    config = PIXELConfig(**{**base, **entry["config_after_resize"], **fields})
    with torch.device("meta"):
        model = cls(config)
    missing, unexpected, mismatched = load_report(model, meta_state_dict(entry["keys"]))
    assert not missing and not unexpected and not mismatched
    raw_unexpected = set(entry["keys"]) - set(model.state_dict())
    assert raw_unexpected == PUBLISHED_UNUSED.get(name, set())
    unused = sum(torch.Size(entry["keys"][k]["shape"]).numel() for k in raw_unexpected)
    assert sum(p.numel() for p in model.parameters()) == entry["total_parameters"] - unused


@pytest.mark.parametrize("name", list(HEADS))
def test_heads_load_the_released_pretraining_checkpoint(spec, name):
    cls, fields = HEADS[name]
    entry = spec[name]
    base = {k: v for k, v in spec["config"].items() if k not in ("architectures", "transformers_version")}
    with torch.device("meta"):
        model = cls(
            PIXELConfig(**{**base, "num_labels": entry["config_after_resize"]["num_labels"], **fields})
        )
    missing, unexpected, mismatched = load_report(model, meta_state_dict(spec["PIXELForPreTraining"]["keys"]))
    published_new = set(entry["keys_newly_initialised_when_loading_pretraining_ckpt"])
    assert missing == published_new - PUBLISHED_UNUSED.get(name, set())
    assert not unexpected and not mismatched  # the 136 decoder keys are ignored
    ignored = set(spec["PIXELForPreTraining"]["keys"]) - set(model.state_dict())
    assert len(ignored) == entry["pretraining_keys_ignored_when_loading"]["count"] == 136
    assert all(k.startswith("decoder.") for k in ignored)
