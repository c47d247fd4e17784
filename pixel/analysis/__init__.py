"""The PIXEL-M4 analyses: per-layer sentence embeddings, cross-lingual retrieval, t-SNE, probing, reconstructions.

Heavy dependencies (sklearn, matplotlib) are imported where used; `pixel analyze` (`command.py`) drives them.
"""

from .embeddings import EmbeddingRun, embed_layers, load_model, load_processor
from .plots import language_colour
from .probing import ProbeResult, run_probe
from .reconstruct import Reconstructions, load_pretraining_model, reconstruct_texts
from .retrieval import RetrievalResult, chance_accuracy, run_retrieval, top1_accuracy
from .sib import SibSplit, available_languages, locate_languages, read_parallel, read_split
from .tsne import TSNEResult, run_tsne

__all__ = [
    "EmbeddingRun",
    "ProbeResult",
    "Reconstructions",
    "RetrievalResult",
    "SibSplit",
    "TSNEResult",
    "available_languages",
    "chance_accuracy",
    "embed_layers",
    "language_colour",
    "load_model",
    "load_pretraining_model",
    "load_processor",
    "locate_languages",
    "read_parallel",
    "read_split",
    "reconstruct_texts",
    "run_probe",
    "run_retrieval",
    "run_tsne",
    "top1_accuracy",
]
