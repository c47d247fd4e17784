"""Bad renderer input gets one clear error; the renderer's limits (longest word, longest strip) hold."""

import json
import warnings

import numpy as np
import pytest

from pixel.render import STRATEGIES, TEXT_RENDERER_NAME, PangoCairoTextRenderer
from pixel.render.compose import max_strip_patches
from pixel.render.pango import PANGO_MAX_WIDTH


def quiet(call, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call(*args, **kwargs)


# -- keywords ----------------------------------------------------------------------------------------------
def test_misspelled_constructor_keywords_raise_with_suggestions():
    with pytest.raises(TypeError, match=r"'rendering_stratgy' \(did you mean 'rendering_strategy'\?\), "
                                        r"'max_seq_lenght' \(did you mean 'max_seq_length'\?\)"):  # fmt: skip
        PangoCairoTextRenderer(rendering_stratgy="continuous", max_seq_lenght=64)


def test_published_constructor_keywords_are_accepted_and_unused():
    renderer = quiet(PangoCairoTextRenderer, font_color="black", background_color="white", pad_size=3)
    assert renderer.max_seq_length == 529


def test_misspelled_call_keywords_raise_with_suggestions(make_renderer):
    with pytest.raises(TypeError, match=r"'max_lenght' \(did you mean 'max_length'\?\)"):
        make_renderer()("My cat", max_lenght=3)


@pytest.mark.parametrize(
    ("strategy", "text", "kwargs", "named"),
    [
        ("continuous", "My cat", {"max_length": 3, "rtl": True}, "max_length=3, rtl=True"),
        (
            "bigrams",
            "My cat",
            {"return_offset_mapping": True, "pixel_shift": 2},
            "return_offset_mapping=True",
        ),
        ("bigrams", "My cat", {"stride": 2, "text_a_max_length": 1}, "stride=2"),  # pair keywords
        ("words", ["My", "cat"], {"text_a_max_length": 4}, "text_a_max_length=4"),
    ],
)
def test_keywords_an_input_does_not_use_warn(make_renderer, strategy, text, kwargs, named):
    with pytest.warns(UserWarning, match=f"{named}.*not used for"):
        make_renderer(strategy, max_seq_length=48)(text, **kwargs)


# -- values ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"font_size": "big"}, TypeError, r"font_size='big' must be a finite number"),
        ({"font_size": 0}, ValueError, r"font_size=0 must be > 0"),
        ({"font_size": float("nan")}, TypeError, r"font_size=nan"),
        ({"font_size": 8, "dpi": 10_000}, ValueError, r"1111-px font: font_size \* dpi / 72 must be from 1"),
        ({"dpi": 120.5}, TypeError, r"dpi=120.5 must be an integer >= 1"),
        ({"pixels_per_patch": 0}, ValueError, r"pixels_per_patch=0 is out of range: .* from 2 to 256"),
        (
            {"max_seq_length": 1e9},
            TypeError,
            r"max_seq_length=1000000000.0 must be an integer from 1 to 2041",
        ),
        ({"max_seq_length": 10**9}, ValueError, r"max_seq_length=1000000000 is out of range"),
        ({"max_seq_length": 0}, ValueError, r"max_seq_length=0 is out of range"),
        ({"pixels_per_patch": 32, "max_seq_length": 1200}, ValueError, r"from 1 to 1017 \(patches of 32 px"),
        ({"rgb": "yes"}, TypeError, r"rgb='yes' must be True or False"),
        ({"rendering_strategy": "bigram"}, ValueError, r"'bigram' \(did you mean 'bigrams'\?\)"),
        ({"language": None}, TypeError, r"language=None must be a language tag"),
        ({"language": "en us"}, ValueError, r"language='en us' must be a language tag"),
        ({"left_padding": -1}, ValueError, r"left_padding=-1 is out of range: .* from 0 to 15"),
        ({"cache_megabytes": -1}, ValueError, r"cache_megabytes=-1 must be >= 0"),
        ({"use_cache": None}, TypeError, r"use_cache=None must be True or False"),
        ({"render_settings": {"hintstyle": "slight"}}, ValueError, r"hintstyle='slight' must be one of"),
        ({"render_settings": {"hint_style": "x"}}, TypeError, r"'hint_style' \(did you mean 'hintstyle'\?\)"),
        ({"font_file": 3}, TypeError, r"font_file=3 must be a path"),
        ({"fallback_fonts_dir": 3}, TypeError, r"fallback_fonts_dir=3 must be a folder"),
    ],
)
def test_bad_settings_name_the_key_the_value_and_the_range(kwargs, error, message):
    with pytest.raises(error, match=message):
        PangoCairoTextRenderer(**kwargs)


