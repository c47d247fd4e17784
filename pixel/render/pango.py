"""The Pango/cairo backend: one font map per renderer, one reusable layout, measuring and drawing text runs.

Everything goes through the C functions that ``pangocffi`` / ``pangocairocffi`` / ``cairocffi`` expose
(``cairocffi`` documents ``Context._pointer`` as its CFFI-level API). No global Pango state is touched: the font
map is private to the backend and bound to the renderer's isolated fontconfig configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cairocffi
import numpy as np
import pangocairocffi
import pangocffi

from pixel.render.fonts import RenderSettings, bind_font_map, family_name, isolated_config

_pango = pangocffi.pango
_pangocairo = pangocairocffi.pangocairo
_ffi = pangocffi.ffi

PANGO_DIRECTION_RTL = 1
PANGO_ALIGN_RIGHT = 2

# cairo's largest image surface side, in pixels (wider surfaces fail with CAIRO_STATUS_INVALID_SIZE).
CAIRO_MAX_WIDTH = 32767
# Pango places glyphs at 32-bit positions in 1/1024 px, so a layout wider than 2**31 / 1024 px (~2.1 million)
# wraps around: its width comes back wrong and glyphs land at wrapped positions. Runs whose width, measured in
# pieces, comes within 64 Ki px of that are cut to a prefix at least ``_CUT_WIDTH`` wide: twice the widest
# strip, so left-to-right text is cut beyond the strip, and the layout reports the text truncated.
PANGO_MAX_WIDTH = 2**31 // 1024 - 2**16
_CUT_WIDTH = 2 * (CAIRO_MAX_WIDTH + 1)
# A bound on one character's advance, in em, that sizes the measuring pieces (each stays below 2**20 px).
_MAX_ADVANCE_EM = 16


@dataclass(frozen=True, slots=True)
class Extent:
    """Logical pixel size of one text run and the number of glyphs no font could supply."""

    width: int
    height: int
    unknown_glyphs: int


def clean_text(text: str) -> str:
    """Lone surrogates cannot be UTF-8 encoded; draw them as U+FFFD instead of failing."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def is_rtl_char(char: str) -> bool:
    return _pango.pango_unichar_direction(ord(char)) == PANGO_DIRECTION_RTL


