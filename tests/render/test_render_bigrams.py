"""The published PIXEL-M4 bigrams renderer: layout facts from the spec and its named quirks."""

import numpy as np
import pytest

from pixel.render import Encoding, get_attention_mask


def test_spec_sentence_word_starts_and_eos(make_renderer):
    enc = make_renderer()("My cat loves oatmeal .")
    assert isinstance(enc, Encoding)
    assert enc.word_starts == [0, 2, 4, 7, 12, 13]
    assert enc.num_text_patches == 13 and enc.sep_patches == [13]
    assert enc.pixel_values.shape == (16, 529 * 16) and enc.pixel_values.dtype == np.uint8
    assert (enc.pixel_values[:, 13 * 16 : 14 * 16] == 0).all()  # black EOS patch
    assert (enc.pixel_values[:, 14 * 16 :] == 255).all()  # white after it
    assert enc.pixel_values[:, : 13 * 16].min() < 128  # ink


def test_cjk_bigram_takes_two_patches(make_renderer):
    # Each Han glyph is 13 px wide, so a 2-character bigram (26 px) rounds up to 2 patches.
    assert make_renderer()("我的猫 喜欢 燕麦片").word_starts == [0, 3, 5, 8]


def test_whitespace_is_never_drawn_and_only_splits(make_renderer):
    a, b = make_renderer()("My  cat\tloves\noatmeal ."), make_renderer()("My cat loves oatmeal .")
    assert np.array_equal(a.pixel_values, b.pixel_values) and a.word_starts == b.word_starts


def test_isolated_code_points_are_not_shaped_together(make_renderer):
    # oa|tm|ea|l: "tm" is t + m measured apart (17 px), so it takes 2 patches.
    assert make_renderer()("oatmeal").word_starts == [0, 5]
    # A Devanagari vowel sign drawn alone gets HarfBuzz's dotted circle (10-11 px wide, by font) instead of
    # joining its base.
    backend = make_renderer().backend
    sign = backend.extent("ि").width
    assert sign >= 10 and backend.extent("कि").width < backend.extent("क").width + sign


def test_rgb_is_gray_replicated_and_same_as_direct_rgb24(make_renderer):
    gray = make_renderer()("Jé ٱلْعَرَبِيَّة हिन्दी")
    rgb = make_renderer(rgb=True)("Jé ٱلْعَرَبِيَّة हिन्दी")
    direct = make_renderer(rgb=True, use_cache=False)("Jé ٱلْعَرَبِيَّة हिन्दी")
    assert rgb.pixel_values.shape == (16, 529 * 16, 3)
    assert np.array_equal(rgb.pixel_values, direct.pixel_values)
    assert all(np.array_equal(rgb.pixel_values[..., c], gray.pixel_values) for c in range(3))


def test_empty_text_is_eos_only(make_renderer):
    for text in ["", "   ", []]:
        enc = make_renderer()(text)
        assert enc.num_text_patches == 0 and enc.word_starts == [0]
        assert (enc.pixel_values[:, :16] == 0).all() and (enc.pixel_values[:, 16:] == 255).all()


@pytest.mark.parametrize("bad", [3, None, b"bytes", ("a",), ["a", 1]])
def test_wrong_type_names_the_type(bad, make_renderer):
    with pytest.raises(TypeError, match=type(bad).__name__):
        make_renderer()(bad)


def test_attention_mask():
    mask = get_attention_mask(3, 8)
    assert mask.dtype == np.float32 and mask.tolist() == [1, 1, 1, 1, 0, 0, 0, 0]
    assert get_attention_mask(10, 4).tolist() == [1, 1, 1, 1]


def test_language_is_explicit_and_changes_only_cjk_faces(make_renderer, noto_renderer):
    # Pango's default language comes from the locale; the renderer sets it explicitly ("c" = the published
    # renderer under C.UTF-8). "zh-cn" picks the Chinese face of the CJK collection: pixels change, layout does not.
    from pixel.render import PangoCairoTextRenderer

    # Noto Sans has no Han, so the fallback Noto CJK collection draws it (GoNotoCurrent has one Han face itself).
    text = "中文字 直 骨 次 今"
    default, chinese = noto_renderer()(text), noto_renderer(language="zh-cn")(text)
    assert default.word_starts == chinese.word_starts
    assert not np.array_equal(default.pixel_values, chinese.pixel_values)
    latin = "My cat loves oatmeal ."
    assert np.array_equal(
        make_renderer()(latin).pixel_values, PangoCairoTextRenderer(language="en-us")(latin).pixel_values
    )
