"""``render_batch``: the same Encodings as rendering strip by strip, with the per-strip fixed costs shared."""

import csv
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pixel.render import PangoCairoTextRenderer

# Overhang-prone glyphs (see test_render_word_cache), Arabic (RTL strips), a private-use code point (a missing
# glyph: drawn directly and warned about), spaces (word breaks).
ALPHABET = "JjїλѸ\u0b3f\u0b41\u0816fWyé.ि्ंक我ّبَمرحبا\u0301gQ@aT\ue000     "
FIELDS = (
    "num_text_patches",
    "sep_patches",
    "word_starts",
    "word_patch_map",
    "truncated",
    "num_missing_glyphs",
    "num_inserted_dotted_circles",
)


def assert_same(batch, single) -> None:
    assert len(batch) == len(single)
    for k, (a, b) in enumerate(zip(batch, single, strict=True)):
        assert a.pixel_values.dtype == b.pixel_values.dtype and a.pixel_values.shape == b.pixel_values.shape
        assert np.array_equal(a.pixel_values, b.pixel_values), k
        for name in FIELDS:
            assert getattr(a, name) == getattr(b, name), (k, name)


def full_strips(paths, renderer: PangoCairoTextRenderer) -> list[str]:
    """Consecutive sentences joined until the text just overflows the strip (as packed pretraining data)."""
    sentences = []
    for path in paths:
        with open(path, newline="") as f:
            sentences += [row["text"] for row in csv.DictReader(f, delimiter="\t")]
    texts, current = [], []
    for sentence in sentences:
        current.append(sentence)
        if renderer(" ".join(current)).truncated:
            texts.append(" ".join(current))
            current = []
    return texts


@pytest.mark.parametrize("lang", ["eng_Latn", "hin_Deva", "ukr_Cyrl", "zho_Hans", "arz_Arab"])
def test_batches_of_full_strips_equal_strip_by_strip(data_dir, make_renderer, lang):
    texts = full_strips(
        [data_dir / "sib200" / lang / f"{split}.tsv" for split in ("dev", "test")], make_renderer()
    )
    assert len(texts) >= 8
    half = len(texts) // 2
    for rgb in (False, True):
        single, batched = PangoCairoTextRenderer(rgb=rgb), PangoCairoTextRenderer(rgb=rgb)
        for text in texts[:3]:  # some words met before (some tiled: these strips repeat below)
            single(text), batched(text)
        # New strips, then strips met before (tiled) mixed with new ones in one batch.
        for chunk in (texts[3:half], texts[:3] + texts[half:]):
            assert_same(batched.render_batch(chunk), [single(text) for text in chunk])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    texts=st.lists(st.text(alphabet=ALPHABET, max_size=120), min_size=1, max_size=12),
    repeat=st.booleans(),
    rgb=st.booleans(),
)
def test_random_multilingual_batches_with_eviction(texts, repeat, rgb):
    # 1024 tiles for 60-patch strips: a batch is split into chunks of the room left, the caches emptied between.
    single = PangoCairoTextRenderer(rgb=rgb, cache_megabytes=0.25, max_seq_length=60)
    batched = PangoCairoTextRenderer(rgb=rgb, cache_megabytes=0.25, max_seq_length=60)
    if repeat:
        texts = texts + texts[::-1]  # words met in the batch before, and whole strips again
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same(batched.render_batch(texts), [single(text) for text in texts])


def test_long_batches_are_split_and_the_cache_emptied_between_chunks():
    rng = np.random.default_rng(0)
    letters = list("abcdefghijklmnopqrstuvwxyzJjWfy我λ")
    texts = [" ".join("".join(rng.choice(letters, 6)) for _ in range(40)) for _ in range(60)]
    single = PangoCairoTextRenderer(cache_megabytes=0.25, max_seq_length=100)
    batched = PangoCairoTextRenderer(cache_megabytes=0.25, max_seq_length=100)
    charged = []  # (words, tiles charged) before each chunk's ``begin``
    begin = batched.engine.words_cache.begin

    def recording_begin():
        charged.append((len(batched.engine.words_cache), batched.engine.words_cache._charged))
        begin()

    batched.engine.words_cache.begin = recording_begin
    assert_same(batched.render_batch(texts), [single(text) for text in texts])
    assert len(charged) > 2  # several chunks
    assert any(b[0] < a[0] for a, b in zip(charged, charged[1:], strict=False))  # emptied between two chunks
    # A chunk begins only with room for it (2 x 100 patches a strip; these strips measure ~160 patches of
    # words): the budget is exceeded by less than one budget's worth, not by the whole batch (~9,000 tiles).
    assert max(c for _, c in charged) < 2 * batched.engine.words_cache.max_tiles


def test_other_strategies_and_inputs_fall_back_to_one_by_one(make_renderer):
    texts = ["Hello world", "Привіт світ"]
    words = PangoCairoTextRenderer(rendering_strategy="words")
    assert_same(words.render_batch(texts), [make_renderer("words")(t) for t in texts])
    uncached = make_renderer(use_cache=False)
    assert_same(uncached.render_batch(texts), [uncached(t) for t in texts])
    bigrams = PangoCairoTextRenderer()
    pair = ("Is it?", "It is.")
    assert_same(bigrams.render_batch([texts[0], pair]), [make_renderer()(texts[0]), make_renderer()(pair)])
    assert bigrams.render_batch([]) == []
