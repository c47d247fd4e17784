"""Engines: the code that lays out and draws text, one module per kind of strategy (``Strategy.engine``).

``make_engine`` is the one place where a strategy picks code; everything else reads the facts of its
``Strategy`` record or talks to the ``Engine`` interface.
"""

from __future__ import annotations

from pixel.render.config import RendererConfig
from pixel.render.engines.base import Engine
from pixel.render.engines.bigrams import BigramsEngine
from pixel.render.engines.blocks import BlockEngine
from pixel.render.engines.continuous import ContinuousEngine

__all__ = ["Engine", "make_engine"]


def make_engine(config: RendererConfig) -> Engine:
    """The engine of ``config``'s strategy; with ``use_cache=False`` every patch-aligned strategy takes the
    reference path of the ``blocks`` engine (each run laid out and drawn by Pango, as published)."""
    kind = config.strategy.engine
    if kind == "sentences":
        return ContinuousEngine(config)
    if kind == "code_points" and config.use_cache:
        return BigramsEngine(config)
    return BlockEngine(config)
