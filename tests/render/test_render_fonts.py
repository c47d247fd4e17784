"""PIXEL's font: GoNotoCurrent installed and verified by sha256, the default of the published strategies."""

import os
import warnings
import zipfile

import numpy as np
import pytest

from pixel.render import PangoCairoTextRenderer
from pixel.render.font_store import WHEEL_MEMBER, FontInstallError, install_go_noto, main
from pixel.render.fonts import (
    DEFAULT_FALLBACK_DIRS,
    GO_NOTO_NAME,
    GO_NOTO_SHA256,
    NOTO_SANS_FILE,
    installed_go_noto,
    sha256_file,
)

TEXTS = ["My cat loves oatmeal, Jé.", "किताब पढ़ो, नमस्ते दुनिया", "Привіт, світе! Її ґанок"]


@pytest.fixture(scope="module")
def go_noto():
    path = installed_go_noto()
    if path is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{GO_NOTO_NAME} is not installed: ./test.sh installs it (`pixel fonts --install`)")
        pytest.skip(f"{GO_NOTO_NAME} is not installed (`pixel fonts --install`)")
    return path


@pytest.mark.parametrize("strategy", ["bigrams", "continuous"])
def test_published_strategies_draw_latin_devanagari_cyrillic_with_go_noto(go_noto, strategy):
    default = PangoCairoTextRenderer(rendering_strategy=strategy)
    assert sha256_file(default.font_file) == GO_NOTO_SHA256
    alone = PangoCairoTextRenderer(font_file=go_noto, rendering_strategy=strategy)  # no fallback fonts at all
    noto = PangoCairoTextRenderer(
        font_file=NOTO_SANS_FILE, fallback_fonts_dir=list(DEFAULT_FALLBACK_DIRS), rendering_strategy=strategy
    )
    for text in TEXTS:
        ours = default(text)
        assert ours.num_missing_glyphs == 0
        assert np.array_equal(ours.pixel_values, alone(text).pixel_values)
    assert not np.array_equal(default(TEXTS[1]).pixel_values, noto(TEXTS[1]).pixel_values)


def test_new_strategies_keep_noto_sans(go_noto):
    assert PangoCairoTextRenderer(rendering_strategy="grapheme_bigrams").font_file == str(NOTO_SANS_FILE)


def test_without_go_noto_noto_sans_and_one_warning(tmp_path, monkeypatch):
    monkeypatch.setenv("PIXEL_FONTS_DIR", str(tmp_path / "empty"))
    with pytest.warns(UserWarning, match="pixel fonts --install") as caught:
        first = PangoCairoTextRenderer()
        PangoCairoTextRenderer(rendering_strategy="continuous")
    assert len([w for w in caught if GO_NOTO_NAME in str(w.message)]) == 1
    assert first.font_file == str(NOTO_SANS_FILE)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        PangoCairoTextRenderer()  # said once per process


def test_install_verifies_and_is_idempotent(go_noto, tmp_path):
    wheel = tmp_path / "pixar_render-0.5.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.write(go_noto, WHEEL_MEMBER)
    target = install_go_noto(wheel, tmp_path / "store")
    assert target.name == GO_NOTO_NAME and sha256_file(target) == GO_NOTO_SHA256
    mtime = target.stat().st_mtime_ns
    assert install_go_noto(NOTO_SANS_FILE, tmp_path / "store") == target  # a verified copy is kept
    assert target.stat().st_mtime_ns == mtime
    hashed = tmp_path / ("a" * 64 + "." + "b" * 64)  # as in a released checkpoint folder
    hashed.write_bytes(go_noto.read_bytes())
    assert sha256_file(install_go_noto(hashed, tmp_path / "other")) == GO_NOTO_SHA256


def test_install_refuses_other_bytes(tmp_path, capsys, monkeypatch):
    with pytest.raises(FontInstallError, match="not the published"):
        install_go_noto(NOTO_SANS_FILE, tmp_path / "store")
    assert not (tmp_path / "store" / GO_NOTO_NAME).exists()
    empty_wheel = tmp_path / "x.whl"
    zipfile.ZipFile(empty_wheel, "w").close()
    with pytest.raises(FontInstallError, match=WHEEL_MEMBER):
        install_go_noto(empty_wheel, tmp_path / "store")
    monkeypatch.setenv("PIXEL_FONTS_DIR", str(tmp_path / "store"))
    assert main(["--install", "--from", str(NOTO_SANS_FILE)]) == 1
    assert "not the published" in capsys.readouterr().err


def test_fonts_command_reports_the_fonts_and_the_fix(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PIXEL_FONTS_DIR", str(tmp_path / "empty"))
    assert main(["--check"]) == 1
    out = capsys.readouterr().out
    assert "NOT installed" in out and "pixel fonts --install" in out
    assert str(NOTO_SANS_FILE) in out and sha256_file(NOTO_SANS_FILE) in out
