from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pixel.data.cleaning import TextCleaner, clean_text, font_coverage

NOTO = Path("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf")


def test_categories_become_spaces_and_whitespace_collapses():
    text = "a\ue000b \U0010fffd c\u0378d\t\n e  \u00a0f"  # Co, Co (plane 16), Cn, tabs/newlines, NBSP
    assert clean_text(text) == "a b c d e f"


def test_surrogates_are_removed():
    assert clean_text("x\ud800y") == "x y"


def test_coverage_removes_undrawable_but_keeps_joiners():
    coverage = frozenset(map(ord, "abc"))
    assert clean_text("ab\u4e2dc a\u200db", coverage) == "ab c a\u200db"


@given(st.text())
def test_idempotent_and_normalised(text):
    once = clean_text(text)
    assert clean_text(once) == once
    assert once == once.strip() and "  " not in once


@pytest.mark.skipif(not NOTO.exists(), reason="Debian fonts-noto-core is not installed")
def test_font_coverage_from_cmap():
    coverage = font_coverage([NOTO])
    assert ord("a") in coverage and ord("я") in coverage
    assert 0x4E2D not in coverage  # CJK is not in Noto Sans
    assert TextCleaner(coverage)("Hi 中文 there") == "Hi there"
