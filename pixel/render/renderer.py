"""``PangoCairoTextRenderer``: text -> ``Encoding``, with the rendering strategy as a parameter.

The renderer is the public face: it holds a checked ``RendererConfig``, checks each call's input and keywords,
warns about missing glyphs, saves and loads itself (``RendererPersistence``), and hands the work to the engine
of its strategy (``pixel.render.engines``), built on first use.
"""

from __future__ import annotations

import inspect
import warnings
from pathlib import Path
from typing import Any, Generic, TypeVar, cast, overload

from pixel.render.config import RendererConfig, check_bool, check_int, reject_unknown
from pixel.render.encoding import Encoding
from pixel.render.engines import Engine, make_engine
from pixel.render.fonts import RenderSettings
from pixel.render.pango import PangoBackend
from pixel.render.persistence import RendererPersistence

T = TypeVar("T")
# Settings an engine follows without being rebuilt: they change no font, layout or cache.
_LIVE_SETTINGS = frozenset({"max_seq_length", "rgb"})


class Setting(Generic[T]):
    """A renderer attribute that reads its ``RendererConfig`` field; setting it replaces the config (checked)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, renderer: None, owner: type) -> Setting[T]: ...

    @overload
    def __get__(self, renderer: PangoCairoTextRenderer, owner: type) -> T: ...

    def __get__(self, renderer: PangoCairoTextRenderer | None, owner: type) -> Setting[T] | T:
        if renderer is None:
            return self
        return cast("T", getattr(renderer.config, self.name))

    def __set__(self, renderer: PangoCairoTextRenderer, value: T) -> None:
        renderer.configure(**{self.name: value})


class PangoCairoTextRenderer(RendererPersistence):
    """Renders text to a ``P``-pixel-high strip of ``P x P`` patches with Pango/cairo.

    ``rendering_strategy`` is one of ``bigrams`` (published PIXEL-M4, the default), ``continuous`` (published
    PIXEL), ``words``, ``mono`` and ``grapheme_bigrams``. With no ``font_file``, ``bigrams`` and ``continuous``
    draw with GoNotoCurrent, the published main font, once ``pixel fonts --install`` has put it in place (else
    with Noto Sans and one warning), the other strategies with Noto Sans; every Debian Noto font is a fallback.
    ``max_seq_length`` and ``rgb`` may be changed after construction. ``font_color``, ``background_color`` and
    ``pad_size`` are the published constructor's (kept in released configs) and, as there, unused.
    ``left_padding`` (``continuous`` only) is where text starts: 0 px in PIXEL-M4's copy of the PIXEL renderer
    (default), 2 px in the original PIXEL repository.

    Every setting is checked where it is set (here, as an attribute, or from a config), with an error naming
    it, its value and what is allowed (``check_setting``); unknown keywords are a ``TypeError``. Limits:
    ``max_seq_length`` up to ``max_strip_patches(pixels_per_patch)`` (2041 patches of 16 px: cairo's widest
    image is 32,767 px), a font of 1 to 1,024 px (``font_size * dpi / 72``), patches of 2 to 256 px.
    """

    font_file = Setting[str]()
    fallback_dirs = Setting["tuple[Path, ...]"]()
    font_size = Setting[float]()
    dpi = Setting[int]()
    pixels_per_patch = Setting[int]()
    max_seq_length = Setting[int]()
    rgb = Setting[bool]()
    rendering_strategy = Setting[str]()
    language = Setting[str]()
    render_settings = Setting[RenderSettings]()
    use_cache = Setting[bool]()
    cache_megabytes = Setting[float]()
    left_padding = Setting[int]()

    def __init__(
        self,
        font_file: str | Path | None = None,
        font_size: float = 8,
        dpi: int = 120,
        pixels_per_patch: int = 16,
        max_seq_length: int = 529,
        rgb: bool = False,
        fallback_fonts_dir: str | Path | list[str] | None = None,
        rendering_strategy: str = "bigrams",
        language: str = "c",
        render_settings: RenderSettings | dict | None = None,
        use_cache: bool = True,
        cache_megabytes: float = 64.0,
        left_padding: int = 0,
        font_color: str = "black",
        background_color: str = "white",
        pad_size: int = 3,
        **unknown: Any,
    ) -> None:
        reject_unknown(type(self).__name__, unknown, _INIT_PARAMETERS)
        # ``use_cache=False``: the reference path, doing the published renderer's work (a layout per run)
        # throughout; ``continuous`` always lays out whole sentences, as published.
        self.config = RendererConfig.resolve(
            font_file,
            fallback_fonts_dir,
            render_settings,
            font_size=font_size,
            dpi=dpi,
            pixels_per_patch=pixels_per_patch,
            max_seq_length=max_seq_length,
            rgb=rgb,
            rendering_strategy=rendering_strategy,
            language=language,
            use_cache=use_cache,
            cache_megabytes=cache_megabytes,
            left_padding=left_padding,
        )
        self._engine: Engine | None = None

    def configure(self, **changes: Any) -> None:
        """Change settings (checked, as a new ``RendererConfig``); ``renderer.max_seq_length = n`` calls this.

        ``max_seq_length`` and ``rgb`` apply to the engine as it is; any other change gives a fresh engine
        (fonts and caches built again on first use). Fonts resolved at construction are kept.
        """
        config = self.config.replace(**changes)
        if self._engine is not None and _LIVE_SETTINGS.issuperset(changes):
            self._engine.config = config
        else:
            self._engine = None
        self.config = config

    @property
    def engine(self) -> Engine:
        """The engine of the strategy (``make_engine``), built on first use; never pickled."""
        if self._engine is None:
            self._engine = make_engine(self.config)
        return self._engine

    @property
    def backend(self) -> PangoBackend:
        """The Pango backend the engine measures and draws with."""
        return self.engine.backend

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_engine": None}

    def __repr__(self) -> str:
        config = self.config
        return (
            f"{type(self).__name__}(rendering_strategy={config.rendering_strategy!r}, "
            f"font_file={Path(config.font_file).name!r}, max_seq_length={config.max_seq_length}, "
            f"pixels_per_patch={config.pixels_per_patch}, rgb={config.rgb})"
        )

    # -- public entry point ---------------------------------------------------------------------------------
    def __call__(
        self,
        text: str | tuple[str, str] | list[str],
        max_length: int | None = None,
        rtl: bool = False,
        text_a_max_length: int | None = None,
        stride: int = 0,
        return_overflowing_patches: bool = False,
        return_offset_mapping: bool = False,
        pixel_shift: int = 0,
        **unknown: Any,
    ) -> Encoding:
        """Render ``text``: a sentence, a ``(text_a, text_b)`` pair or a list of pre-tokenised words.

        ``max_length`` (patches, at most ``max_seq_length``) cuts str and word-list input (patch-aligned
        strategies); ``rtl`` forces right-to-left; ``text_a_max_length``, ``stride`` and
        ``return_overflowing_patches`` are for pairs (QA windows); ``return_offset_mapping`` (str and pairs) and
        ``pixel_shift`` (str) are for ``continuous``, as published. Keywords an input does not use are ignored
        with a warning; unknown keywords and bad values raise.
        """
        if unknown:
            reject_unknown("renderer(...)", unknown, _CALL_KEYWORDS)
        kind = _input_kind(text)
        values = (
            max_length,
            rtl,
            text_a_max_length,
            stride,
            return_overflowing_patches,
            return_offset_mapping,
            pixel_shift,
        )
        if values != _CALL_DEFAULT_VALUES:  # (the common call, all defaults, needs no checks)
            self._check_call(kind, dict(zip(_CALL_DEFAULTS, values, strict=True)))
        engine = self.engine
        if kind == "pair":
            assert isinstance(text, tuple)  # (narrowing: ``_input_kind`` checked it)
            encoding = engine.pair(
                text, text_a_max_length, rtl, stride, return_overflowing_patches, return_offset_mapping
            )
        elif kind == "list":
            assert isinstance(text, list)
            encoding = engine.words(list(text), max_length, rtl)
        else:
            assert isinstance(text, str)
            encoding = engine.text(text, max_length, rtl, pixel_shift, return_offset_mapping)
        if encoding.num_missing_glyphs:
            _warn_missing(encoding.num_missing_glyphs, text)
        return encoding

    def _check_call(self, kind: str, arguments: dict[str, Any]) -> None:
        """Check the keyword values of a call; warn about those that ``kind`` of input does not use."""
        L, P = self.max_seq_length, self.pixels_per_patch
        if arguments["max_length"] is not None:
            check_int("max_length", arguments["max_length"], 1, L, f"patches, at most max_seq_length={L}")
        if arguments["text_a_max_length"] is not None:
            check_int("text_a_max_length", arguments["text_a_max_length"], 1, None, "patches of text_a")
        check_int("stride", arguments["stride"], 0, L - 1, "patches the QA windows overlap by")
        check_int("pixel_shift", arguments["pixel_shift"], 1 - P, P - 1, "pixels the text moves left")
        for name in ("rtl", "return_overflowing_patches", "return_offset_mapping"):
            check_bool(name, arguments[name])
        used = self.engine.used_keywords[kind]
        ignored = [f"{k}={v!r}" for k, v in arguments.items() if k not in used and v != _CALL_DEFAULTS[k]]
        if ignored:
            warnings.warn(
                f"{', '.join(ignored)}: not used for {kind} input with the {self.rendering_strategy} strategy "
                "(ignored, as the published renderer did)",
                stacklevel=3,
            )

    def uses(self, keyword: str, kind: str = "str") -> bool:
        """Whether the strategy uses call keyword ``keyword`` for ``kind`` of input (``"str"``, ``"list"`` of
        words or ``"pair"``): ``renderer.uses("return_offset_mapping")`` is True for ``continuous`` only."""
        if kind not in ("str", "list", "pair"):
            raise ValueError(f"kind={kind!r} must be 'str', 'list' or 'pair'")
        reject_unknown("renderer.uses", [keyword], _CALL_DEFAULTS)
        return keyword in self.engine.used_keywords[kind]

    def render_text(self, text: str, max_length: int | None = None, rtl: bool = False) -> Encoding:
        """A sentence: split on whitespace (never drawn); RTL text is drawn in reversed word order.

        ``continuous`` draws the whole text as one run and ignores ``max_length`` and ``rtl``, as published.
        """
        return self(text, max_length=max_length, rtl=rtl)

    def render_words(self, words: list[str], max_length: int | None = None, rtl: bool = False) -> Encoding:
        """Pre-tokenised words, used as given; RTL only reverses characters inside blocks, not the word order."""
        return self(list(words), max_length=max_length, rtl=rtl)

    def render_pair(
        self,
        pair: tuple[str, str],
        text_a_max_length: int | None = None,
        rtl: bool = False,
        stride: int = 0,
        return_overflowing_patches: bool = False,
    ) -> Encoding:
        """text_a, a black separator patch, text_b, the black EOS patch; text_b overflow as extra Encodings."""
        return self(
            cast("tuple[str, str]", tuple(pair)),  # any other length is refused by ``_input_kind``
            text_a_max_length=text_a_max_length,
            rtl=rtl,
            stride=stride,
            return_overflowing_patches=return_overflowing_patches,
        )

    def render_batch(self, texts: list[str]) -> list[Encoding]:
        """``[self(text) for text in texts]``, the same Encodings, with the per-strip fixed costs shared where
        the engine can (``bigrams`` with the cache on: new words measured at once, new strips composited
        together); inputs other than str are rendered one by one."""
        if not all(isinstance(text, str) for text in texts):
            return [self(text) for text in texts]
        encodings = self.engine.batch(list(texts))
        for text, encoding in zip(texts, encodings, strict=True):
            if encoding.num_missing_glyphs:
                _warn_missing(encoding.num_missing_glyphs, text)
        return encodings


def _warn_missing(missing: int, text: str | tuple[str, str] | list[str]) -> None:
    sample = " ".join(text)[:60] if not isinstance(text, str) else text[:60]
    warnings.warn(f"{missing} glyph(s) missing from every font while rendering {sample!r}", stacklevel=3)


def _input_kind(text: Any) -> str:
    """``"str"``, ``"pair"`` or ``"list"`` (of words); ``TypeError`` for anything else."""
    if isinstance(text, str):
        return "str"
    if isinstance(text, tuple) and len(text) == 2 and all(isinstance(t, str) for t in text):
        return "pair"
    if isinstance(text, list) and all(isinstance(w, str) for w in text):
        return "list"
    detail = type(text).__name__
    if isinstance(text, list | tuple):
        detail += f" of {len(text)}: " + ", ".join(sorted({type(t).__name__ for t in text}))
    raise TypeError(f"renderer input must be str, a (str, str) pair or a list[str] of words, got {detail}")


_INIT_PARAMETERS = tuple(inspect.signature(PangoCairoTextRenderer.__init__).parameters)[1:-1]
_CALL_DEFAULTS = {
    name: parameter.default
    for name, parameter in inspect.signature(PangoCairoTextRenderer.__call__).parameters.items()
    if parameter.default is not inspect.Parameter.empty
}
_CALL_DEFAULT_VALUES = tuple(_CALL_DEFAULTS.values())
_CALL_KEYWORDS = ("text", *_CALL_DEFAULTS)
