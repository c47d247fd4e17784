"""The per-code-point glyph cache of ``bigrams``: numpy compositing equals cairo drawing the layouts in order."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pixel.render.pango import new_canvas, surface_coverage

CHARS = "JfWé.ि्ंक我ّبَ\u0301\u0308gyQ@"


def cairo_coverage(backend, chars: str, xs: list[int], width: int) -> np.ndarray:
    surface, context = new_canvas(width, 16, rgb=False)
    for char, x in zip(chars, xs, strict=True):
        backend.draw(context, char, x, 16)
    return surface_coverage(surface)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    chars=st.text(alphabet=CHARS, min_size=1, max_size=30),
    steps=st.lists(st.integers(-3, 12), min_size=30, max_size=30),
)
def test_compose_equals_cairo_with_heavy_overlap(make_renderer, chars, steps):
    # Glyphs 0-12 px apart (some drawn to the left of the previous one): columns inked 1, 2, 3+ times.
    glyphs = make_renderer().engine.glyphs
    xs = (20 + np.cumsum(steps[: len(chars)])).tolist()
    ids = glyphs.lookup(np.array([ord(c) for c in chars], np.uint32))
    width = 160
    expected = cairo_coverage(glyphs.backend, chars, xs, width)
    assert np.array_equal(glyphs.compose(ids, np.array(xs), width).T, expected)


def test_compose_clips_and_handles_deep_overlap(make_renderer):
    glyphs = make_renderer().engine.glyphs
    chars, xs = (
        "WWWWJWWW",
        [-6, -5, -4, 0, 1, 38, 39, 40],
    )  # five glyphs share columns; ink left of 0, past 48
    ids = glyphs.lookup(np.array([ord(c) for c in chars], np.uint32))
    expected = cairo_coverage(glyphs.backend, chars, xs, 48)
    assert np.array_equal(glyphs.compose(ids, np.array(xs), 48).T, expected)
    assert expected[:, :2].any() and expected[:, -2:].any()


def test_glyph_cache_is_bounded_and_rebuilt(make_renderer):
    from pixel.render.glyph_cache import GlyphCache

    backend = make_renderer().backend
    cache = GlyphCache(backend, 16, max_megabytes=0.0)  # floor: 4096 columns
    text = "".join(chr(c) for c in range(0x4E00, 0x4E00 + 400))  # ~13 inked columns each
    cache.lookup(np.frombuffer(text.encode("utf-32-le"), np.uint32))
    assert len(cache) == 400
    cache.begin()  # over budget: emptied between strips
    assert len(cache) == 0


def test_code_points_drawn_together_equal_one_canvas_each(make_renderer):
    # More code points than one scratch canvas holds (64 windows): Han, marks with no advance, overhang, boxes.
    from pixel.render.glyph_cache import GlyphCache

    backend = make_renderer().backend
    text = CHARS + "JjїλѸ\u0b3f\u0b41\u0816\U0010fffd" + "".join(chr(c) for c in range(0x4E00, 0x4E00 + 120))
    code_points = np.frombuffer(text.encode("utf-32-le"), np.uint32)
    together, alone = GlyphCache(backend, 16), GlyphCache(backend, 16)
    a = together.lookup(code_points)
    b = np.array([alone.lookup(code_points[i : i + 1])[0] for i in range(len(code_points))])
    assert len(together) == len(set(text)) > 64
    for name in ("width", "unknown", "direct", "ink_left", "ink_columns"):
        assert np.array_equal(getattr(together, name)[a], getattr(alone, name)[b]), name
    for i, j in zip(a.tolist(), b.tolist(), strict=True):
        n = int(together.ink_columns[i])
        x, y = int(together.atlas_start[i]), int(alone.atlas_start[j])
        assert np.array_equal(together.atlas[x : x + n], alone.atlas[y : y + n])
    assert together.direct[a].any() and together.unknown[a].any()  # the missing glyph is drawn directly