def test_settings_changed_after_construction_are_checked():
    renderer = quiet(PangoCairoTextRenderer)
    renderer.max_seq_length, renderer.rgb = 64, True  # as finetuning does
    with pytest.raises(ValueError, match="max_seq_length=5000 is out of range"):
        renderer.max_seq_length = 5000
    with pytest.raises(TypeError, match="rgb=1 must be True or False"):
        renderer.rgb = 1
    renderer.max_seq_length = 200
    with pytest.raises(ValueError, match="max_seq_length=200 is out of range: .* from 1 to 121"):
        renderer.pixels_per_patch = 256  # 200 patches of 256 px are wider than cairo's widest image
    assert (renderer.max_seq_length, renderer.rgb, renderer.pixels_per_patch) == (200, True, 16)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"max_length": 0}, ValueError, r"max_length=0 is out of range: .* from 1 to 48"),
        ({"max_length": 49}, ValueError, r"max_length=49 is out of range"),
        ({"max_length": 2.0}, TypeError, r"max_length=2.0 must be an integer"),
        ({"rtl": "no"}, TypeError, r"rtl='no' must be True or False"),
        ({"stride": -1}, ValueError, r"stride=-1 is out of range"),
        ({"text_a_max_length": 0}, ValueError, r"text_a_max_length=0 is out of range"),
        ({"pixel_shift": 16}, ValueError, r"pixel_shift=16 is out of range: .* from -15 to 15"),
    ],
)
def test_bad_call_values_raise(make_renderer, kwargs, error, message):
    with pytest.raises(error, match=message):
        make_renderer(max_seq_length=48)("My cat", **kwargs)


def test_bad_input_types_raise(make_renderer):
    with pytest.raises(TypeError, match=r"got tuple of 3: str"):
        make_renderer()(("a", "b", "c"))
    with pytest.raises(TypeError, match=r"got list of 2: int, str"):
        make_renderer()(["a", 1])


# -- config files ------------------------------------------------------------------------------------------
@pytest.fixture
def saved(tmp_path):
    quiet(PangoCairoTextRenderer, max_seq_length=32).save_pretrained(tmp_path)
    path = tmp_path / TEXT_RENDERER_NAME
    return path, json.loads(path.read_text())


@pytest.mark.parametrize(
    ("key", "value", "error", "message"),
    [
        ("font_size", "big", TypeError, "font_size='big'"),
        ("pixels_per_patch", 0, ValueError, "pixels_per_patch=0"),
        ("max_seq_length", 1e9, TypeError, "max_seq_length=1000000000.0"),
        ("rendering_strategy", "bigram", ValueError, "did you mean 'bigrams'"),
        ("fallback_fonts_dirs", "/usr/share/fonts", ValueError, "must be a list of folder names"),
        ("font_file", 5, ValueError, "font_file=5 must be a file name"),
    ],
)
def test_bad_config_values_name_the_config_file(saved, key, value, error, message):
    path, config = saved
    path.write_text(json.dumps({**config, key: value}))
    with pytest.raises(error, match=f"{path}.*{message}"):
        PangoCairoTextRenderer.from_pretrained(path.parent)


def test_malformed_config_names_the_file(saved):
    path, _ = saved
    path.write_text("{bad")
    with pytest.raises(ValueError, match=f"{path} is not valid JSON"):
        PangoCairoTextRenderer.from_pretrained(path.parent)


def test_overrides_are_checked_and_replace_bad_config_values(saved):
    path, config = saved
    with pytest.raises(TypeError, match=r"'max_seq_lenght' \(did you mean 'max_seq_length'\?\)"):
        PangoCairoTextRenderer.from_pretrained(path.parent, max_seq_lenght=64)
    with pytest.raises(ValueError, match="max_seq_length=0 is out of range"):
        PangoCairoTextRenderer.from_pretrained(path.parent, max_seq_length=0)
    path.write_text(json.dumps({**config, "max_seq_length": 1e9}))
    loaded = PangoCairoTextRenderer.from_pretrained(path.parent, max_seq_length=64, rgb=True)
    assert (loaded.max_seq_length, loaded.rgb) == (64, True)


