"""t-SNE of sentence embeddings per layer, coloured by language (PIXEL-M4 paper, t-SNE analysis).

Embeddings are not centred per language here: the picture is meant to show how far languages separate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .embeddings import embed_layers
from .plots import language_colour
from .sib import DataDirs, read_parallel

if TYPE_CHECKING:
    from pixel.data.processor import PIXELProcessor

__all__ = ["TSNEResult", "run_tsne", "tsne_points"]


def tsne_points(
    embeddings: np.ndarray, seed: int, perplexity: float | None = None
) -> tuple[np.ndarray, float]:
    """(n, D) -> (n, 2) t-SNE coordinates and the perplexity used (default min(30, (n - 1) / 3), at least 1)."""
    from sklearn.manifold import TSNE

    n = len(embeddings)
    if n < 3:
        raise ValueError(f"t-SNE needs at least 3 points, got {n}")
    if perplexity is None:
        perplexity = max(1.0, min(30.0, (n - 1) / 3))
    if not 0 < perplexity < n:
        raise ValueError(f"perplexity must be in (0, {n}) for {n} points, got {perplexity}")
    tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed)
    return tsne.fit_transform(embeddings.astype(np.float64)), perplexity


@dataclass
class TSNEResult:
    """points[k]: (n, 2) for layer `layers[k]`; labels: the language of each of the n points."""

    layers: list[int]
    points: list[np.ndarray]
    labels: list[str]
    perplexity: float
    seed: int

    def figure(self, columns: int = 4) -> Any:
        """One scatter panel per layer, each language in its `language_colour`, a shared legend."""
        from matplotlib.figure import Figure

        languages = list(dict.fromkeys(self.labels))
        labels = np.array(self.labels)
        cols = min(columns, len(self.layers))
        rows = -(-len(self.layers) // cols)
        figure = Figure(figsize=(3.6 * cols, 3.4 * rows + 0.9), dpi=110, layout="constrained")
        axes = figure.subplots(rows, cols, squeeze=False)
        for ax, layer, points in zip(axes.flat, self.layers, self.points, strict=False):
            for lang in languages:
                chosen = points[labels == lang]
                ax.scatter(
                    chosen[:, 0], chosen[:, 1], s=8, color=language_colour(lang), label=lang, alpha=0.8
                )
            ax.set_title(f"layer {layer}", fontsize="medium")
            ax.set_xticks([])
            ax.set_yticks([])
        for ax in list(axes.flat)[len(self.layers) :]:
            ax.set_axis_off()
        handles, names = axes.flat[0].get_legend_handles_labels()
        figure.legend(handles, names, loc="outside lower center", ncols=min(len(languages), 8), markerscale=2)
        figure.suptitle(f"t-SNE of sentence embeddings (perplexity {self.perplexity:g}, seed {self.seed})")
        return figure

    def plot(self, path: Path, columns: int = 4) -> Path:
        """Write `figure(columns)` to `path` (PNG)."""
        self.figure(columns).savefig(path)
        return path


def run_tsne(
    model: Any,
    processor: PIXELProcessor,
    data_dir: DataDirs,
    languages: Sequence[str],
    layers: Sequence[int] | None = None,
    split: str = "test",
    num_sentences: int = 100,
    seed: int = 0,
    perplexity: float | None = None,
    progress: bool = True,
    **embed_options: Any,
) -> TSNEResult:
    """Embed the first `num_sentences` rows of the split in each language; t-SNE each chosen layer (default all)."""
    if layers is not None and len(layers) == 0:
        raise ValueError("layers is empty: give at least one layer (None = all)")
    splits = read_parallel(data_dir, languages, split)
    texts, labels = [], []
    for lang, sib in splits.items():
        texts += sib.texts[:num_sentences]
        labels += [lang] * len(sib.texts[:num_sentences])
    embeddings = embed_layers(
        model, processor, texts, progress=progress and "t-SNE inputs", **embed_options
    ).embeddings
    chosen = list(range(len(embeddings))) if layers is None else list(layers)
    points = []
    for layer in chosen:
        coords, used = tsne_points(embeddings[layer], seed, perplexity)  # the same for every layer (same n)
        points.append(coords)
    return TSNEResult(chosen, points, labels, float(used), seed)
