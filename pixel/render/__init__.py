"""Text -> pixels: Pango/cairo renderers for PIXEL (continuous), PIXEL-M4 (bigrams) and new strategies."""

from pixel.render.config import RendererConfig
from pixel.render.encoding import Encoding, get_attention_mask
from pixel.render.fonts import RenderSettings
from pixel.render.persistence import TEXT_RENDERER_NAME
from pixel.render.renderer import PangoCairoTextRenderer
from pixel.render.strategies import STRATEGIES, Strategy

__all__ = [
    "STRATEGIES",
    "TEXT_RENDERER_NAME",
    "Encoding",
    "PangoCairoTextRenderer",
    "RenderSettings",
    "RendererConfig",
    "Strategy",
    "get_attention_mask",
]
