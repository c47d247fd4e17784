"""Cross-lingual sentence retrieval per layer on parallel SIB-200 sentences (PIXEL-M4 paper, retrieval analysis).

For a pivot language P and another language X, the embeddings of the n parallel sentences are (optionally) centred
per language and L2-normalised; sentence i of P retrieves the X sentence of highest cosine similarity, and it is a hit
when that is sentence i (P->X); likewise X->P. Accuracy = hits / n, per layer. Chance is 1 / n: a retriever that
picks one of the n candidates at random is right with probability 1 / n.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .embeddings import embed_layers
from .plots import finish_layer_axes, language_colour, layer_figure
from .sib import DataDirs, read_parallel

if TYPE_CHECKING:
    from pixel.data.processor import PIXELProcessor

__all__ = ["RetrievalResult", "chance_accuracy", "layer_accuracies", "run_retrieval", "top1_accuracy"]


def normalise(x: np.ndarray, center: bool) -> np.ndarray:
    """(n, D) -> (n, D): minus the mean over the n sentences if `center`, then unit length."""
    x = x.astype(np.float64)
    if center:
        x = x - x.mean(axis=0, keepdims=True)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def top1_accuracy(queries: np.ndarray, keys: np.ndarray, center: bool = True) -> float:
    """Fraction of rows i of `queries` (n, D) whose cosine nearest neighbour among `keys` (n, D) is row i."""
    if queries.shape != keys.shape:
        raise ValueError(f"queries {queries.shape} and keys {keys.shape} must be parallel (same shape)")
    similarity = normalise(queries, center) @ normalise(keys, center).T  # (n, n)
    return float((similarity.argmax(axis=1) == np.arange(len(queries))).mean())


def chance_accuracy(num_candidates: int) -> float:
    """Expected top-1 accuracy of retrieving one of `num_candidates` candidates uniformly at random."""
    if num_candidates < 1:
        raise ValueError(f"retrieval needs at least one candidate, got {num_candidates}")
    return 1.0 / num_candidates


def layer_accuracies(
    pivot: np.ndarray, other: np.ndarray, center: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """pivot, other: (layers, n, D) -> accuracies pivot->other and other->pivot, each (layers,)."""
    forward = [top1_accuracy(p, o, center) for p, o in zip(pivot, other, strict=True)]
    backward = [top1_accuracy(o, p, center) for p, o in zip(pivot, other, strict=True)]
    return np.array(forward), np.array(backward)


@dataclass
class RetrievalResult:
    """Accuracies per language (not the pivot) over `layers`: `forward` pivot->X, `backward` X->pivot. Each query
    has `num_sentences` candidates, hence `chance`."""

    pivot: str
    layers: list[int]
    num_sentences: int
    center: bool
    forward: dict[str, np.ndarray] = field(default_factory=dict)
    backward: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def chance(self) -> float:
        return chance_accuracy(self.num_sentences)

    def mean_of_directions(self) -> dict[str, np.ndarray]:
        return {lang: (self.forward[lang] + self.backward[lang]) / 2 for lang in self.forward}

    def average(self) -> np.ndarray:
        """Mean over languages of the mean of both directions, per layer."""
        return np.mean(list(self.mean_of_directions().values()), axis=0)

    def tsv(self) -> str:
        """Long table: language, direction (pivot->X, X->pivot, mean), chance, one column per layer."""
        header = ["language", "direction", "chance"] + [f"layer_{k}" for k in self.layers]
        chance = f"{self.chance:.4f}"
        rows = ["\t".join(header)]
        means = self.mean_of_directions()
        for lang in self.forward:
            for direction, values in (
                (f"{self.pivot}->{lang}", self.forward[lang]),
                (f"{lang}->{self.pivot}", self.backward[lang]),
                ("mean", means[lang]),
            ):
                rows.append("\t".join([lang, direction, chance] + [f"{v:.4f}" for v in values]))
        rows.append("\t".join(["mean", "mean", chance] + [f"{v:.4f}" for v in self.average()]))
        return "\n".join(rows) + "\n"

    def markdown(self) -> str:
        """Languages x layers, each cell the mean of both directions, last row the mean over languages; the chance
        column is 1 / n."""
        header = "| language | chance | " + " | ".join(f"L{k}" for k in self.layers) + " |"
        lines = [header, "|---|---:|" + "---:|" * len(self.layers)]
        chance = f"{self.chance:.3f}"
        for lang, values in self.mean_of_directions().items():
            lines.append(f"| {lang} | {chance} | " + " | ".join(f"{v:.3f}" for v in values) + " |")
        mean = " | ".join(f"**{v:.3f}**" for v in self.average())
        lines.append(f"| **mean** | {chance} | {mean} |")
        return "\n".join(lines) + "\n"

    def figure(self, title: str = "") -> Any:
        """Accuracy vs layer: one line per language (mean of both directions, in its `language_colour`), the mean
        over languages in thick black, chance dashed grey; the y axis fits them all."""
        figure, axes = layer_figure()
        for lang, values in self.mean_of_directions().items():
            axes.plot(self.layers, values, marker="o", color=language_colour(lang), label=lang)
        axes.plot(self.layers, self.average(), color="black", linewidth=2.5, label="mean")
        label = f"chance (1/{self.num_sentences} = {self.chance:.3g})"
        axes.axhline(self.chance, color="0.35", linestyle="--", linewidth=1.5, label=label)
        title = title or f"retrieval vs {self.pivot} ({self.num_sentences} sentences)"
        finish_layer_axes(axes, self.layers, "top-1 accuracy", title)
        return figure

    def plot(self, path: Path, title: str = "") -> Path:
        """Write `figure(title)` to `path` (PNG)."""
        self.figure(title).savefig(path)
        return path


def run_retrieval(
    model: Any,
    processor: PIXELProcessor,
    data_dir: DataDirs,
    pivot: str,
    languages: Sequence[str],
    layers: Sequence[int] | None = None,
    split: str = "test",
    center: bool = True,
    limit: int | None = None,
    progress: bool = True,
    **embed_options: Any,
) -> RetrievalResult:
    """Embed the split of the pivot and each language (first `limit` rows if given) and score retrieval per layer.

    `data_dir`: one SIB-200 folder or several (see `locate_languages`); `layers`: indices into the (N + 1)
    embedding layers, default all; `embed_options` go to `embed_layers`.
    """
    others = [lang for lang in dict.fromkeys(languages) if lang != pivot]
    if not others:
        raise ValueError(f"no language to retrieve against besides the pivot {pivot!r}")
    splits = read_parallel(data_dir, [pivot, *others], split)
    texts = {lang: sib.texts[:limit] for lang, sib in splits.items()}
    pivot_emb = embed_layers(
        model, processor, texts[pivot], progress=progress and pivot, **embed_options
    ).embeddings
    chosen = list(range(len(pivot_emb))) if layers is None else list(layers)
    result = RetrievalResult(pivot, chosen, len(texts[pivot]), center)
    for lang in others:
        other_emb = embed_layers(
            model, processor, texts[lang], progress=progress and lang, **embed_options
        ).embeddings
        result.forward[lang], result.backward[lang] = layer_accuracies(
            pivot_emb[chosen], other_emb[chosen], center
        )
    return result
