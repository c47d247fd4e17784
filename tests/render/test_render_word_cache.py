"""The word -> tile cache of ``bigrams``: tiles plus overhang columns equal cairo drawing every code point in order."""

import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Glyphs whose ink leaves their advance: left (J, j, ї, λ), right (Oriya vowel signs, Ѹ), none at all (the
# Samaritan mark U+0816 advances zero); accents, shadda, Devanagari signs, Han and plain letters around them.
OVERHANG = "JjїλѸ\u0b3f\u0b41\u0816fWyé.ि्ंक我ّبَ\u0301\u0308gQ@aT"
words = st.lists(st.text(alphabet=OVERHANG, max_size=5), max_size=14)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=words, second=words, rtl=st.booleans())
def test_word_tiles_equal_direct_drawing(make_renderer, first, second, rtl):
    cached = make_renderer(max_seq_length=24)  # short: truncation and clipping at the canvas end too
    direct = make_renderer(use_cache=False, max_seq_length=24)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pairs = [(cached(first, rtl=rtl), direct(first, rtl=rtl))]  # new words: drawn from glyphs
        pairs.append((cached(first, rtl=rtl), pairs[0][1]))  # met again: drawn from tiles
        pairs.append((cached(first, rtl=rtl), pairs[0][1]))  # ... with the junction columns stored then
        pairs.append(
            (cached((" ".join(first), " ".join(second))), direct((" ".join(first), " ".join(second))))
        )
    for a, b in pairs:
        assert np.array_equal(a.pixel_values, b.pixel_values)
        assert (a.word_starts, a.num_missing_glyphs, a.truncated) == (
            b.word_starts,
            b.num_missing_glyphs,
            b.truncated,
        )


def test_overhang_columns_are_recomputed_from_glyphs(noto_renderer):
    # In Noto Sans Samaritan U+0816 advances zero patches, so all its ink lies in its neighbours' patches; J, ї
    # reach left, ି right.
    text = ["Wa", "\u0816", "\u0816\u0816", "Jé", "ff", "ї", "J", "\u0b3f", "a"]
    cached, direct = noto_renderer(), noto_renderer(use_cache=False)
    ids = cached.engine.words_cache.lookup(text, False)
    cached.engine.words_cache.tile()
    assert (
        cached.engine.words_cache.total[ids[1]] == 0
        and cached.engine.words_cache.ink_hi[ids[1]] > cached.engine.words_cache.ink_lo[ids[1]]
    )
    assert np.array_equal(cached(text).pixel_values, direct(text).pixel_values)


def test_junction_columns_are_stored_and_reused_exactly(make_renderer):
    from pixel.render import PangoCairoTextRenderer

    # ି and Ѹ ink right of their patches (into the next word), J and ї left (into the previous one).
    words = ["Wa", "\u0b3f", "ab", "Jé", "ff", "ї", "cd", "Ѹ", "J", "xy"]
    cached, direct = PangoCairoTextRenderer(), make_renderer(use_cache=False)
    rng = np.random.default_rng(0)
    # Middle words shuffled (a strip's first word inking left of the strip is never a junction).
    orders = [words] + [[words[0], *rng.permutation(words[1:-1]).tolist(), words[-1]] for _ in range(4)]
    for text in orders + orders:  # the first strip builds tiles; later ones meet junctions again
        assert np.array_equal(cached(text).pixel_values, direct(text).pixel_values)
    assert cached.engine.words_cache._joins  # junctions stored
    calls = []
    fix = cached.engine.words_cache._overhang_pairs
    cached.engine.words_cache._overhang_pairs = lambda *args: calls.append(1) or fix(*args)
    for text in orders:  # every junction met before: the stored columns only, still exact
        assert np.array_equal(cached(text).pixel_values, direct(text).pixel_values)
    assert not calls
    # A strip pair (separator patch between the texts) and a clipped strip: exact either way.
    pair = (" ".join(orders[1]), " ".join(orders[2]))
    assert np.array_equal(cached(pair).pixel_values, direct(pair).pixel_values)
    short = make_renderer(max_seq_length=12)
    for text in orders + orders:
        expected = make_renderer(use_cache=False, max_seq_length=12)(text).pixel_values
        assert np.array_equal(short(text).pixel_values, expected)


def test_repeated_words_are_stored_once(make_renderer):
    renderer = make_renderer()
    renderer("the cat and the dog and the cat")
    size = len(renderer.engine.words_cache)
    renderer("the dog and the cat")
    assert len(renderer.engine.words_cache) == size
    ids = renderer.engine.words_cache.lookup(["the", "cat", "the"], False)
    assert ids[0] == ids[2] != ids[1]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=words, rtl=st.booleans())
