"""Shared renderer fixtures: one renderer per (strategy, rgb, cache) for the whole session (Pango set-up is slow)."""

from functools import cache
from pathlib import Path

import pytest

from pixel.render import PangoCairoTextRenderer
from pixel.render.fonts import DEFAULT_FALLBACK_DIRS, NOTO_SANS_FILE


@cache
def renderer(strategy: str = "bigrams", rgb: bool = False, use_cache: bool = True, max_seq_length: int = 529):
    return PangoCairoTextRenderer(
        rendering_strategy=strategy, rgb=rgb, use_cache=use_cache, max_seq_length=max_seq_length
    )


@pytest.fixture(scope="session")
def noto_renderer():
    """``noto_renderer(**kwargs)``: the Debian Noto set (Noto Sans, every Noto font as fallback) whether or not
    GoNotoCurrent is installed, for tests whose premise is a property of those fonts."""

    def make(**kwargs) -> PangoCairoTextRenderer:
        dirs = list(DEFAULT_FALLBACK_DIRS)
        return PangoCairoTextRenderer(font_file=NOTO_SANS_FILE, fallback_fonts_dir=dirs, **kwargs)

    return make


@pytest.fixture(scope="session")
def make_renderer():
    """``make_renderer(strategy="bigrams", rgb=False, use_cache=True, max_seq_length=529)``, memoised."""
    return renderer


@pytest.fixture(scope="session")
def data_dir() -> Path:
    from data_location import DATA, need_data

    return need_data(DATA)
