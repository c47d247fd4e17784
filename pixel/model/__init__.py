"""PIXEL models: configuration, MAE pretraining model, encoder, task heads and span masking (torch only)."""

from .backbone import PIXELModel, PIXELModelOutput, PIXELPreTrainedModel
from .biaffine import Biaffine, chu_liu_edmonds, mst_decode, pool_words
from .configuration import PIXELConfig
from .embeddings import mae_token_masking, pixel_grid_sincos
from .heads import PIXELForQuestionAnswering, PIXELForSequenceClassification, PIXELForTokenClassification
from .loading import register_auto_classes, resize_model_embeddings
from .masking import SpanMaskingGenerator
from .parsing import DependencyParsingModelOutput, PIXELForBiaffineParsing
from .pooling import PoolingMode
from .pretraining import (
    PIXELForPreTraining,
    PIXELForPreTrainingOutput,
    PIXELReconstruction,
    patchify,
    unpatchify,
)

__all__ = [
    "Biaffine",
    "DependencyParsingModelOutput",
    "PIXELForBiaffineParsing",
    "PIXELForQuestionAnswering",
    "PIXELForSequenceClassification",
    "PIXELForTokenClassification",
    "PoolingMode",
    "chu_liu_edmonds",
    "mst_decode",
    "pool_words",
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
