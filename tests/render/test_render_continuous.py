"""The ``continuous`` strategy (published PIXEL renderer): str, word lists, pairs, offset mapping, overflow."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pixel.render import PangoCairoTextRenderer

ALPHABET = "abcdefg XYZ.,?0123 ابتثج אבג मेरीबिल्ली 中文字 \u0301\u200d\n\t\x01"
texts = st.text(alphabet=ALPHABET, max_size=80)

P = 16


@pytest.fixture(scope="module")
def padded():
    """The original PIXEL repository's variant: text starts 2 px into the strip."""
    return PangoCairoTextRenderer(rendering_strategy="continuous", left_padding=2)


def width(renderer, text: str, rtl: bool = False) -> int:
    backend = renderer.backend
    return backend.set_layout_text(backend.sentence_layout(rtl), text)[0]


def inked_columns(pixels: np.ndarray) -> np.ndarray:
    return np.flatnonzero((pixels < 255).any(axis=0))


def test_str_is_one_run_at_the_left_edge_with_eos_after_two_plus_two_pixels(make_renderer):
    r = make_renderer("continuous")
    for text in [
        "My cat loves oatmeal.",
        "मेरी बिल्ली को दलिया पसंद है",
        "我的猫喜欢燕麦片",
        "Кіт любить вівсянку",
    ]:
        enc = r(text)
        w = width(r, text)
        eos = math.ceil((2 + w + 2) / P)
        assert enc.num_text_patches == eos and enc.sep_patches == [eos] and not enc.truncated
        assert (enc.pixel_values[:, eos * P : (eos + 1) * P] == 0).all()
        ink = inked_columns(enc.pixel_values[:, : eos * P])
        assert ink[0] <= 2 and ink[-1] < w + 2  # drawn from x = 0
        assert (enc.pixel_values[:, (eos + 1) * P :] == 255).all()
        assert enc.word_starts is None  # the published renderer has none for str


def test_newlines_become_spaces_and_long_text_is_clipped_with_eos_on_the_last_patch(make_renderer):
    r = make_renderer("continuous")
    assert np.array_equal(r("My cat\nloves").pixel_values, r("My cat loves").pixel_values)
    short = make_renderer("continuous", max_seq_length=8)
    enc = short("My cat loves oatmeal, but the dog prefers rice.")
    assert enc.truncated and enc.num_text_patches == 7  # never cut: clipped, EOS on the last patch
    assert (enc.pixel_values[:, 7 * P :] == 0).all() and (enc.pixel_values[:, : 7 * P] < 255).any(
        axis=0
    ).sum() > 90


def test_left_padding_and_pixel_shift_move_the_text_by_whole_pixels(make_renderer, padded):
    r = make_renderer("continuous")
    text = "My cat loves oatmeal."
    w = width(r, text)
    base, moved = r(text).pixel_values, padded(text).pixel_values
    assert np.array_equal(moved[:, 2 : w + 2], base[:, :w])
    assert padded(text).num_text_patches == r(text).num_text_patches  # EOS at next_patch(2 + w + 2) in both
    shifted = r(text, pixel_shift=3)
    assert np.array_equal(shifted.pixel_values[:, : w - 3], base[:, 3:w])
    assert shifted.num_text_patches == math.ceil((2 + (w - 3) + 2) / P)


