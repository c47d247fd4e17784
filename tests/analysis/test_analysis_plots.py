"""One colour per language in every plot; chance and majority lines; y axes fitted to the scores.

The results are built by hand (no model), so these check the plots alone.
"""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.colors import to_hex

from pixel.analysis.plots import LANGUAGE_SLOTS, language_colour, score_limits
from pixel.analysis.probing import ProbeResult
from pixel.analysis.retrieval import RetrievalResult
from pixel.analysis.tsne import TSNEResult


def retrieval(languages: list[str], num_sentences: int = 50) -> RetrievalResult:
    result = RetrievalResult("eng_Latn", [0, 1, 2], num_sentences, center=True)
    for i, lang in enumerate(languages):
        result.forward[lang] = np.array([0.02, 0.05, 0.08]) + 0.01 * i
        result.backward[lang] = np.array([0.03, 0.06, 0.07]) + 0.01 * i
    return result


def tsne(languages: list[str]) -> TSNEResult:
    rng = np.random.default_rng(0)
    labels = [lang for lang in languages for _ in range(4)]
    return TSNEResult([0, 2], [rng.normal(size=(len(labels), 2)) for _ in range(2)], labels, 5.0, 0)


def probe(names: list[str]) -> ProbeResult:
    result = ProbeResult([0, 1], "train", "test", seed=0)
    for i, name in enumerate(names):
        result.accuracy[name] = np.array([0.4, 0.5]) + 0.05 * i
        result.baseline[name] = 0.25 + 0.01 * i
        result.sizes[name] = (10, 8)
    return result


def line_colours(figure) -> dict[str, str]:
    return {line.get_label(): to_hex(line.get_color()) for line in figure.axes[0].get_lines()}


def scatter_colours(figure) -> dict[str, str]:
    return {c.get_label(): to_hex(c.get_facecolor()[0], keep_alpha=False) for c in figure.axes[0].collections}


def test_language_colour_depends_on_the_name_alone():
    known = list(LANGUAGE_SLOTS)
    assert (
        len({language_colour(lang) for lang in known}) == len(known) == 24
    )  # the shared languages never clash
    assert language_colour("eng_Latn") == "#1f77b4"
    assert language_colour("UD_English-EWT") == language_colour("eng_Latn")
    assert language_colour("UD_Ukrainian-IU") == language_colour("ukr_Cyrl")
    # other names: a CRC-32 slot, the same in every process (no salted hash())
    assert language_colour("xyz_Latn") == "#c49c94"
    assert language_colour("UD_Vietnamese-VTB") == language_colour("UD_Vietnamese-Other")


def test_a_language_has_one_colour_in_every_plot_and_run():
    runs = [
        line_colours(retrieval(["hin_Deva", "ukr_Cyrl"]).figure()),
        line_colours(retrieval(["ukr_Cyrl", "zho_Hans", "deu_Latn", "hin_Deva"]).figure()),
        scatter_colours(tsne(["eng_Latn", "ukr_Cyrl", "hin_Deva"]).figure()),
        scatter_colours(tsne(["ukr_Cyrl"]).figure()),
        line_colours(probe(["zho_Hans", "ukr_Cyrl"]).figure()),
    ]
    for colours in runs:
        assert colours["ukr_Cyrl"] == language_colour("ukr_Cyrl")
        for lang in ("eng_Latn", "hin_Deva", "zho_Hans", "deu_Latn"):
            assert colours.get(lang, language_colour(lang)) == language_colour(lang)
    upos = line_colours(probe(["UD_Ukrainian-IU"]).figure())
    assert upos["UD_Ukrainian-IU"] == language_colour("ukr_Cyrl")


def test_retrieval_figure_has_a_chance_line_and_a_fitted_axis():
    result = retrieval(["hin_Deva", "ukr_Cyrl"], num_sentences=40)
    assert result.chance == 1 / 40
    axes = result.figure().axes[0]
    chance = [line for line in axes.get_lines() if line.get_label().startswith("chance")]
    assert len(chance) == 1 and chance[0].get_linestyle() == "--"
    assert list(chance[0].get_ydata()) == [0.025, 0.025]
    assert "chance (1/40 = 0.025)" in [t.get_text() for t in axes.get_legend().get_texts()]
    low, high = axes.get_ylim()
    assert 0 < low < 0.025 and 0.085 < high < 0.1  # scores 0.025-0.085 and chance fill the axis, not 0-1


def test_probe_figure_shows_majority_baselines():
    axes = probe(["eng_Latn", "ukr_Cyrl"]).figure().axes[0]
    dotted = [line for line in axes.get_lines() if line.get_linestyle() == ":"]
    assert sorted(line.get_ydata()[0] for line in dotted if len(line.get_ydata())) == [0.25, 0.26]
    assert "majority baseline" in [t.get_text() for t in axes.get_legend().get_texts()]
    low, high = axes.get_ylim()
    assert low < 0.25 and 0.55 < high < 0.7


@pytest.mark.parametrize(
    ("values", "inside"),
    [([0.005, 0.02, 0.04], (0.005, 0.04)), ([0.25, 0.9], (0.25, 0.9)), ([1.0, 1.0], (0.975, 1.0))],
)
def test_score_limits_contain_the_values(values, inside):
    low, high = score_limits(values)
    assert -0.02 <= low < inside[0] and inside[1] < high <= 1.02
    assert high - low >= 0.05 or high == 1.02
