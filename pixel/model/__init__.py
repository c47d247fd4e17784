"""PIXEL models: configuration, MAE pretraining model, encoder, task heads and span masking (torch only)."""

from .backbone import PIXELModel, PIXELModelOutput, PIXELPreTrainedModel
from .configuration import PIXELConfig
from .embeddings import mae_token_masking, pixel_grid_sincos
from .loading import register_auto_classes, resize_model_embeddings
from .masking import SpanMaskingGenerator
from .pretraining import (
    PIXELForPreTraining,
    PIXELForPreTrainingOutput,
    PIXELReconstruction,
    patchify,
    unpatchify,
)

__all__ = [
    "PIXELConfig",
    "PIXELForPreTraining",
    "PIXELForPreTrainingOutput",
    "PIXELModel",
    "PIXELModelOutput",
    "PIXELPreTrainedModel",
    "PIXELReconstruction",
    "SpanMaskingGenerator",
    "mae_token_masking",
    "patchify",
    "pixel_grid_sincos",
    "resize_model_embeddings",
    "unpatchify",
]

# The standard transformers pattern for custom architectures: AutoConfig / AutoModel* resolve "pixel" after import.
register_auto_classes()
