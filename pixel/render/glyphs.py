"""Inspecting shaped glyphs: how many U+25CC dotted circles HarfBuzz inserted into a laid-out run.

HarfBuzz inserts the font's own U+25CC glyph before a combining mark that has no base (a "broken cluster").
We walk the runs of the Pango layout and compare each glyph id with the id the run's font maps U+25CC to. If the
text itself contains U+25CC those are subtracted, so only inserted circles are counted. The structs are Pango's
public ones (``PangoItem``, ``PangoAnalysis``, ``PangoGlyphString``), which pangocffi declares opaque.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache

import cffi
import pangocffi

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
    """
)
_pango = pangocffi.pango
_pffi = pangocffi.ffi


@cache
def _harfbuzz() -> ctypes.CDLL:
    lib = ctypes.CDLL(ctypes.util.find_library("harfbuzz") or "libharfbuzz.so.0")
    lib.hb_font_get_nominal_glyph.argtypes = [
        ctypes.c_void_p,
        ctypes.c_uint32,
        ctypes.POINTER(ctypes.c_uint32),
    ]
    lib.hb_font_get_nominal_glyph.restype = ctypes.c_int
    return lib


def _dotted_circle_glyph(font_address: int) -> int | None:
    hb_font = _pango.pango_font_get_hb_font(_pffi.cast("PangoFont *", font_address))
    glyph = ctypes.c_uint32()
    found = _harfbuzz().hb_font_get_nominal_glyph(int(_pffi.cast("uintptr_t", hb_font)), DOTTED_CIRCLE, glyph)
    return glyph.value if found else None


def inserted_dotted_circles(backend: PangoBackend, text: str) -> int:
    """Dotted circles HarfBuzz added when shaping ``text`` as one Pango layout."""
    backend.set_text(text)
    it = _pango.pango_layout_get_iter(backend.layout_pointer)
    count = 0
    try:
        while True:
            run = _pango.pango_layout_iter_get_run_readonly(it)
            if run != _pffi.NULL:
                item = _ffi.cast("GlyphItem *", int(_pffi.cast("uintptr_t", run)))
                font = int(_ffi.cast("uintptr_t", item.item.analysis.font))
                circle = _dotted_circle_glyph(font) if font else None
                glyphs = item.glyphs
                if circle is not None:
                    count += sum(glyphs.glyphs[i].glyph == circle for i in range(glyphs.num_glyphs))
            if not _pango.pango_layout_iter_next_run(it):
                break
    finally:
        _pango.pango_layout_iter_free(it)
    return max(0, count - text.count(chr(DOTTED_CIRCLE)))