def test_word_list_draws_word_plus_space_at_fresh_patches(make_renderer):
    r = make_renderer("continuous")
    words = ["My", "cat", "loves", "oatmeal", "."]
    expected, offset = [0], 0
    for word in words[:-1]:
        offset = math.ceil((offset + width(r, word + " ")) / P) * P
        expected.append(offset // P)
    expected.append(math.ceil((offset + 2 + width(r, words[-1])) / P))
    enc = r(words)
    assert enc.word_starts == expected and enc.num_text_patches == expected[-1] and not enc.truncated
    assert (enc.pixel_values[:, expected[-1] * P : (expected[-1] + 1) * P] == 0).all()
    # m4 skips empty words (they get no word start); the pixels are those of the list without them
    without = r(["My", "", "cat", "loves", "oatmeal", "."])
    assert np.array_equal(without.pixel_values, enc.pixel_values) and without.word_starts == expected


def test_word_list_stops_at_the_last_patch(make_renderer):
    r = make_renderer("continuous", max_seq_length=6)
    enc = r(["oatmeal", "oatmeal", "oatmeal", "oatmeal", "end"])
    assert enc.truncated and enc.num_text_patches == 5 and len(enc.word_starts) < 6
    assert enc.word_starts[-1] == 5


def test_pair_separator_and_text_b_two_pixels_into_the_next_patch(make_renderer, padded):
    r = make_renderer("continuous")
    a, b = "Who loves oatmeal?", "My cat loves oatmeal, but the dog prefers rice."
    enc = r((a, b))
    sep = math.ceil((width(r, a) + 2) / P)
    lone = padded(b)  # text_b alone, drawn 2 px into the strip: the same pixels as in the pair
    eos = sep + 1 + lone.num_text_patches
    assert enc.sep_patches == [sep, eos] and enc.num_text_patches == eos and not enc.truncated
    assert (enc.pixel_values[:, sep * P : (sep + 1) * P] == 0).all()
    assert np.array_equal(
        enc.pixel_values[:, (sep + 1) * P : (eos + 1) * P], lone.pixel_values[:, : (eos - sep) * P]
    )
    assert np.array_equal(enc.pixel_values[:, : sep * P], r(a).pixel_values[:, : sep * P])


def test_text_a_max_length_cuts_text_a_but_the_separator_follows_its_full_width(make_renderer):
    r = make_renderer("continuous")
    a = "A very long question that goes on and on and on"
    enc = r((a, "short"), text_a_max_length=5, return_offset_mapping=True)
    full_sep = math.ceil((width(r, a) + 2) / P)
    assert enc.truncated and enc.sep_patches[0] == full_sep > 6  # quirk (published)
    ink = inked_columns(enc.pixel_values[:, : full_sep * P])
    assert ink[-1] < 6 * P  # the cut text_a ends within max_length (+1: the search may overshoot) patches
    spans_a = enc.offset_mapping[: enc.offset_mapping.index((0, 0))]
    assert 4 <= len(spans_a) <= 6 and spans_a[0][0] == 0


def contiguous_ltr(spans: list[tuple[int, int]]) -> bool:
    return all(x[1] == y[0] for x, y in zip(spans, spans[1:], strict=False))


def test_offset_mapping_spans_are_contiguous_and_cover_the_text(make_renderer):
    r = make_renderer("continuous")
    text = "My cat loves oatmeal, but the dog prefers rice."
    enc = r(text, return_offset_mapping=True)
    # (the 2 + 2 px of padding after the text may add a patch that maps to no character)
    spans = [s for s in enc.offset_mapping[: enc.num_text_patches] if s != (0, 0)]
    assert len(enc.offset_mapping) == 529 and set(enc.offset_mapping[enc.num_text_patches + 1 :]) == {(0, 0)}
    assert spans[0][0] == 0 and contiguous_ltr(spans) and spans[-1][1] >= len(text)
    # a character's patch holds its left edge: "M" (x = 0) is in patch 0, the final "." in the last one
    assert spans[0][0] <= 0 < spans[0][1] and spans[-1][0] <= len(text) - 1 < spans[-1][1]
    pair = r(("Who?", text), return_offset_mapping=True)
    sep = pair.sep_patches[0]
    assert pair.offset_mapping[sep] == (0, 0) and pair.offset_mapping[sep + 1][0] == 0
    # quirk (published): a whole patch of padding after text_b is marked (-1, -1) after merging the last two spans
    spans_b = pair.offset_mapping[sep + 1 : pair.num_text_patches]
    assert spans_b[-1] == (-1, -1) and spans_b[-2][1] >= len(text) and contiguous_ltr(spans_b[:-1])


def test_rtl_pairs_count_spans_from_the_end_and_use_an_rtl_base_direction(make_renderer):
    r = make_renderer("continuous")
    question, context = "من يحب الشوفان؟", "قطتي تحب دقيق الشوفان كثيرا."
    enc = r((question, context), return_offset_mapping=True)
    spans_a = enc.offset_mapping[: enc.offset_mapping.index((0, 0))]
    assert spans_a[0][0] == len(question) and all(s >= e for s, e in spans_a)
    assert all(x[1] == y[0] for x, y in zip(spans_a, spans_a[1:], strict=False))
    # A leading Latin word: Pango's automatic direction would make the paragraph LTR; the RTL pair path does not.
    mixed = ("ABC " + question, "DEF " + context)
    forced, auto = r(mixed, rtl=True), r(mixed)
    assert np.array_equal(forced.pixel_values, auto.pixel_values)  # detected RTL (2 of 3 votes) = forced
    ltr_drawn = r(mixed[0])  # the str path keeps Pango's automatic (here LTR) direction
    sep = forced.sep_patches[0]
    assert not np.array_equal(forced.pixel_values[:, : sep * P], ltr_drawn.pixel_values[:, : sep * P])


@pytest.mark.parametrize("stride", [0, 3])
def test_overflow_windows_slide_over_text_b(make_renderer, stride):
    r = make_renderer("continuous", max_seq_length=64)
    question, context = (
        "Who loves oatmeal?",
        " ".join(f"Sentence {i} says the cat loves oatmeal." for i in range(12)),
    )
    first = r((question, context), return_overflowing_patches=True, stride=stride)
    windows = first.overflowing_patches
    assert first.truncated and len(windows) >= 2 and not windows[-1].truncated
    sep = first.sep_patches[0]
    n_a = first.offset_mapping.index((0, 0))
    for window in windows:
        assert window.sep_patches[0] == sep
        assert np.array_equal(window.pixel_values[:, : (sep + 1) * P], first.pixel_values[:, : (sep + 1) * P])
        eos = window.num_text_patches
        assert (window.pixel_values[:, eos * P : (eos + 1) * P] == 0).all()
        assert window.offset_mapping[:n_a] == first.offset_mapping[:n_a]
        spans = [s for s in window.offset_mapping[n_a + 1 :] if s not in ((0, 0), (-1, -1))]
        assert contiguous_ltr(spans) and spans[0][0] > 0
    # windows move forward through the context and the last one reaches its end
    starts = [next(s for s in w.offset_mapping[n_a + 1 :])[0] for w in windows]
    assert starts == sorted(starts) and starts[0] > 0
    last = [s for s in windows[-1].offset_mapping[n_a + 1 :] if s not in ((0, 0), (-1, -1))]
    assert last[-1][1] >= len(context)


def test_real_sentences_and_word_lists_render(make_renderer, data_dir):
    import csv

    import conllu

    r = make_renderer("continuous")
    texts = []
    for lang in ("eng_Latn", "hin_Deva", "ukr_Cyrl", "zho_Hans", "arz_Arab", "heb_Hebr", "tam_Taml"):
        with open(data_dir / "sib200" / lang / "test.tsv", newline="") as f:
            texts += [
                row["text"] for _, row in zip(range(3), csv.DictReader(f, delimiter="\t"), strict=False)
            ]
    for text in texts:
        enc = r(text)
        assert 0 < enc.num_text_patches < 529 and enc.num_missing_glyphs == 0, text
        assert enc.num_text_patches == math.ceil((4 + width(r, text)) / P)
    for folder in sorted((data_dir / "ud").iterdir()):
        with open(next(folder.glob("*-test.conllu"))) as f:
            for _, tokens in zip(range(2), conllu.parse_incr(f), strict=False):
                words = [t["form"] for t in tokens if isinstance(t["id"], int)]
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    enc = r(words)
                assert len(enc.word_starts) == len([w for w in words if w]) + 1, folder.name
                assert (
                    enc.word_starts == sorted(enc.word_starts) and enc.word_starts[-1] == enc.num_text_patches
                )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=texts, b=texts, stride=st.integers(0, 4), rgb=st.booleans())
def test_random_text_pairs_and_lists_never_crash(make_renderer, a, b, stride, rgb):
    r = make_renderer("continuous", rgb=rgb, max_seq_length=24)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pair = r((a, b), return_overflowing_patches=True, stride=stride)
        words = r(a.split())
        single = r(b, return_offset_mapping=True)
    for enc in [pair, *(pair.overflowing_patches or []), words, single]:
        assert enc.pixel_values.shape[:2] == (16, 24 * P) and 0 <= enc.num_text_patches <= 23
        eos = enc.num_text_patches
        assert (enc.pixel_values[:, eos * P : (eos + 1) * P] == 0).all()
    assert len(pair.offset_mapping) == 24 and len(single.offset_mapping) == 24
    assert words.word_starts == sorted(words.word_starts)


def test_overflow_past_the_mapping_stops_instead_of_raising(make_renderer):
    # Found by hypothesis; the published renderer raises IndexError on this pair (checked with the oracle).
    r = make_renderer("continuous", max_seq_length=24)
    enc = r(("0" * 30 + "\t\tא", "0" * 31 + "א"), return_overflowing_patches=True, stride=2)
    assert enc.truncated and enc.overflowing_patches == []
