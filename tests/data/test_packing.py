import functools

from hypothesis import given, settings
from hypothesis import strategies as st

from pixel.data.packing import BlockPacker


def bigram_cost(text: str) -> int:
    """Additive toy accounting like the bigrams strategy: ceil(len/2) patches per word, nothing for spaces."""
    return sum((len(word) + 1) // 2 for word in text.split())


def toy_measure(limit: int):
    def measure(text: str) -> int | None:
        cost = bigram_cost(text)
        return None if cost > limit else cost  # the renderer truncates past its canvas

    return measure


def test_greedy_blocks_and_stats():
    packer = BlockPacker(toy_measure(17), max_patches=16, min_patches=3)
    blocks = list(packer.pack(["aaaa bbbb\ncccccc dd\n\nx", "y" * 40 + " zz " + "w" * 10, "ab"]))
    # The 40-char "word" (think Chinese without spaces) is cut at even offsets into pieces that fit.
    assert blocks == ["aaaa bbbb cccccc dd x", "y" * 30, "y" * 10 + " zz " + "w" * 10 + " ab"]
    assert packer.stats.chars_in == packer.stats.chars_out == 71


def test_drops_and_counts_what_cannot_fit():
    def measure(text):  # "Z" is wider than a block
        cost = bigram_cost(text) + 100 * text.count("Z")
        return None if cost > 17 else cost

    packer = BlockPacker(measure, max_patches=16, min_patches=3, across_documents=False)
    assert list(packer.pack(["aaaa bbbb Zq cc", "ab"])) == ["aaaa bbbb cc"]
    stats = packer.stats
    assert (stats.words_dropped, stats.chars_dropped_long_words) == (1, 2)
    assert (stats.blocks_dropped_short, stats.chars_dropped_short_blocks) == (1, 2)
    assert stats.chars_in == stats.chars_out + stats.chars_dropped


def test_non_additive_accounting_is_verified():
    # Joining costs one extra patch per space (like continuous rendering); the packer must still never overflow.
    def measure(text):
        cost = bigram_cost(text) + text.count(" ")
        return None if cost > 11 else cost

    packer = BlockPacker(measure, max_patches=10, min_patches=1)
    blocks = list(packer.pack(["aaaa bbbb", "cccc", "dddd eeee", "ff"]))
    assert all(measure(b) is not None and measure(b) <= 9 for b in blocks)
    assert " ".join(blocks).split() == "aaaa bbbb cccc dddd eeee ff".split()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.text(alphabet="ab \n", max_size=60), max_size=8),
    st.integers(4, 20),
    st.integers(1, 3),
    st.booleans(),
)
def test_never_truncates_and_accounts_for_every_character(documents, max_patches, min_patches, across):
    packer = BlockPacker(
        toy_measure(max_patches), max_patches, min(min_patches, max_patches - 1), None, across
    )
    blocks = list(packer.pack(documents))
    for block in blocks:
        assert packer.min_patches <= bigram_cost(block) <= max_patches - 1
    stats = packer.stats
    assert stats.chars_in == stats.chars_out + stats.chars_dropped
    assert stats.chars_out == sum(len(b.replace(" ", "")) for b in blocks)
    # Order is kept: every kept token is a whole input word or a piece of one starting at an even offset (over-long
    # words are cut into pieces that fit), consumed left to right; dropped words and pieces are skipped.
    words = [w for d in documents for w in d.split()]
    tokens = " ".join(blocks).split()

    @functools.cache
    def matches(i: int, j: int, pos: int) -> bool:
        if i == len(tokens):
            return True
        if j == len(words):
            return False
        token, word = tokens[i], words[j]
        if pos % 2 == 0 and word.startswith(token, pos):
            after = pos + len(token)
            if matches(i + 1, j + (after == len(word)), after % len(word)):
                return True
        return matches(i, j + 1, 0) or (pos + 2 < len(word) and matches(i, j, pos + 2))

    assert matches(0, 0, 0)