# -- limits ------------------------------------------------------------------------------------------------
def inked_patches(encoding, P: int = 16) -> np.ndarray:
    """bool [patches]: which patches before the EOS patch hold any ink."""
    gray = encoding.pixel_values if encoding.pixel_values.ndim == 2 else encoding.pixel_values[..., 0]
    n = encoding.num_text_patches
    return (gray[:, : n * P].reshape(P, n, P) < 255).any(axis=(0, 2))


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("make_input", [lambda w: w, lambda w: [w], lambda w: ("q", w), lambda w: (w, "q")])
def test_a_word_longer_than_any_image_fills_the_strip_and_is_truncated(make_renderer, strategy, make_input):
    # 5,000 "x" are ~37,000 px: wider than cairo's widest image (mono and grapheme_bigrams used to fail to
    # create their scratch image; words returned a blank strip).
    encoding = quiet(make_renderer(strategy), make_input("x" * 5000))
    assert encoding.truncated and encoding.num_text_patches == 528
    if isinstance(make_input("x"), str | list):
        assert inked_patches(encoding).all()


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_run_beyond_pangos_coordinates_fills_the_strip(make_renderer, strategy):
    # ~2.2 million px: Pango's 32-bit positions in 1/1024 px wrap; continuous used to report 1 patch.
    encoding = quiet(make_renderer(strategy), "x" * 300_000)
    assert encoding.truncated and encoding.num_text_patches == 528 and inked_patches(encoding).all()


def test_pango_fit_cuts_only_runs_beyond_its_range(make_renderer):
    backend = make_renderer("continuous").backend
    short, long = "x" * 100, "x" * 150_000  # ~1.1 million px: within Pango's range, drawn as it is
    assert backend.fit(short) is short and backend.fit(long) is long
    huge = "x" * 300_000
    cut = backend.fit(huge)
    assert huge.startswith(cut) and len(cut) < len(huge) and backend.extent(cut).width >= 2 * 32768
    assert backend.extent(huge).width == backend.extent(cut).width < PANGO_MAX_WIDTH


def test_words_cuts_a_long_word_at_its_eos_patch(make_renderer):
    renderer = make_renderer("words", max_seq_length=64)
    whole = make_renderer("words", max_seq_length=64, use_cache=False)("x" * 2000)
    encoding = renderer("x" * 2000, max_length=10)
    assert encoding.truncated and encoding.num_text_patches == 9 and encoding.word_starts == [0, 9]
    assert np.array_equal(encoding.pixel_values[:, : 9 * 16], whole.pixel_values[:, : 9 * 16])
    assert (encoding.pixel_values[:, 10 * 16 :] == 255).all()  # nothing drawn after the EOS patch


def test_a_long_text_a_does_not_draw_over_text_b(make_renderer):
    renderer = make_renderer("words", max_seq_length=64)
    encoding = renderer(("x" * 2000, "hello"))
    assert encoding.truncated and encoding.sep_patches == [61, 63] and encoding.word_starts == [0, 62, 63]
    alone = renderer("hello")  # a word starting on a patch boundary looks the same wherever it lands
    assert np.array_equal(encoding.pixel_values[:, 62 * 16 : 63 * 16], alone.pixel_values[:, :16])


@pytest.mark.parametrize("strategy", ["bigrams", "mono", "continuous"])
def test_the_longest_strip_renders(strategy):
    longest = max_strip_patches(16)
    assert longest == 2041
    renderer = quiet(PangoCairoTextRenderer, rendering_strategy=strategy, max_seq_length=longest)
    for text in ["hello", "J" * 3000, ("J " * 1000, "J " * 2000)]:
        encoding = quiet(renderer, text)
        assert encoding.pixel_values.shape == (16, longest * 16) and encoding.num_text_patches < longest


@pytest.mark.parametrize("pixels_per_patch", [2, 256])
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_smallest_and_largest_patches_render(strategy, pixels_per_patch):
    length = min(40, max_strip_patches(pixels_per_patch))
    renderer = quiet(
        PangoCairoTextRenderer,
        rendering_strategy=strategy,
        pixels_per_patch=pixels_per_patch,
        max_seq_length=length,
    )
    for text in ["hello world", ("q", "hello")]:
        encoding = quiet(renderer, text)
        assert encoding.pixel_values.shape == (pixels_per_patch, length * pixels_per_patch)
        assert 0 < encoding.num_text_patches < length
