"""The published ``word_patch_map`` bookkeeping and QA overflow windows of the bigrams renderer.

Expected values were produced by the published renderer run as an oracle (benchmarks/oracle_compare.py).
"""

import numpy as np

from pixel.render.word_map import overflow_word_ranges, slice_word_map


def entries(word_map: dict) -> dict:
    return {k: dict(v) for k, v in word_map["word_order_on_canvas"].items()}


def test_sentence_map_as_published(make_renderer):
    m = make_renderer()("My cat loves oatmeal .").word_patch_map
    assert (m["sum_len_words"], m["total_number_of_words"], m["word_list_truncation_index"]) == (22, 5, 4)
    assert (m["first_patch_after_last_word"], m["text_is_truncated"], m["is_rtl"]) == (13, False, False)
    got = [(e["start_patch_index"], e["word"], e["word_len"], e["sentence_len_ltr"], e["sentence_len_rtl"])
           for e in entries(m).values()]  # fmt: skip
    assert got == [
        (0, "My", 3, 3, 22),
        (2, "cat", 4, 7, 19),
        (4, "loves", 6, 13, 15),
        (7, "oatmeal", 8, 21, 9),
        (12, ".", 1, 22, 1),
    ]


def test_one_word_is_measured_twice_in_the_full_map(make_renderer):
    r = make_renderer()
    m = r("oatmeal").word_patch_map
    assert entries(m) == {
        0: {
            "start_patch_index": 0,
            "word": "oatmeal",
            "word_len": 8,
            "sentence_len_ltr": 8,
            "sentence_len_rtl": 7,
        }
    }
    assert m["first_patch_after_last_word"] == 5 and not m["text_is_truncated"]
    full_b = r(("Who?", "oatmeal")).word_patch_map["full_text_b"]
    assert full_b["first_patch_after_last_word"] == 14 and list(entries(full_b)) == [0, 1]
    assert entries(full_b)[1] == {
        "start_patch_index": 9, "word": "oatmeal", "word_len": 7, "sentence_len_ltr": 15, "sentence_len_rtl": -1
    }  # fmt: skip
    # the doubled width (10 patches) exceeds 5: flagged as truncated although nothing is cut
    short = make_renderer(max_seq_length=5)("oatmeal")
    assert short.word_patch_map["text_is_truncated"] and short.word_starts == [0, 5] and not short.truncated


def test_rtl_word_lengths_count_the_space_on_the_other_side(make_renderer):
    m = make_renderer()("قطتي تحب الشوفان").word_patch_map
    lens = [e["word_len"] for e in entries(m).values()]
    words = [e["word"] for e in entries(m).values()]
    assert m["is_rtl"] and words == ["الشوفان", "تحب", "قطتي"]  # str input: word order reversed
    assert lens == [len(words[0]), len(words[1]) + 1, len(words[2]) + 1]


def test_slice_keeps_start_patches_and_reindexes_nothing(make_renderer):
    full = make_renderer()(("Q?", "My cat loves oatmeal .")).word_patch_map["full_text_b"]
    sliced = slice_word_map(full, 1, 3)
    assert list(sliced["word_order_on_canvas"]) == [1, 2, 3] and sliced["word_list_truncation_index"] == 3
    assert sliced["total_number_of_words"] == 3 and full["total_number_of_words"] == 5
    assert sliced["word_order_on_canvas"][1] == full["word_order_on_canvas"][1]


def test_overflow_windows_cover_text_b_with_overlapping_word_ranges(make_renderer):
    r = make_renderer(max_seq_length=40)
    words = [f"w{i:03d}" for i in range(60)]
    first = r(("Which?", " ".join(words)), return_overflowing_patches=True, stride=0)
    windows = first.overflowing_patches
    kept_last = first.word_patch_map["text_b"]["word_list_truncation_index"]
    ranges = [
        (w.word_patch_map["text_b_word_offset"], w.word_patch_map["sliced_word_patch_map_b"]) for w in windows
    ]
    assert ranges[0][0] == kept_last - 1  # stride 0 still repeats two words (published)
    assert list(ranges[-1][1]["word_order_on_canvas"])[-1] == len(words) - 1
    previous_end = kept_last
    sep = first.sep_patches[0]
    for window, (lo, sliced) in zip(windows, ranges, strict=True):
        keys = list(sliced["word_order_on_canvas"])
        assert lo <= previous_end and keys == list(range(lo, keys[-1] + 1))
        drawn = [e["word"] for e in window.word_patch_map["text_b"]["word_order_on_canvas"].values()]
        assert drawn == words[lo : keys[-1] + 1] and not window.truncated
        assert np.array_equal(
            window.pixel_values[:, : (sep + 1) * 16], first.pixel_values[:, : (sep + 1) * 16]
        )
        previous_end = keys[-1]


def test_overflow_ranges_stop_where_the_published_code_would_fail():
    # a text_b map of two words whose first start is closest: the published code reads a name never set
    order = {0: {"start_patch_index": 3}, 1: {"start_patch_index": 30}}
    full = {"word_order_on_canvas": order, "word_list_truncation_index": 1, "first_patch_after_last_word": 60}
    assert overflow_word_ranges(full, a_end=2, kept_last=0, stride=0, max_seq_length=20) == []