def test_stored_word_facts_bound_its_glyphs(make_renderer, text, rtl):
    # The pairwise overhang path relies on these: ink extent, and every column two of its glyphs ink.
    cache = make_renderer().engine.words_cache
    wids = cache.lookup([w for w in text if w], rtl)
    cache.tile()
    for wid in wids.tolist():
        start, count = int(cache.glyph_start[wid]), int(cache.glyph_count[wid])
        ids, xs = cache.glyph_ids[start : start + count], cache.glyph_x[start : start + count]
        dest, _ = cache.glyphs.entries(ids, xs)
        if len(dest):
            assert cache.ink_lo[wid] == dest.min() and cache.ink_hi[wid] == dest.max() + 1
        columns, hits = np.unique(dest, return_counts=True)
        for column in columns[hits > 1].tolist():
            assert cache.multi_lo[wid] <= column < cache.multi_hi[wid]


def _stream(seed: int, n: int) -> list[str]:
    """Strips of long unseen words (Han runs, as zh text), overhang-prone words, and repeats of earlier strips."""
    rng = np.random.default_rng(seed)
    han = [chr(c) for c in range(0x4E00, 0x4E00 + 300)]
    texts = []
    for i in range(n):
        if i >= 2 and i % 3 == 0:
            texts.append(texts[int(rng.integers(0, i))])  # text repeats
            continue
        words = ["".join(rng.choice(han, int(rng.integers(8, 40)))) for _ in range(int(rng.integers(1, 4)))]
        words += ["".join(rng.choice(list(OVERHANG), int(rng.integers(1, 6)))) for _ in range(12)]
        texts.append(" ".join(rng.permutation(words)))
    return texts


def test_new_text_from_glyphs_then_tiles_when_it_repeats(make_renderer):
    from pixel.render import PangoCairoTextRenderer

    cached = PangoCairoTextRenderer()
    direct = make_renderer(use_cache=False)
    text, other = _stream(0, 2)
    first = cached(text)
    assert not first.truncated  # every word drawn
    assert (
        cached.engine.words_cache._tiles_used == 0 and len(cached.engine.words_cache) > 0
    )  # measured only, composited from glyphs
    cached(other)
    again = cached(text)
    words = cached.engine.words_cache
    assert words.tiled[words.lookup(text.split(), False)].all()  # met again: its words are tiled
    alone = [w for w in other.split() if w not in text.split()]
    assert alone and not words.tiled[words.lookup(alone, False)].any()  # the other strip's are not
    expected = direct(text).pixel_values
    assert np.array_equal(first.pixel_values, expected) and np.array_equal(again.pixel_values, expected)
    # A strip mixing tiled words and a new one is composited from glyphs again.
    mixed = text + " " + "\u4e00\u4e8c\u0b3fJ"
    assert np.array_equal(cached(mixed).pixel_values, direct(mixed).pixel_values)


def test_stream_with_repeats_and_eviction_stays_exact(make_renderer):
    from pixel.render import PangoCairoTextRenderer

    small = PangoCairoTextRenderer(cache_megabytes=0.25, max_seq_length=200)  # 1024 tiles: emptied mid-run
    direct = make_renderer(use_cache=False, max_seq_length=200)
    sizes = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for text in _stream(1, 40):
            assert np.array_equal(small(text).pixel_values, direct(text).pixel_values)
            assert (
                small.engine.words_cache._tiles_used <= small.engine.words_cache.max_tiles + 200
            )  # the budget plus one strip
            sizes.append(len(small.engine.words_cache))
    assert any(b < a for a, b in zip(sizes, sizes[1:], strict=False))  # emptied at least once


def test_stream_of_new_text_mixing_tiled_measured_and_new_words(make_renderer):
    from pixel.render import PangoCairoTextRenderer

    # Zipf-like vocabulary of overhang-prone words: every strip is new text, yet most of its words were met
    # before (some tiled by an earlier repeated strip, some only measured) and a few are met for the first time.
    rng = np.random.default_rng(2)
    vocabulary = ["".join(rng.choice(list(OVERHANG), int(rng.integers(1, 8)))) for _ in range(3000)]
    weights = 1.0 / np.arange(1, len(vocabulary) + 1)
    for megabytes in (64.0, 0.25):  # roomy, then a budget that empties the caches mid-stream
        cached = PangoCairoTextRenderer(cache_megabytes=megabytes, max_seq_length=200)
        direct = make_renderer(use_cache=False, max_seq_length=200)
        states, sizes = set(), []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i in range(30):
                text = " ".join(rng.choice(vocabulary, 60, p=weights / weights.sum()))
                texts = (
                    [text, text] if i % 5 == 0 else [text]
                )  # some strips repeat at once: their words get tiles
                for t in texts:
                    words = cached.engine.words_cache
                    known = [w for w in t.split(" ") if w in words._tables[False]]
                    if known:
                        states.update(words.tiled[words.lookup(known, False)].tolist())
                    assert np.array_equal(cached(t).pixel_values, direct(t).pixel_values)
                sizes.append(len(cached.engine.words_cache))
        assert states == {True, False}  # strips held tiled and measured-only words next to new ones
        if megabytes < 1:
            assert any(b < a for a, b in zip(sizes, sizes[1:], strict=False))  # emptied mid-stream
