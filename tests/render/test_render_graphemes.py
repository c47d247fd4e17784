"""``grapheme_bigrams`` and dotted circles: real sentences per script, checked by glyph id and on the Encoding."""

import unicodedata
import warnings

import pytest
import regex

from pixel.render import STRATEGIES
from pixel.render.glyphs import _MAY_NEED_A_BASE, inserted_dotted_circles
from pixel.render.strategies import grapheme_bigrams, shaping_clusters

# A sentence or two per script, with what UAX #29 grapheme clusters cut apart: Myanmar aa/visarga (ရုံး, သုံး)
# and kinzi (အင်္ဂလိပ်), Khmer coeng subscripts (ខ្មែរ, ប្រទេស), Tibetan stacks (བསྒྲུབས), Sinhala al-lakuna
# + ZWJ (ශ්‍රී), Balinese adeg-adeg (ᬲ᭄ᬯᬲ᭄ᬢ᭄ᬬᬲ᭄ᬢᬸ), Kannada and Tamil conjuncts (ಕನ್ನಡ, க்ஷே).
SENTENCES = {
    "Myanmar": "မြန်မာဘာသာစကားသည် မြန်မာနိုင်ငံ၏ ရုံးသုံးဘာသာစကား ဖြစ်သည်။ ကျွန်တော် အင်္ဂလိပ်စာ လေ့လာနေသည်။",
    "Khmer": "ភាសាខ្មែរ គឺជាភាសាផ្លូវការរបស់ប្រទេសកម្ពុជា។ ខ្ញុំស្រឡាញ់អ្នក។",
    "Tibetan": "བོད་ཡིག་ནི་བོད་ཀྱི་ཡི་གེ་ཡིན། བཀྲ་ཤིས་བདེ་ལེགས། བསྒྲུབས་པ་",
    "Sinhala": "සිංහල භාෂාව ශ්‍රී ලංකාවේ නිල භාෂාවකි. ආයුබෝවන් ක්‍රියාව",
    "Thai": "ภาษาไทยเป็นภาษาราชการของประเทศไทย น้ำใจ ที่ สำคัญ",
    "Lao": "ພາສາລາວແມ່ນພາສາທາງການຂອງປະເທດລາວ ສະບາຍດີ ນ້ຳ",
    "Balinese": "ᬒᬁᬲ᭄ᬯᬲ᭄ᬢ᭄ᬬᬲ᭄ᬢᬸ ᬅᬓ᭄ᬱᬭᬩᬮᬶ ᬩᬲᬩᬮᬶ",
    "Devanagari": "हिन्दी भारत की राजभाषा है। क्षत्रिय स्त्री",
    "Bengali": "বাংলা ভাষা বাংলাদেশের রাষ্ট্রভাষা।",
    "Tamil": "தமிழ் ஒரு தொன்மையான மொழி. ஸ்ரீ க்ஷேத்திரம்",
    "Telugu": "తెలుగు ఆంధ్రప్రదేశ్ రాష్ట్ర అధికార భాష.",
    "Kannada": "ಕನ್ನಡ ಕರ್ನಾಟಕದ ಅಧಿಕೃತ ಭಾಷೆ.",
}


_HAN_OR_HANGUL = regex.compile(r"[\p{Han}\uAC00-\uD7A3]")
CACHED_STRATEGIES = tuple(name for name, s in STRATEGIES.items() if s.blocks is not None)  # patch-aligned


