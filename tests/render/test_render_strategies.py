"""Every strategy: the cache equals the direct path (property test), real UD and SIB-200 text, dotted circles."""

import csv
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pixel.render import STRATEGIES
from pixel.render.glyphs import inserted_dotted_circles

# Letters, marks, digits, spaces and symbols from the scripts the evaluation languages use, plus troublemakers.
ALPHABET = (
    "abcdefghijklmnopqrstuvwxyzJéàüßfflW.,;!?'\"()- "
    "कखगनमयरलवसहािीुूेैोौंँ़्ः "
    "我的猫喜欢燕麦片中文字。，"
    "абвгдеєжзиіїйклмнопрстуфхцчшщьюяґ "
    "ابتثجحخدذرزسشصضطظعغفقكلمنهوي\u0651\u064e\u064f "
    "אבגדהוזחטיכלמנסעפצקרשת "
    "தமிழ்తెలుగుবাংলাไทย "
    "\u0300\u0301\u0308\u200d\u200b\x01\ufeff\U0001f600\u00a0\n\t"
)
texts = st.text(alphabet=ALPHABET, max_size=60)


# ``continuous`` has no cache (whole shaped runs at pixel offsets): tests/render/test_render_continuous.py.
CACHED_STRATEGIES = tuple(name for name, s in STRATEGIES.items() if s.blocks is not None)  # patch-aligned


@pytest.mark.parametrize("strategy", CACHED_STRATEGIES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=texts, rgb=st.booleans())
def test_cache_equals_direct_and_word_starts_are_sane(make_renderer, strategy, text, rgb):
    cached = make_renderer(strategy, rgb=rgb, use_cache=True, max_seq_length=48)
    direct = make_renderer(strategy, rgb=rgb, use_cache=False, max_seq_length=48)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = cached(text), direct(text)
    assert np.array_equal(a.pixel_values, b.pixel_values)
    assert (a.num_text_patches, a.word_starts, a.truncated) == (
        b.num_text_patches,
        b.word_starts,
        b.truncated,
    )
    assert a.num_inserted_dotted_circles == b.num_inserted_dotted_circles
    if a.word_starts is not None and not a.truncated:
        assert a.word_starts == sorted(a.word_starts) and all(0 <= s < 48 for s in a.word_starts)
        assert a.word_starts[-1] == a.num_text_patches


def read_sib(data_dir, lang: str, n: int) -> list[str]:
    with open(data_dir / "sib200" / lang / "test.tsv", newline="") as f:
        return [row["text"] for _, row in zip(range(n), csv.DictReader(f, delimiter="\t"), strict=False)]


def read_ud_words(data_dir, n: int) -> list[list[str]]:
    import conllu

    sentences = []
    for folder in sorted((data_dir / "ud").iterdir()):
        path = next(folder.glob("*-test.conllu"))
        with open(path) as f:
            for _, tokens in zip(range(n), conllu.parse_incr(f), strict=False):
                sentences.append([t["form"] for t in tokens if isinstance(t["id"], int)])
    return sentences


@pytest.mark.parametrize("strategy", CACHED_STRATEGIES)
def test_real_sentences_render_exactly_in_every_strategy(make_renderer, data_dir, strategy):
    cached, direct = make_renderer(strategy), make_renderer(strategy, use_cache=False)
    sib = [
        s
        for lang in ("eng_Latn", "hin_Deva", "ukr_Cyrl", "zho_Hans", "arz_Arab", "heb_Hebr", "tam_Taml")
        for s in read_sib(data_dir, lang, 3)
    ]
    for text in [*sib, *read_ud_words(data_dir, 2)]:
        a, b = cached(text), direct(text)
        assert np.array_equal(a.pixel_values, b.pixel_values), text
        assert 0 < a.num_text_patches < 529 and a.num_missing_glyphs == 0
        if a.word_starts is not None:
            assert a.word_starts == sorted(a.word_starts)
            assert len(a.word_starts) == len(text if isinstance(text, list) else text.split()) + 1


def test_grapheme_bigrams_insert_no_dotted_circles(make_renderer, data_dir):
    renderer = make_renderer("grapheme_bigrams")
    backend = renderer.backend
    thai = ["ภาษาไทยเป็นภาษาราชการของประเทศไทย", "น้ำใจ ที่ สำคัญ"]
    texts = [
        s for lang in ("hin_Deva", "ben_Beng", "tam_Taml", "tel_Telu") for s in read_sib(data_dir, lang, 20)
    ]
    runs = {
        run
        for text in texts + thai
        for word in text.split()
        for block in STRATEGIES["grapheme_bigrams"].blocks(word, False, 16)
        for run in block.runs
    }
    assert sum(inserted_dotted_circles(backend, run) for run in runs) == 0
    # ... while the published code-point bigrams insert them all the time (sanity check of the detector).
    legacy = {c for text in texts[:5] for c in text}
    assert sum(inserted_dotted_circles(backend, c) for c in legacy) > 0


def test_grapheme_bigrams_units(make_renderer):
    from pixel.render.strategies import grapheme_bigrams

    assert [b.runs for b in grapheme_bigrams("किताब", False)] == [("किता",), ("ब",)]
    assert [b.runs for b in grapheme_bigrams("中文ab", False)] == [("中",), ("文",), ("ab",)]
    assert [b.runs for b in grapheme_bigrams("الشوفان", True)] == [("الشوفان",)]


def test_bounded_cache_empties_between_strips_and_stays_exact():
    from pixel.render import PangoCairoTextRenderer

    small = PangoCairoTextRenderer(cache_megabytes=0.25, max_seq_length=64)  # 1024 tiles: emptied often
    direct = PangoCairoTextRenderer(use_cache=False, max_seq_length=64)
    texts = [" ".join(f"word{i}x{j}" for j in range(12)) for i in range(30)]
    for text in texts:
        assert np.array_equal(small(text).pixel_values, direct(text).pixel_values)
    words = (
        small.engine.words_cache
    )  # bigrams: word tiles on the glyph cache, emptied together between strips
    assert len(words) < len(set(" ".join(texts).split())) and words._tiles_used <= 2 * words.max_tiles
