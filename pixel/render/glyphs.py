"""Inspecting shaped glyphs: how many U+25CC dotted circles HarfBuzz inserted into a laid-out run.

HarfBuzz inserts the font's own U+25CC glyph before a combining mark that has no base (a "broken cluster").
We walk the runs of the Pango layout and compare each glyph id with the id the run's font maps U+25CC to. If the
text itself contains U+25CC those are subtracted, so only inserted circles are counted. The structs are Pango's
public ones (``PangoItem``, ``PangoAnalysis``, ``PangoGlyphString``), which pangocffi declares opaque.
``DottedCircles`` memoises the count per run for the renderer (``Encoding.num_inserted_dotted_circles``).
"""

from __future__ import annotations

import ctypes.util
from collections.abc import Iterable
from functools import cache

import cffi
import numpy as np
import pangocffi
import regex

from pixel.render.pango import PangoBackend

DOTTED_CIRCLE = 0x25CC

_ffi = cffi.FFI()
_ffi.cdef(
    """
    typedef struct { int width; int x_offset; int y_offset; } Geometry;
    typedef struct { uint32_t glyph; Geometry geometry; unsigned int attr; } GlyphInfo;
    typedef struct { int num_glyphs; GlyphInfo *glyphs; int *log_clusters; } GlyphString;
    typedef struct {
        void *shape_engine; void *lang_engine; void *font;
        uint8_t level; uint8_t gravity; uint8_t flags; uint8_t script;
        void *language; void *extra_attrs;
    } Analysis;
    typedef struct { int offset; int length; int num_chars; Analysis analysis; } Item;
    typedef struct { Item *item; GlyphString *glyphs; } GlyphItem;
    typedef struct _GSList { void *data; struct _GSList *next; } GSList;
    typedef struct { void *layout; int start_index; int length; GSList *runs; } LayoutLine;
    int hb_font_get_nominal_glyph(void *font, uint32_t unicode, uint32_t *glyph);
    """
)
_GLYPH_INFO_SIZE = _ffi.sizeof("GlyphInfo")
# A mark, or a character of a script HarfBuzz shapes by syllables (Indic, Khmer, Myanmar, USE, Thai, ...). The
# scripts left out (Latin, Greek, Cyrillic, CJK, Arabic, Hebrew, Common) go through shapers that insert a circle
# only before a mark, so text without a match is never shaped again just to count (checked on every code point
# the Noto fonts cover: the 12 non-marks that get a circle alone are all Brahmic).
_MAY_NEED_A_BASE = regex.compile(
    r"[\p{M}[^\p{Latn}\p{Grek}\p{Cyrl}\p{Hani}\p{Hira}\p{Kana}\p{Hang}\p{Arab}\p{Hebr}\p{Zyyy}]]", regex.V1
)
_pango = pangocffi.pango
_pffi = pangocffi.ffi


def may_need_a_base(text: str) -> bool:
    """Whether shaping ``text`` can insert a dotted circle: it holds a mark or a letter of a script HarfBuzz
    shapes by syllables (every other code point, shaped alone, gets none; tested over all of Unicode)."""
    return _MAY_NEED_A_BASE.search(text) is not None


@cache
def _harfbuzz():
    return _ffi.dlopen(ctypes.util.find_library("harfbuzz") or "libharfbuzz.so.0")


def _dotted_circle_glyph(font: object) -> int | None:
    """The glyph id ``font`` (a ``void *`` to a ``PangoFont``) maps U+25CC to, if it has one."""
    hb_font = _pango.pango_font_get_hb_font(_pffi.cast("PangoFont *", int(_ffi.cast("uintptr_t", font))))
    glyph = _ffi.new("uint32_t *")
    found = _harfbuzz().hb_font_get_nominal_glyph(
        _ffi.cast("void *", int(_pffi.cast("uintptr_t", hb_font))), DOTTED_CIRCLE, glyph
    )
    return glyph[0] if found else None


def layout_dotted_circles(layout) -> int:
    """U+25CC glyphs in a shaped Pango layout, each run checked against its own font's U+25CC glyph id."""
    count = 0
    lines = _ffi.cast(
        "GSList *", int(_pffi.cast("uintptr_t", _pango.pango_layout_get_lines_readonly(layout)))
    )
    while lines != _ffi.NULL:
        runs = _ffi.cast("LayoutLine *", lines.data).runs
        while runs != _ffi.NULL:
            run = _ffi.cast("GlyphItem *", runs.data)
            font = run.item.analysis.font
            circle = _dotted_circle_glyph(font) if font != _ffi.NULL else None
            glyphs = run.glyphs
            if circle is not None and glyphs.num_glyphs:
                infos = _ffi.buffer(glyphs.glyphs, glyphs.num_glyphs * _GLYPH_INFO_SIZE)
                ids = np.frombuffer(infos, np.uint32).reshape(glyphs.num_glyphs, -1)[:, 0]
                count += int(np.count_nonzero(ids == circle))
            runs = runs.next
        lines = lines.next
    return count


def inserted_dotted_circles(backend: PangoBackend, text: str) -> int:
    """Dotted circles HarfBuzz added when shaping ``text`` as one Pango layout."""
    backend.set_text(text)
    return max(0, layout_dotted_circles(backend.layout_pointer) - text.count(chr(DOTTED_CIRCLE)))


class DottedCircles:
    """Inserted dotted circles per run, memoised: a run is shaped once more when first counted, then looked up.

    (``bigrams`` counts each code point once, in its glyph cache.) The memo is emptied when it holds
    ``max_entries`` runs (counts never change).
    """

    def __init__(self, backend: PangoBackend, max_entries: int = 200_000) -> None:
        self.backend, self.max_entries = backend, max_entries
        self._runs: dict[str, int] = {}

    def run(self, text: str) -> int:
        found = self._runs.get(text)
        if found is None:
            if len(self._runs) >= self.max_entries:
                self._runs.clear()
            found = inserted_dotted_circles(self.backend, text) if may_need_a_base(text) else 0
            self._runs[text] = found
        return found

    def runs(self, texts: Iterable[str]) -> int:
        return sum(map(self.run, texts))
