"""What the analysis plots share (matplotlib, no display needed): one colour per language, and the accuracy-vs-layer
figure of the retrieval and probing analyses, whose y axis is fitted to the scores and their reference lines."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["finish_layer_axes", "language_colour", "layer_figure", "score_limits"]

# Matplotlib's tab10 without its grey (kept for reference lines), then tab20's light shades, then six tab20b
# shades: 24 colours that stay apart.
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf",
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#dbdb8d", "#9edae5",
    "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#6b6ecf",
)  # fmt: skip

# A fixed slot per language of ../shared/data/sib200 (the pretraining languages first, on the strongest colours), so
# that any choice of them gets distinct colours and a language keeps its colour whatever else is in the run.
LANGUAGE_SLOTS = {
    lang: slot
    for slot, lang in enumerate(
        "eng_Latn hin_Deva ukr_Cyrl zho_Hans deu_Latn rus_Cyrl jpn_Jpan kor_Hang arz_Arab "
        "fra_Latn tam_Taml ell_Grek heb_Hebr ben_Beng tur_Latn fin_Latn urd_Arab tel_Telu "
        "hye_Armn est_Latn kir_Cyrl uig_Arab uzn_Latn bod_Tibt".split()
    )
}

# UD treebank language names (UD_<Name>-<corpus>) of the languages above, so that the UPOS probe colours a treebank
# like its language.
UD_LANGUAGES = {
    "English": "eng_Latn", "Hindi": "hin_Deva", "Ukrainian": "ukr_Cyrl", "Chinese": "zho_Hans",
    "German": "deu_Latn", "Russian": "rus_Cyrl", "Japanese": "jpn_Jpan", "Korean": "kor_Hang",
    "Egyptian_Arabic": "arz_Arab", "French": "fra_Latn", "Tamil": "tam_Taml", "Greek": "ell_Grek",
    "Hebrew": "heb_Hebr", "Bengali": "ben_Beng", "Turkish": "tur_Latn", "Finnish": "fin_Latn",
    "Urdu": "urd_Arab", "Telugu": "tel_Telu", "Armenian": "hye_Armn", "Estonian": "est_Latn",
    "Kyrgyz": "kir_Cyrl", "Uyghur": "uig_Arab", "Uzbek": "uzn_Latn", "Tibetan": "bod_Tibt",
}  # fmt: skip

_UD_NAME = re.compile(r"^UD_(.+?)-")


def language_colour(name: str) -> str:
    """The colour of a language (SIB-200 code such as `eng_Latn`, or a UD treebank `UD_English-EWT`) in every plot.

    It depends on `name` alone. The 24 languages of ../shared/data/sib200 have fixed slots, one colour each, and a
    treebank of one of them takes its colour. Other names are placed by a CRC-32 of the name (of the UD language
    for a treebank), which is stable across runs and machines but may repeat a colour.
    """
    ud = _UD_NAME.match(name)
    code = UD_LANGUAGES.get(ud.group(1), f"UD_{ud.group(1)}") if ud else name  # treebanks of a language agree
    slot = LANGUAGE_SLOTS.get(code)
    if slot is None:
        slot = zlib.crc32(code.encode("utf-8"))
    return PALETTE[slot % len(PALETTE)]


def score_limits(
    values: Iterable[float], margin: float = 0.08, min_span: float = 0.05
) -> tuple[float, float]:
    """Y limits showing every value (scores and reference lines) with a margin, within [-0.02, 1.02].

    `min_span` keeps nearly equal scores from being blown up into what looks like a large effect.
    """
    values = [float(v) for v in values]
    low, high = min(values), max(values)
    if high - low < min_span:
        middle = (low + high) / 2
        low, high = middle - min_span / 2, middle + min_span / 2
    pad = margin * (high - low)
    return max(low - pad, -0.02), min(high + pad, 1.02)


def layer_figure() -> tuple[Any, Any]:
    """A figure and its one axes, sized for accuracy vs layer."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8.5, 4.5), dpi=120)  # room for the legend right of the axes
    return figure, figure.add_subplot()


def finish_layer_axes(axes: Any, layers: Sequence[int], ylabel: str, title: str) -> None:
    """Label the layer axis, fit the y axis to every line drawn (scores and reference lines), add grid and legend.

    The legend sits outside the axes: with a fitted y axis the lines fill the box, and a legend inside would hide
    some of them."""
    drawn = [y for line in axes.get_lines() for y in line.get_ydata()]
    axes.set(xlabel="layer (0 = embeddings)", ylabel=ylabel, ylim=score_limits(drawn))
    axes.set_title(title)
    axes.set_xticks(list(layers))
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    axes.figure.tight_layout()
