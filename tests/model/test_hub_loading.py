"""Released checkpoints by hub id from the Hugging Face cache, offline (the layout `hf_hub_download` writes)."""

import pytest
import torch

from pixel.model import PIXELForPreTraining, PIXELForTokenClassification
from pixel.render.fonts import NOTO_SANS_FILE


def assert_same_weights(a: torch.nn.Module, b: torch.nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        torch.testing.assert_close(sa[key], sb[key], rtol=0, atol=0, msg=key)


@pytest.mark.parametrize("subfolder", ["", "last-checkpoint"])
def test_pretraining_checkpoint_loads_by_hub_id(pixel_m4_hub, subfolder):
    cache, model = pixel_m4_hub
    loaded, info = PIXELForPreTraining.from_pretrained(
        "Team-PIXEL/pixel-m4", cache_dir=cache, subfolder=subfolder, output_loading_info=True
    )
    assert not info["missing_keys"] and not info["unexpected_keys"]
    assert_same_weights(loaded, model)


def test_head_from_hub_id_reuses_the_encoder(pixel_m4_hub):
    cache, model = pixel_m4_hub
    head = PIXELForTokenClassification.from_pretrained("Team-PIXEL/pixel-m4", cache_dir=cache, num_labels=3)
    assert_same_weights(head.vit.encoder, model.vit.encoder)


def test_revision_selects_the_snapshot(pixel_m4_hub, released_files):
    cache, model = pixel_m4_hub
    torch.manual_seed(1)
    newer = PIXELForPreTraining(model.config).eval()
    snapshot = cache.add("Team-PIXEL/pixel-m4", released_files(newer, NOTO_SANS_FILE), branch="v2")
    for revision in ("v2", snapshot.name):
        assert_same_weights(
            PIXELForPreTraining.from_pretrained("Team-PIXEL/pixel-m4", cache_dir=cache, revision=revision),
            newer,
        )
    assert_same_weights(PIXELForPreTraining.from_pretrained("Team-PIXEL/pixel-m4", cache_dir=cache), model)