def quiet(renderer, text, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return renderer(text, **kwargs)


@pytest.mark.parametrize("script", SENTENCES)
def test_grapheme_bigrams_insert_no_dotted_circles_in_any_script(make_renderer, script):
    text = SENTENCES[script]
    renderer = make_renderer("grapheme_bigrams")
    enc = quiet(renderer, text)
    if enc.num_missing_glyphs:
        pytest.skip(f"the Noto fonts do not cover {script} ({enc.num_missing_glyphs} glyphs missing)")
    backend = renderer.backend
    # Every block is one shaping cluster or two neighbouring ones: check all of them, whichever pair a block
    # boundary falls on, by glyph id.
    units = set()
    for word in text.split():
        clusters = shaping_clusters(word)
        assert "".join(clusters) == word
        units.update(clusters)
        units.update(a + b for a, b in zip(clusters, clusters[1:], strict=False))
    assert [u for u in units if inserted_dotted_circles(backend, u)] == []
    runs = [run for word in text.split() for block in grapheme_bigrams(word, False) for run in block.runs]
    assert sum(inserted_dotted_circles(backend, run) for run in runs) == 0
    assert enc.num_inserted_dotted_circles == 0
    assert quiet(make_renderer("grapheme_bigrams", use_cache=False), text).num_inserted_dotted_circles == 0
    # ``mono`` draws every shaping cluster as its own run in its own cell: no circle either.
    assert quiet(make_renderer("mono"), text).num_inserted_dotted_circles == 0
    # The published code-point bigrams cut every mark from its base: the field sees those circles.
    bigrams = make_renderer("bigrams")
    legacy = quiet(bigrams, text).num_inserted_dotted_circles
    assert legacy == sum(inserted_dotted_circles(bigrams.backend, c) for c in "".join(text.split())) > 0


def test_shaping_clusters_join_what_cannot_be_shaped_apart():
    assert shaping_clusters("သုံး") == ["သုံး"]  # UAX #29: သုံ|း (visarga U+1038 is no SpacingMark)
    assert shaping_clusters("ကား") == ["ကား"]  # aa U+102C as well
    assert shaping_clusters("မြန်မာ") == ["မြ", "န်", "မာ"]  # the asat (a pure killer) ends a syllable
    assert shaping_clusters("အင်္ဂလိပ်") == ["အ", "င်္ဂ", "လိ", "ပ်"]  # kinzi stacks on the next consonant
    assert shaping_clusters("ខ្មែរ") == ["ខ្មែ", "រ"]  # coeng + consonant: a subscript
    assert shaping_clusters("ශ්\u200dරී") == ["ශ්\u200dරී"]  # al-lakuna + ZWJ: rakaransaya
    assert shaping_clusters("ಕನ್ನಡ") == ["ಕ", "ನ್ನ", "ಡ"]  # a conjunct UAX #29 splits (no Kannada linker)
    assert shaping_clusters("किताब") == ["कि", "ता", "ब"]
    assert shaping_clusters("ภาษา") == ["ภ", "า", "ษ", "า"]
    assert shaping_clusters("e\u0301a") == ["e\u0301", "a"]
    assert [b.runs for b in grapheme_bigrams("ရုံးသုံး", False)] == [("ရုံးသုံး",)]


def test_the_count_follows_the_text_not_only_the_strategy(make_renderer):
    # A stray vowel sign after a space (as in SIB-200 hin_Deva) has no base in any strategy.
    broken = "मंगवाई गई हैं ै ताकि"
    for strategy in ("grapheme_bigrams", "words", "mono"):
        assert quiet(make_renderer(strategy), broken).num_inserted_dotted_circles == 1, strategy
    assert quiet(make_renderer("grapheme_bigrams"), "हैं ताकि").num_inserted_dotted_circles == 0
    # ``continuous`` shapes whole sentences as published and does not count (it would shape them twice).
    assert quiet(make_renderer("continuous"), broken).num_inserted_dotted_circles is None


@pytest.mark.parametrize("strategy", CACHED_STRATEGIES)
def test_dotted_circle_count_is_the_same_cached_and_direct(make_renderer, strategy):
    text = " ".join(SENTENCES[s] for s in ("Myanmar", "Khmer", "Devanagari")) + " ै"
    a = quiet(make_renderer(strategy), text)
    b = quiet(make_renderer(strategy, use_cache=False), text)
    assert a.num_inserted_dotted_circles == b.num_inserted_dotted_circles > 0
    assert quiet(make_renderer(strategy), text.split()).num_inserted_dotted_circles > 0
    pair = quiet(make_renderer(strategy), (SENTENCES["Myanmar"], SENTENCES["Devanagari"] + " ै"))
    assert pair.num_inserted_dotted_circles > 0


@pytest.mark.parametrize("strategy", CACHED_STRATEGIES)
def test_a_truncated_strip_counts_the_circles_it_draws(make_renderer, strategy):
    enc = quiet(make_renderer(strategy), ["ै"] * 100, max_length=20)  # one circle and one patch a word
    assert enc.truncated and enc.num_inserted_dotted_circles == len(enc.word_starts) - 1 <= 20


def test_text_the_counter_does_not_shape_never_gets_a_circle(make_renderer):
    # ``DottedCircles`` shapes only runs holding a mark or a letter of a script HarfBuzz shapes by syllables;
    # every other code point, shaped alone, gets no circle (Han and Hangul syllables left out for time).
    skipped = [
        chr(cp)
        for cp in range(0x20, 0x30000)
        if unicodedata.category(chr(cp)) not in ("Cs", "Co", "Cn")
        and not _MAY_NEED_A_BASE.match(chr(cp))
        and not _HAN_OR_HANGUL.match(chr(cp))
    ]
    assert len(skipped) > 10_000
    for strategy in ("grapheme_bigrams", "bigrams"):  # Noto Sans; GoNotoCurrent when installed
        backend = make_renderer(strategy).backend
        assert [c for c in skipped if inserted_dotted_circles(backend, c)] == []