class PangoBackend:
    """Measures and draws runs of text, each run as its own Pango layout (no shaping across runs)."""

    def __init__(
        self,
        font_file: Path,
        fallback_dirs: tuple[Path, ...],
        font_size: float,
        dpi: int,
        language: str,
        settings: RenderSettings,
        max_cached_extents: int = 200_000,
        lift: float = 2,
    ) -> None:
        config = isolated_config(str(font_file), tuple(map(str, fallback_dirs)), settings)
        font_map = _ffi.gc(_pangocairo.pango_cairo_font_map_new(), _pango.g_object_unref)
        bind_font_map(int(_ffi.cast("uintptr_t", font_map)), config)
        context = _ffi.gc(_pango.pango_font_map_create_context(font_map), _pango.g_object_unref)
        # Image surfaces switch on metric hinting and rounded glyph positions; the published renderer got them
        # through pango_cairo_create_layout(cr), we copy them from a scratch image surface once.
        scratch = cairocffi.Context(cairocffi.ImageSurface(cairocffi.FORMAT_A8, 16, 16))
        _pangocairo.pango_cairo_update_context(scratch._pointer, context)
        _pango.pango_context_set_language(context, _pango.pango_language_from_string(language.encode()))
        # "<family> 13.333333333333334px", exactly the string the published renderer hands to Pango.
        description = f"{family_name(font_file)} {font_size * dpi / 72}px"
        self.font_description = description
        self._description = _ffi.gc(
            _pango.pango_font_description_from_string(description.encode()),
            _pango.pango_font_description_free,
        )
        self._font_map, self._context = font_map, context
        self._layout = _ffi.gc(_pango.pango_layout_new(context), _pango.g_object_unref)
        _pango.pango_layout_set_font_description(self._layout, self._description)
        self._probe = None  # a layout for measuring long runs in pieces (``fit``)
        self._piece_chars = max(1, int(2**20 / (_MAX_ADVANCE_EM * font_size * dpi / 72)))
        self._text: str | None = None  # what the reusable layout holds
        self._size = _ffi.new("int[2]")
        self._rect = _ffi.new("PangoRectangle *")
        self._sentence_layouts: dict[tuple[bool, bool], object] = {}
        self._rtl_context = None
        self._extents: dict[str, Extent] = {}
        self._max_cached_extents = max_cached_extents
        self.lift = lift

    def _set_text(self, text: str) -> None:
        if text == self._text:  # the layout already holds it (measured, then drawn): no second layout pass
            return
        # Length -1 like the published renderer: text after an embedded NUL is not drawn.
        _pango.pango_layout_set_text(self._layout, clean_text(self.fit(text)).encode("utf-8"), -1)
        self._text = text

    def fit(self, text: str) -> str:
        """``text``, or, when its layout would exceed Pango's coordinate range (``PANGO_MAX_WIDTH`` px), the
        prefix of it that first spans ``_CUT_WIDTH`` px (twice the widest strip: left-to-right text is cut beyond
        it; a right-to-left paragraph shows the end of the prefix).

        Short texts (no character is wider than 16 em) are returned at once; longer ones are measured in
        pieces, so texts that fit are laid out exactly as before.
        """
        n = self._piece_chars
        if len(text) <= n:
            return text
        drawn = text.partition("\0")[0]  # (Pango draws nothing after a NUL)
        if len(drawn) <= n:
            return text
        if self._probe is None:
            self._probe = _ffi.gc(_pango.pango_layout_new(self._context), _pango.g_object_unref)
            _pango.pango_layout_set_font_description(self._probe, self._description)
        widths = []
        for lo in range(0, len(drawn), n):
            piece = clean_text(drawn[lo : lo + n]).encode("utf-8")
            _pango.pango_layout_set_text(self._probe, piece, len(piece))
            _pango.pango_layout_get_pixel_size(self._probe, self._size, self._size + 1)
            widths.append(self._size[0])
        if sum(widths) < PANGO_MAX_WIDTH:
            return text
        reach = np.cumsum(widths)
        return drawn[: (int(np.searchsorted(reach, _CUT_WIDTH)) + 1) * n]

    def extent(self, text: str) -> Extent:
        """Logical pixel width/height of ``text`` laid out on its own (cached)."""
        found = self._extents.get(text)
        if found is not None:
            return found
        self._set_text(text)
        _pango.pango_layout_get_pixel_size(self._layout, self._size, self._size + 1)
        found = Extent(
            self._size[0], self._size[1], _pango.pango_layout_get_unknown_glyphs_count(self._layout)
        )
        if len(self._extents) >= self._max_cached_extents:
            self._extents.clear()
        self._extents[text] = found
        return found

    def draw(self, cairo_context: cairocffi.Context, text: str, x: float, patch_height: int) -> Extent:
        """Draw ``text`` with its layout's left edge at ``x``, vertically placed as the published renderer does.

        Quirk (published): the layout is drawn at y = P/2 - h/2 - 2 (``lift`` = 2), so glyph boxes sit slightly
        high and marks above the letters are clipped by the P-pixel canvas. The new strategies use ``lift`` = 0.
        """
        extent = self.extent(text)
        self._set_text(text)
        cairo_context.move_to(x, patch_height / 2 - extent.height / 2 - self.lift)
        _pangocairo.pango_cairo_show_layout(cairo_context._pointer, self._layout)
        return extent

    # -- whole-sentence layouts (the published continuous renderer) ------------------------------------------------
    def sentence_layout(self, rtl: bool, probe: bool = False):
        """A reusable layout for one whole sentence, set up as the published continuous renderer sets its own.

        Left-to-right: Pango's defaults (automatic base direction, left alignment). ``rtl``: base direction RTL,
        automatic direction off, right alignment. ``probe`` (with ``rtl``): the layouts of the published truncation
        search, made on the RTL context but with Pango's defaults otherwise.
        """
        key = (rtl, probe and rtl)
        layout = self._sentence_layouts.get(key)
        if layout is None:
            context = self._context
            if rtl:
                context = self._rtl_context
                if context is None:
                    context = _ffi.gc(
                        _pango.pango_font_map_create_context(self._font_map), _pango.g_object_unref
                    )
                    scratch = cairocffi.Context(cairocffi.ImageSurface(cairocffi.FORMAT_A8, 16, 16))
                    _pangocairo.pango_cairo_update_context(scratch._pointer, context)
                    _pango.pango_context_set_language(
                        context, _pango.pango_context_get_language(self._context)
                    )
                    _pango.pango_context_set_base_dir(context, PANGO_DIRECTION_RTL)
                    self._rtl_context = context
            layout = _ffi.gc(_pango.pango_layout_new(context), _pango.g_object_unref)
            _pango.pango_layout_set_font_description(layout, self._description)
            if rtl and not probe:
                _pango.pango_layout_set_auto_dir(layout, False)
                _pango.pango_layout_set_alignment(layout, PANGO_ALIGN_RIGHT)
            self._sentence_layouts[key] = layout
        return layout

    def set_layout_text(self, layout, text: str) -> tuple[int, int]:
        """Give ``layout`` the text (``fit`` to Pango's range); its logical pixel (width, height)."""
        _pango.pango_layout_set_text(layout, clean_text(self.fit(text)).encode("utf-8"), -1)
        _pango.pango_layout_get_pixel_size(layout, self._size, self._size + 1)
        return self._size[0], self._size[1]

    def unknown_glyphs(self, layout) -> int:
        return _pango.pango_layout_get_unknown_glyphs_count(layout)

    @staticmethod
    def show(cairo_context: cairocffi.Context, layout, x: float, y: float) -> None:
        cairo_context.move_to(x, y)
        _pangocairo.pango_cairo_show_layout(cairo_context._pointer, layout)

    @staticmethod
    def layout_text(layout) -> str:
        return _ffi.string(_pango.pango_layout_get_text(layout)).decode("utf-8")

    @staticmethod
    def logical_x(layout, clusters: bool) -> list[float]:
        """Left logical x (pixels, fractional) of every character (or grapheme cluster) in layout order."""
        rect = _ffi.new("PangoRectangle *")
        it = _ffi.gc(_pango.pango_layout_get_iter(layout), _pango.pango_layout_iter_free)
        out = []
        while True:
            if clusters:
                _pango.pango_layout_iter_get_cluster_extents(it, _ffi.NULL, rect)
            else:
                _pango.pango_layout_iter_get_char_extents(it, rect)
            out.append(rect.x / 1024)
            step = _pango.pango_layout_iter_next_cluster if clusters else _pango.pango_layout_iter_next_char
            if not step(it):
                return out

    @property
    def layout_pointer(self):
        """The reusable layout (for callers that inspect runs and glyphs); valid until the next call."""
        return self._layout

    def set_text(self, text: str) -> None:
        self._set_text(text)


