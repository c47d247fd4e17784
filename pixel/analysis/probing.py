"""Probing layer representations: a logistic-regression probe per layer predicting the SIB-200 topic (`category`)
of a sentence from its frozen embedding, trained on one split and scored on another, against the majority baseline.
The word-level UPOS probe (`word_probing.py`) shares the probe and the result table.

The probe is linear on standardised features (sklearn `StandardScaler` + `LogisticRegression`, seeded), so what it
finds is linearly present in the layer; a probe above the majority baseline says the layer encodes topic cues.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .embeddings import embed_layers
from .plots import finish_layer_axes, language_colour, layer_figure
from .sib import DataDirs, read_split

if TYPE_CHECKING:
    from pixel.data.processor import PIXELProcessor

__all__ = ["ProbeResult", "majority_baseline", "probe_accuracy", "run_probe"]


def majority_baseline(train_labels: Sequence[str], test_labels: Sequence[str]) -> float:
    """Accuracy on `test_labels` of always answering the most frequent training label."""
    majority = Counter(train_labels).most_common(1)[0][0]
    return float(np.mean([label == majority for label in test_labels]))


def probe_accuracy(
    train_x: np.ndarray,
    train_y: Sequence[str],
    test_x: np.ndarray,
    test_y: Sequence[str],
    seed: int = 0,
    regularisation: float = 1.0,
) -> float:
    """Test accuracy of a standardised logistic-regression probe fit on (train_x (n, D), train_y)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    probe = make_pipeline(
        StandardScaler(), LogisticRegression(C=regularisation, max_iter=2000, random_state=seed)
    )
    probe.fit(train_x, list(train_y))
    return float(probe.score(test_x, list(test_y)))


@dataclass
class ProbeResult:
    """accuracy[name]: (layers,) test accuracy of the probe; baseline[name]: majority-label accuracy; sizes[name]:
    (train, test) examples. Names are languages (topic probe) or treebanks (UPOS probe)."""

    layers: list[int]
    train_split: str
    test_split: str
    seed: int
    task: str = "SIB-200 topic"
    key: str = "language"  # what the rows are: languages (topic) or treebanks (UPOS)
    accuracy: dict[str, np.ndarray] = field(default_factory=dict)
    baseline: dict[str, float] = field(default_factory=dict)
    sizes: dict[str, tuple[int, int]] = field(default_factory=dict)

    def tsv(self) -> str:
        header = [self.key, "train", "test", "majority"] + [f"layer_{k}" for k in self.layers]
        rows = ["\t".join(header)]
        for lang, values in self.accuracy.items():
            n_train, n_test = self.sizes[lang]
            cells = [lang, str(n_train), str(n_test), f"{self.baseline[lang]:.4f}"]
            rows.append("\t".join(cells + [f"{v:.4f}" for v in values]))
        return "\n".join(rows) + "\n"

    def markdown(self) -> str:
        header = f"| {self.key} | majority | " + " | ".join(f"L{k}" for k in self.layers) + " |"
        lines = [header, "|---|---:|" + "---:|" * len(self.layers)]
        for lang, values in self.accuracy.items():
            cells = " | ".join(f"{v:.3f}" for v in values)
            lines.append(f"| {lang} | {self.baseline[lang]:.3f} | {cells} |")
        return "\n".join(lines) + "\n"

    def figure(self) -> Any:
        """Probe accuracy vs layer per row in its `language_colour`, each row's majority baseline dotted in the same
        colour (one legend entry for them all); the y axis fits scores and baselines."""
        figure, axes = layer_figure()
        for lang, values in self.accuracy.items():
            colour = language_colour(lang)
            axes.plot(self.layers, values, marker="o", color=colour, label=lang)
            axes.axhline(self.baseline[lang], color=colour, linestyle=":", linewidth=1.5)
        axes.plot([], [], color="0.35", linestyle=":", linewidth=1.5, label="majority baseline")
        title = f"{self.task} probe ({self.train_split} -> {self.test_split})"
        finish_layer_axes(axes, self.layers, f"{self.task} probe accuracy", title)
        return figure

    def plot(self, path: Path) -> Path:
        """Write `figure()` to `path` (PNG)."""
        self.figure().savefig(path)
        return path


def run_probe(
    model: Any,
    processor: PIXELProcessor,
    data_dir: DataDirs,
    languages: Sequence[str],
    layers: Sequence[int] | None = None,
    train_split: str = "train",
    test_split: str = "test",
    seed: int = 0,
    regularisation: float = 1.0,
    progress: bool = True,
    **embed_options: Any,
) -> ProbeResult:
    """Per language: embed both splits, fit a probe per chosen layer (default all) on one, score it on the other."""
    result: ProbeResult | None = None
    for lang in dict.fromkeys(languages):
        train, test = read_split(data_dir, lang, train_split), read_split(data_dir, lang, test_split)
        train_emb = embed_layers(
            model, processor, train.texts, progress=progress and f"{lang} {train_split}", **embed_options
        )
        test_emb = embed_layers(
            model, processor, test.texts, progress=progress and f"{lang} {test_split}", **embed_options
        )
        if result is None:
            chosen = list(range(len(train_emb.embeddings))) if layers is None else list(layers)
            result = ProbeResult(chosen, train_split, test_split, seed)
        result.accuracy[lang] = np.array(
            [
                probe_accuracy(
                    train_emb.embeddings[k],
                    train.categories,
                    test_emb.embeddings[k],
                    test.categories,
                    seed,
                    regularisation,
                )
                for k in result.layers
            ]
        )
        result.baseline[lang] = majority_baseline(train.categories, test.categories)
        result.sizes[lang] = (len(train.texts), len(test.texts))
    if result is None:
        raise ValueError("no language to probe")
    return result
