"""Shared renderer fixtures: one renderer per (strategy, rgb, cache) for the whole session (Pango set-up is slow)."""

from functools import cache
from pathlib import Path

import pytest

from pixel.render import PangoCairoTextRenderer

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


@cache
def renderer(strategy: str = "bigrams", rgb: bool = False, use_cache: bool = True, max_seq_length: int = 529):
    return PangoCairoTextRenderer(
        rendering_strategy=strategy, rgb=rgb, use_cache=use_cache, max_seq_length=max_seq_length
    )


@pytest.fixture(scope="session")
def make_renderer():
    """``make_renderer(strategy="bigrams", rgb=False, use_cache=True, max_seq_length=529)``, memoised."""
    return renderer


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA.is_dir():
        pytest.skip(f"shared data folder {DATA} is absent")
    return DATA
