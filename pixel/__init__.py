"""Pixel language models: text renderers, PIXEL / PIXEL-M4 models, pretraining and finetuning.

Names are resolved lazily so that ``import pixel`` stays cheap and ``pixel.render`` never imports torch. When
transformers is already imported, ``import pixel`` also registers the Auto classes (``AutoConfig``, ``AutoModel*``,
``AutoProcessor`` resolve ``model_type: "pixel"``): the user is then about to call them, and the cost is paid.
Otherwise ``import pixel.model`` registers them.
"""

import sys
from importlib import import_module

__version__ = "0.1.0"

_EXPORTS = {
    "PangoCairoTextRenderer": "pixel.render",
    "Encoding": "pixel.render",
    "get_attention_mask": "pixel.render",
    "PIXELConfig": "pixel.model",
    "PIXELModel": "pixel.model",
    "PIXELForPreTraining": "pixel.model",
    "PIXELForSequenceClassification": "pixel.model",
    "PIXELForTokenClassification": "pixel.model",
    "PIXELForBiaffineParsing": "pixel.model",
    "PIXELForQuestionAnswering": "pixel.model",
    "SpanMaskingGenerator": "pixel.model",
    "pixel_values_to_tensor": "pixel.data.transforms",
    "PIXELProcessor": "pixel.data.processor",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'pixel' has no attribute {name!r}")


if "transformers" in sys.modules:
    import_module("pixel.model")  # registers the Auto classes