def new_canvas(width: int, height: int, rgb: bool) -> tuple[cairocffi.ImageSurface, cairocffi.Context]:
    """A blank strip: A8 coverage (grayscale mode) or white RGB24 with a black source (RGB mode)."""
    if not 0 < width <= CAIRO_MAX_WIDTH or not 0 < height <= CAIRO_MAX_WIDTH:
        raise ValueError(
            f"a {width} x {height} px image exceeds cairo's limit of {CAIRO_MAX_WIDTH} px a side"
        )
    surface = cairocffi.ImageSurface(cairocffi.FORMAT_RGB24 if rgb else cairocffi.FORMAT_A8, width, height)
    context = cairocffi.Context(surface)
    if rgb:
        context.set_source_rgb(1, 1, 1)
        context.paint()
        context.set_source_rgb(0, 0, 0)
    return surface, context


def surface_to_array(surface: cairocffi.ImageSurface, rgb: bool) -> np.ndarray:
    """``uint8 [H, W]`` (white background, dark ink) or ``[H, W, 3]`` RGB, as the published renderer returns."""
    surface.flush()
    height, width, stride = surface.get_height(), surface.get_width(), surface.get_stride()
    data = np.frombuffer(surface.get_data(), dtype=np.uint8)
    if rgb:
        return data.reshape(height, stride // 4, 4)[:, :width, 2::-1].copy()  # BGRx -> RGB
    return np.invert(data.reshape(height, stride)[:, :width])


def surface_coverage(surface: cairocffi.ImageSurface) -> np.ndarray:
    """Raw A8 coverage ``uint8 [H, W]`` (0 = no ink), for the block cache."""
    surface.flush()
    height, width, stride = surface.get_height(), surface.get_width(), surface.get_stride()
    return np.frombuffer(surface.get_data(), dtype=np.uint8).reshape(height, stride)[:, :width].copy()
