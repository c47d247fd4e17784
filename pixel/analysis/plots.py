"""Accuracy-per-layer line plots shared by the retrieval and probing analyses (matplotlib, no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


def layer_figure() -> tuple[Any, Any]:
    """A figure and its one axes, sized for accuracy vs layer."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4.5), dpi=120)
    return figure, figure.add_subplot()


def save_layer_plot(
    figure: Any, axes: Any, layers: Sequence[int], ylabel: str, title: str, path: Path
) -> Path:
    """Label the layer axis and the [0, 1] accuracy axis, add grid and legend, write ``path``."""
    axes.set(xlabel="layer (0 = embeddings)", ylabel=ylabel, ylim=(-0.02, 1.02))
    axes.set_title(title)
    axes.set_xticks(list(layers))
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small", ncols=2)
    figure.tight_layout()
    figure.savefig(path)
    return path
