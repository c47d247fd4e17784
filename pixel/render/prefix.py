"""Published PIXEL truncation of ``continuous`` text: the longest character prefix that fits, by binary search.

The published renderer lays out every prefix the binary search probes (a dozen full layouts for an over-long
sentence). We run the same binary search, with the same probes and therefore the same result, but answer a probe
from one layout of the whole sentence where that cannot change the answer: for left-to-right single-line text the
width of the prefix of ``n`` characters is the x of character ``n`` in the whole layout, up to shaping at the
cut (kerning, Indic reordering and conjuncts: at most 22 px on all SIB-200 test sentences). Probes within
``MARGIN`` px of the limit, right-to-left or bidi text and multi-line text are laid out for real.
"""

from __future__ import annotations

import numpy as np
import regex

from pixel.render.pango import PangoBackend, clean_text

MARGIN = 48  # px; more than twice the largest difference seen between the estimate and a prefix layout

# Text whose logical order is not its visual order (R, AL, AN characters and explicit bidi controls), or that
# Pango cuts early (NUL).
_NOT_SIMPLE = regex.compile(
    r"[\p{Bidi_Class=R}\p{Bidi_Class=AL}\p{Bidi_Class=AN}\u202a-\u202e\u2066-\u2069\x00]"
)


def fit_prefix(backend: PangoBackend, sentence: str, limit: int, estimate: bool = True) -> tuple[str, bool]:
    """The longest prefix (by the published binary search) whose layout is at most ``limit`` px wide."""

    def fits(n: int) -> bool:
        return backend.measure(sentence[:n]) <= limit

    width, lines = backend.measure_whole(sentence)
    if width <= limit:
        return sentence, False
    guess = None
    if estimate and lines == 1 and not _NOT_SIMPLE.search(sentence):
        code_points = np.frombuffer(clean_text(sentence).encode("utf-32-le"), np.uint32)
        utf8 = 1 + (code_points >= 0x80) + (code_points >= 0x800) + (code_points >= 0x10000)
        offsets = np.concatenate(([0], np.cumsum(utf8))).tolist()  # byte offset of every character

        def guess(n: int) -> bool | None:
            x = backend.whole_x(offsets[n])
            return True if x <= limit - MARGIN else False if x > limit + MARGIN else None

    lo, hi = 0, len(sentence)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        ok = None if guess is None or mid == len(sentence) else guess(mid)
        if ok is None:
            ok = mid < len(sentence) and fits(mid)
        lo, hi = (mid, hi) if ok else (lo, mid - 1)
    return sentence[:lo], True
