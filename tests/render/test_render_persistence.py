"""text_renderer_config.json: round trip, released-config compatibility, font fingerprints, path safety."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from pixel.render import TEXT_RENDERER_NAME, PangoCairoTextRenderer
from pixel.render.fonts import NOTO_SANS_FILE

# The documented released config (PIXEL / PIXEL-M4 RENDERING.md), with the font stored under its hub-cache name.
HASHED = "a" * 64 + "." + "b" * 64
RELEASED = {
    "background_color": "white",
    "dpi": 120,
    "font_color": "black",
    "font_file": HASHED,
    "font_size": 8,
    "max_seq_length": 529,
    "pad_size": 3,
    "pixels_per_patch": 16,
    "text_renderer_type": "PangoCairoTextRenderer",
    "fonts_list": ["Noto Sans", "Some Other"],
}


def test_round_trip_records_strategy_settings_and_fingerprints(tmp_path, make_renderer):
    original = PangoCairoTextRenderer(rendering_strategy="grapheme_bigrams", rgb=True, max_seq_length=64)
    original.save_pretrained(tmp_path)
    config = json.loads((tmp_path / TEXT_RENDERER_NAME).read_text())
    assert config["rendering_strategy"] == "grapheme_bigrams" and config["language"] == "c"
    assert config["render_settings"]["hintstyle"] == "hintslight" and len(config["font_sha256"]) == 1
    assert (tmp_path / NOTO_SANS_FILE.name).is_file()
    loaded = PangoCairoTextRenderer.from_pretrained(tmp_path)
    assert (loaded.rendering_strategy, loaded.rgb, loaded.max_seq_length) == ("grapheme_bigrams", True, 64)
    assert loaded.fallback_dirs == original.fallback_dirs
    text = "किताब 中文 قطتي Jé"
    assert np.array_equal(loaded(text).pixel_values, original(text).pixel_values)


def test_released_config_loads_as_bigrams_with_hashed_font_name(tmp_path):
    shutil.copyfile(NOTO_SANS_FILE, tmp_path / HASHED)
    (tmp_path / TEXT_RENDERER_NAME).write_text(json.dumps(RELEASED))
    renderer = PangoCairoTextRenderer.from_pretrained(tmp_path, max_seq_length=32)
    assert renderer.rendering_strategy == "bigrams" and renderer.max_seq_length == 32
    assert renderer("My cat loves oatmeal .").word_starts == [0, 2, 4, 7, 12, 13]


def test_different_font_bytes_warn_loudly(tmp_path):
    renderer = PangoCairoTextRenderer()
    renderer.save_pretrained(tmp_path)
    other = NOTO_SANS_FILE.with_name("NotoSans-Bold.ttf")
    shutil.copyfile(other, tmp_path / Path(renderer.font_file).name)
    with pytest.warns(UserWarning, match="FONT MISMATCH"):
        PangoCairoTextRenderer.from_pretrained(tmp_path)


@pytest.mark.parametrize(
    "name", ["../NotoSans-Regular.ttf", "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf"]
)
def test_font_path_may_not_escape_its_folder(tmp_path, name):
    folder = tmp_path / "renderer"
    folder.mkdir()
    shutil.copyfile(NOTO_SANS_FILE, tmp_path / "NotoSans-Regular.ttf")
    (folder / TEXT_RENDERER_NAME).write_text(json.dumps({**RELEASED, "font_file": name}))
    with pytest.raises(ValueError, match="outside its folder"):
        PangoCairoTextRenderer.from_pretrained(folder)


def test_missing_font_in_config_names_the_path(tmp_path):
    (tmp_path / TEXT_RENDERER_NAME).write_text(json.dumps(RELEASED))
    with pytest.raises(FileNotFoundError, match=HASHED):
        PangoCairoTextRenderer.from_pretrained(tmp_path)


def test_continuous_left_padding_round_trips(tmp_path):
    original = PangoCairoTextRenderer(rendering_strategy="continuous", left_padding=2, max_seq_length=32)
    original.save_pretrained(tmp_path)
    loaded = PangoCairoTextRenderer.from_pretrained(tmp_path)
    assert (loaded.rendering_strategy, loaded.left_padding) == ("continuous", 2)
    assert np.array_equal(loaded("My cat").pixel_values, original("My cat").pixel_values)
