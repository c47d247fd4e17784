"""Fuzz test of renderer inputs: every strategy, str / word-list / pair input, mixed scripts, whitespace,
combining marks, empty text and words far longer than the strip, with the keywords each input uses.

Invariants: no exception; the strip's shape; ``num_text_patches`` inside the strip with a black EOS patch after
it; a strip that is not ``truncated`` keeps every word; the tile cache draws what the reference path draws.
Bounded: a small strip (48 patches), ``max_examples`` per strategy and a per-example ``deadline``.
"""

import logging
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pixel.render import STRATEGIES
from pixel.render.strategies import split_words

L, P = 48, 16
ALPHABET = (
    "abcdefghijklmnopqrstuvwxyzJé.,;!?'\"()- "
    "कखगनमयरािीुेों्ः "
    "我的猫中文字。，"
    "абвгдеєжзиіїйклмн "
    "ابتثجحخدذرزسشص\u0651\u064e "
    "אבגדהוזחטיכ "
    "தமிழ்తెలుగుবাংলাไทย "
    "\u0300\u0301\u0308\u200d\u200b\x01\ufeff\U0001f600\u00a0\n\t\r\u2028"
)
# Words far longer than the strip (48 patches = 768 px) and, for mono, than the widest cairo image (32,767 px).
long_words = st.builds(
    lambda unit, n: unit * n,
    st.sampled_from(["x", "W", "ش", "中", "क्ष", "e\u0301", "\u200b"]),
    st.integers(40, 5000),
)
words = st.one_of(
    st.text(alphabet=ALPHABET, max_size=12), st.text(alphabet=ALPHABET, max_size=12), long_words
)
texts = st.lists(words, max_size=6).map(" ".join)
word_lists = st.lists(words, max_size=6)  # used as given: empty words and words with spaces included


@st.composite
def calls(draw, strategy: str):
    """(input, keywords): only keywords that the input uses with ``strategy`` (others warn, tested elsewhere)."""
    kind = draw(st.sampled_from(["str", "words", "pair"]))
    continuous = strategy == "continuous"
    kwargs = {}
    if kind == "pair":
        text = (draw(texts), draw(texts))
        kwargs["rtl"] = draw(st.booleans())
        kwargs["text_a_max_length"] = draw(st.none() | st.integers(1, L))
        if draw(st.booleans()):
            kwargs.update(return_overflowing_patches=True, stride=draw(st.integers(0, 4)))
        if continuous:
            kwargs["return_offset_mapping"] = draw(st.booleans())
        return text, kwargs
    text = draw(texts) if kind == "str" else draw(word_lists)
    if continuous and kind == "str":
        kwargs.update(return_offset_mapping=draw(st.booleans()), pixel_shift=draw(st.integers(0, P - 1)))
    elif not continuous:
        kwargs.update(rtl=draw(st.booleans()), max_length=draw(st.none() | st.integers(1, L)))
    return text, kwargs


def check_encoding(enc, rgb: bool, strategy: str) -> None:
    assert enc.pixel_values.dtype == np.uint8
    assert enc.pixel_values.shape == ((P, L * P, 3) if rgb else (P, L * P))
    n = enc.num_text_patches
    assert 0 <= n <= L - 1
    assert not enc.pixel_values[:, n * P : (n + 1) * P].any(), "the EOS patch is black"
    assert enc.sep_patches[-1] == n
    # (published bigrams: a text_a longer than the strip puts the separator past it)
    assert strategy == "bigrams" or all(0 <= s <= n for s in enc.sep_patches)
    if enc.offset_mapping is not None:
        assert len(enc.offset_mapping) == L
    if enc.word_starts is not None:
        assert enc.word_starts == sorted(enc.word_starts)
        if not enc.truncated:
            # Quirk (published bigrams): text ending exactly at the strip's end loses its last patch to the EOS.
            full = strategy == "bigrams" and n == L - 1 and enc.word_starts[-1] == L
            assert enc.word_starts[-1] == n or full


def check_truncated(strategy: str, text, kwargs: dict, enc) -> None:
    """A strip that is not truncated keeps every word; a full continuous strip is truncated."""
    if strategy == "continuous":
        if isinstance(text, str) and enc.truncated:
            assert enc.num_text_patches == L - 1
        return
    if not enc.truncated and not isinstance(text, tuple):
        count = len(split_words(text)) if isinstance(text, str) else len(text)
        assert len(enc.word_starts) == count + 1


@pytest.fixture(scope="module")
def renderers(make_renderer):
    """(strategy, rgb, use_cache) -> a 48-patch renderer, built and warmed up outside the timed examples."""
    out = {}
    for strategy in STRATEGIES:
        for rgb in (False, True):
            for use_cache in (True, False):
                renderer = make_renderer(strategy, rgb=rgb, use_cache=use_cache, max_seq_length=L)
                renderer("warm up")
                out[strategy, rgb, use_cache] = renderer
    return out


@pytest.mark.parametrize("strategy", STRATEGIES)
@settings(max_examples=60, deadline=10_000, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), rgb=st.booleans())
def test_any_input_renders_within_the_strip(renderers, strategy, data, rgb):
    text, kwargs = data.draw(calls(strategy), label="call")
    cached, direct = renderers[strategy, rgb, True], renderers[strategy, rgb, False]
    logging.disable(logging.WARNING)  # the published truncation logs a warning for an over-long first word
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # missing glyphs (emoji, controls) are reported by warnings
            a, b = cached(text, **kwargs), direct(text, **kwargs)
    finally:
        logging.disable(logging.NOTSET)
    for enc in [a, *(a.overflowing_patches or [])]:
        check_encoding(enc, rgb, strategy)
    check_truncated(strategy, text, kwargs, a)
    assert np.array_equal(a.pixel_values, b.pixel_values)
    assert (a.num_text_patches, a.word_starts, a.sep_patches, a.truncated) == (
        b.num_text_patches,
        b.word_starts,
        b.sep_patches,
        b.truncated,
    )
    assert len(a.overflowing_patches or []) == len(b.overflowing_patches or [])
