"""Layout behaviour: RTL, truncation, pairs, bad input, pickling."""

import pickle
import string
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pixel.render import PangoCairoTextRenderer
from pixel.render.pango import is_rtl_char
from pixel.render.strategies import code_point_bigrams, is_rtl

ARABIC = "قطتي تحب دقيق الشوفان"


def test_rtl_detection_and_bigram_reversal():
    assert is_rtl(ARABIC) and not is_rtl("My cat 123 قط") and not is_rtl("")
    assert [b.runs for b in code_point_bigrams("abcde", rtl=True)] == [("e",), ("d", "c"), ("b", "a")]


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=" \t.,;!?0123'-\u3000\xa0abcXé我िשלוםمرحبا", max_size=40))
def test_rtl_vote_uses_first_middle_and_last_letter(text):
    # The published rule, spelled out: letters are the code points left once ASCII whitespace, digits and
    # punctuation are removed; the first, middle and last of them vote.
    letters = [c for c in text if c not in string.whitespace + string.digits + string.punctuation]
    picks = (letters[0], letters[len(letters) // 2], letters[-1]) if letters else ()
    assert is_rtl(text) == (sum(map(is_rtl_char, picks)) >= 2)


def test_rtl_str_reverses_word_order_but_word_list_does_not(make_renderer):
    r = make_renderer()
    words = ARABIC.split()
    as_text, as_list = r(ARABIC), r(words)
    reversed_list = r(words[::-1])
    assert np.array_equal(as_text.pixel_values, reversed_list.pixel_values)
    assert not np.array_equal(as_text.pixel_values, as_list.pixel_values)
    assert as_text.word_patch_map["is_rtl"] and as_list.word_patch_map["is_rtl"]


def test_legacy_truncation_is_word_level_and_conservative(make_renderer):
    # Values checked against the published renderer run as an oracle (benchmarks/oracle_compare.py).
    r = make_renderer(max_seq_length=12)
    enc = r("My cat loves oatmeal .")  # word starts 0, 2, 4, 7, 12; end 13 > 12
    # The walk back starts at the second-to-last word ("oatmeal", starts at 7 <= 12), then drops one more word
    # ("one more word"): "My cat loves" is kept although "oatmeal" would fit.
    assert enc.truncated and enc.word_patch_map["word_list_truncation_index"] == 2
    assert enc.word_starts == [0, 2, 4, 7] and enc.num_text_patches == 7
    assert enc.word_patch_map["text_is_truncated"] and enc.word_patch_map["first_patch_after_last_word"] == 7
    assert (enc.pixel_values[:, 8 * 16 :] == 255).all()
    assert make_renderer(max_seq_length=11)("My cat loves oatmeal .").word_starts == [0, 2, 4, 7]
    # With 13 patches everything fits, but "oatmeal" ends at patch 12 = L - 1: "." is listed, not drawn.
    enc = make_renderer(max_seq_length=13)("My cat loves oatmeal .")
    assert enc.word_starts == [0, 2, 4, 7, 12, 12] and not enc.truncated and enc.num_text_patches == 12


def test_legacy_skip_at_the_last_patch_ends_the_drawing_there(make_renderer):
    # Quirk (published): a non-final kept word ending exactly at patch L - 1 stops the drawing; the next kept
    # word is listed but not drawn, and the EOS takes the last patch. ("ab" takes one patch.)
    enc = make_renderer(max_seq_length=6)("ab ab ab ab ab ab")
    assert enc.word_starts == [0, 1, 2, 3, 4, 5, 5] and enc.num_text_patches == 5 and not enc.truncated
    assert enc.word_patch_map["first_patch_after_last_word"] == 5
    assert (enc.pixel_values[:, 5 * 16 :] == 0).all() and (enc.pixel_values[:, 4 * 16 : 5 * 16] < 255).any()


def test_legacy_first_word_longer_than_canvas_is_kept_and_clipped(make_renderer):
    enc = make_renderer(max_seq_length=4)("Supercalifragilistic yes")
    assert enc.truncated and enc.word_starts[0] == 0 and enc.num_text_patches == 3  # EOS on the last patch


def test_new_strategies_truncate_leaving_room_for_eos(make_renderer):
    enc = make_renderer("grapheme_bigrams", max_seq_length=12)("My cat loves oatmeal .")
    assert enc.truncated and enc.word_starts[-1] < 12 and enc.num_text_patches == enc.word_starts[-1]
    enc = make_renderer("words", max_seq_length=4)("Supercalifragilisticexpialidocious")
    assert enc.truncated and enc.num_text_patches <= 3


def test_max_length_argument(make_renderer):
    enc = make_renderer()("My cat loves oatmeal .", max_length=5)
    assert enc.truncated and enc.word_starts == [0, 2, 4]  # "loves" starts within 5 but is dropped


def test_pair_layout_and_overflow(make_renderer):
    r = make_renderer(max_seq_length=20)
    enc = r(("My cat", "loves oatmeal ."))
    sep, eos = enc.sep_patches
    assert sep == 4 and enc.word_starts[2] == sep + 1 and eos == enc.num_text_patches
    assert (enc.pixel_values[:, sep * 16 : (sep + 1) * 16] == 0).all()
    long_b = " ".join(["oatmeal"] * 12)
    enc = r(("My cat", long_b), return_overflowing_patches=True, stride=2)
    assert enc.truncated and enc.overflowing_patches
    for window in enc.overflowing_patches:
        assert window.sep_patches[0] == sep
        assert np.array_equal(window.pixel_values[:, : sep * 16], enc.pixel_values[:, : sep * 16])
    assert not enc.overflowing_patches[-1].truncated


@pytest.mark.parametrize(
    "text", ["\x00\x01\x1b\x7f", "\ud800 x", "\U000e0001\U0010ffff\u0378", "a\u200d\u200cb", "\u0301"]
)
def test_control_and_unassigned_never_crash(make_renderer, text):
    for strategy in ("bigrams", "grapheme_bigrams", "words", "mono", "continuous"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            enc = make_renderer(strategy)(text)
        assert enc.pixel_values.shape == (16, 529 * 16)


def test_missing_glyphs_are_counted_with_a_warning(make_renderer):
    with pytest.warns(UserWarning, match="missing"):
        enc = make_renderer()("x \U000f0000")  # private use: no font has it
    assert enc.num_missing_glyphs >= 1


def test_missing_font_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.ttf"):
        PangoCairoTextRenderer(font_file=tmp_path / "nope.ttf")


def test_pickle_round_trip_renders_the_same(make_renderer):
    r = make_renderer()
    before = r("Jé ٱلْعَرَبِيَّة")
    clone = pickle.loads(pickle.dumps(r))
    assert clone._engine is None  # fonts and caches are rebuilt in the new process
    assert np.array_equal(clone("Jé ٱلْعَرَبِيَّة").pixel_values, before.pixel_values)


def test_settable_attributes(make_renderer):
    r = PangoCairoTextRenderer(max_seq_length=16)
    r.max_seq_length, r.rgb = 32, True
    assert r("hello").pixel_values.shape == (16, 512, 3)
