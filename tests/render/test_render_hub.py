"""Renderers by hub id from the Hugging Face cache, offline: released configs, hashed font names, snapshot links."""

import json
from pathlib import Path

import numpy as np
import pytest

from pixel.render import TEXT_RENDERER_NAME, PangoCairoTextRenderer
from pixel.render.fonts import DEFAULT_FALLBACK_DIRS, NOTO_SANS_FILE

TEXTS = ["My cat loves oatmeal .", "किताब पढ़ो", "Привіт, світе", "我喜欢吃燕麦片。", ["two", "words"]]


@pytest.mark.parametrize("subfolder", ["", "last-checkpoint"])
def test_released_renderer_loads_by_hub_id_and_renders_as_its_font(pixel_m4_hub, subfolder):
    cache, _ = pixel_m4_hub
    loaded = PangoCairoTextRenderer.from_pretrained(
        "Team-PIXEL/pixel-m4", cache_dir=cache, subfolder=subfolder
    )
    font = Path(loaded.font_file)
    assert font.is_symlink() and "snapshots" in font.parts  # the snapshot's link, not its blob
    assert len(font.name) == 129 and font.suffix != ".ttf"  # the hub-cache name, kept as saved
    assert (loaded.rendering_strategy, loaded.rgb, loaded.max_seq_length) == ("bigrams", True, 529)
    assert loaded.fallback_dirs == DEFAULT_FALLBACK_DIRS  # released configs record none
    same_font = PangoCairoTextRenderer(
        font_file=font.resolve(), fallback_fonts_dir=list(DEFAULT_FALLBACK_DIRS), rgb=True
    )
    for text in TEXTS:
        a, b = loaded(text), same_font(text)
        assert np.array_equal(a.pixel_values, b.pixel_values) and a.word_starts == b.word_starts


def test_revision_and_overrides(hub_cache, released_files, pixel_m4_hub):
    cache, model = pixel_m4_hub
    files = released_files(model, NOTO_SANS_FILE)
    config = json.loads(files[TEXT_RENDERER_NAME]) | {
        "max_seq_length": 64,
        "rendering_strategy": "continuous",
    }
    snapshot = cache.add(
        "Team-PIXEL/pixel-m4", files | {TEXT_RENDERER_NAME: json.dumps(config).encode()}, branch="v2"
    )
    for revision in ("v2", snapshot.name):
        renderer = PangoCairoTextRenderer.from_pretrained(
            "Team-PIXEL/pixel-m4", cache_dir=cache, revision=revision
        )
        assert (renderer.rendering_strategy, renderer.max_seq_length) == ("continuous", 64)
    main = PangoCairoTextRenderer.from_pretrained(
        "Team-PIXEL/pixel-m4", cache_dir=cache, rendering_strategy="words", max_seq_length=32
    )
    assert (main.rendering_strategy, main.max_seq_length) == ("words", 32)


def test_saving_a_hub_renderer_keeps_the_font_name(tmp_path, pixel_m4_hub):
    cache, _ = pixel_m4_hub
    loaded = PangoCairoTextRenderer.from_pretrained("Team-PIXEL/pixel-m4", cache_dir=cache)
    loaded.save_pretrained(tmp_path / "saved")
    name = Path(loaded.font_file).name
    assert json.loads((tmp_path / "saved" / TEXT_RENDERER_NAME).read_text())["font_file"] == name
    assert (tmp_path / "saved" / name).read_bytes() == Path(loaded.font_file).read_bytes()
    again = PangoCairoTextRenderer.from_pretrained(tmp_path / "saved")
    assert np.array_equal(again(TEXTS[0]).pixel_values, loaded(TEXTS[0]).pixel_values)


def test_a_snapshot_link_out_of_the_repo_is_refused(hub_cache, released_files, pixel_m4_hub, tmp_path):
    cache, model = pixel_m4_hub
    files = released_files(model, NOTO_SANS_FILE)
    snapshot = cache.add("Team-PIXEL/evil", files, branch="main")
    font = snapshot / json.loads(files[TEXT_RENDERER_NAME])["font_file"]
    outside = tmp_path / "outside.ttf"
    outside.write_bytes(NOTO_SANS_FILE.read_bytes())
    font.unlink()
    font.symlink_to(outside)  # a link that leaves the repository's blobs/
    with pytest.raises(ValueError, match="outside its folder"):
        PangoCairoTextRenderer.from_pretrained(snapshot)


def test_a_repo_missing_from_the_offline_cache_is_named(hub_cache):
    with pytest.raises(FileNotFoundError, match="Team-PIXEL/not-there"):
        PangoCairoTextRenderer.from_pretrained("Team-PIXEL/not-there", cache_dir=hub_cache)
