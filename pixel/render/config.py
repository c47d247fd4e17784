"""The renderer's settings: ``RendererConfig``, a frozen dataclass that checks every field when it is made.

A renderer holds one ``RendererConfig``; setting ``renderer.max_seq_length = n`` (as finetuning does) makes a new
one (``dataclasses.replace``), so a setting is checked wherever it is set, with an error that names it, its
value and what is allowed. ``RendererConfig.resolve`` fills in the defaults that depend on the strategy (fonts,
fallback order).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pixel.render.compose import max_strip_patches
from pixel.render.fonts import SCRIPT_FONT_PREFERENCES, RenderSettings, default_fonts
from pixel.render.strategies import STRATEGIES, Strategy

# The font's size in pixels (``font_size * dpi / 72``): below 1 px glyphs vanish, above 1,024 px a glyph is 64
# times a 16-px patch (and Pango's 1/1024-px units get close to overflowing).
FONT_PIXELS = (1, 1024)
# Patch sizes: ``mono`` needs two cells of at least 1 px; a strip of 256-px patches holds 121 of them (and
# costs 8 MB), larger ones make the caches' scratch images and tile stores huge for no model.
PATCH_PIXELS = (2, 256)
_RENDER_SETTINGS_CHOICES = {
    "hintstyle": ("hintnone", "hintslight", "hintmedium", "hintfull"),
    "lcdfilter": ("lcdnone", "lcddefault", "lcdlight", "lcdlegacy"),
}


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def reject_unknown(where: str, given: Iterable[str], accepted: Iterable[str]) -> None:
    """``TypeError`` naming every keyword of ``given`` not in ``accepted``, each with a suggestion."""
    accepted = list(accepted)
    unknown = [name for name in given if name not in accepted]
    if unknown:
        names = ", ".join(f"{name!r}{did_you_mean(name, accepted)}" for name in unknown)
        raise TypeError(
            f"{where} got unexpected keyword argument{'s' * (len(unknown) > 1)} {names}; "
            f"it accepts {', '.join(accepted)}"
        )


def check_int(name: str, value: Any, low: int, high: int | None, unit: str) -> int:
    """``value`` as an int in ``[low, high]``; else ``TypeError`` (not an integer) or ``ValueError`` (range)."""
    allowed = f"an integer from {low} to {high}" if high is not None else f"an integer >= {low}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}={value!r} must be {allowed} ({unit}), not {type(value).__name__}")
    number = int(value)
    if number < low or (high is not None and number > high):
        raise ValueError(f"{name}={value!r} is out of range: it must be {allowed} ({unit})")
    return number


def check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name}={value!r} must be True or False, not {type(value).__name__}")
    return bool(value)


def _check_number(name: str, value: Any, unit: str) -> numbers.Real:
    """``value`` itself (an int stays an int, as saved configs record it), checked to be a finite number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise TypeError(f"{name}={value!r} must be a finite number ({unit}), not {type(value).__name__}")
    return value


def _check_font_pixels(font_size: float, dpi: int) -> None:
    pixels = font_size * dpi / 72
    low, high = FONT_PIXELS
    if not low <= pixels <= high:
        raise ValueError(
            f"font_size={font_size!r} at dpi={dpi!r} is a {pixels:.4g}-px font: font_size * dpi / 72 must be "
            f"from {low} to {high} px (the published renderer: font_size=8, dpi=120, 13.3 px)"
        )


def _check_render_settings(value: Any) -> RenderSettings | None:
    if value is None or isinstance(value, RenderSettings):
        return value
    if not isinstance(value, Mapping):
        raise TypeError(f"render_settings={value!r} must be a RenderSettings, a dict of its fields or None")
    fields = [f.name for f in dataclasses.fields(RenderSettings)]
    reject_unknown("render_settings", value, fields)
    for key, choices in _RENDER_SETTINGS_CHOICES.items():
        if key in value and value[key] not in choices:
            raise ValueError(f"render_settings {key}={value[key]!r} must be one of {', '.join(choices)}")
    for key in ("antialias", "hinting"):
        if key in value:
            check_bool(f"render_settings {key}", value[key])
    preferred = value.get("preferred_fallbacks", ())
    if isinstance(preferred, str) or not all(isinstance(f, str) for f in preferred):
        raise TypeError(
            f"render_settings preferred_fallbacks={preferred!r} must be a list of font family names"
        )
    return RenderSettings.from_dict(value)


def check_setting(name: str, value: Any, current: Mapping[str, Any]) -> Any:
    """A renderer setting checked (type and range) against those checked before it (``current``, in the order
    of ``SETTINGS``: ``dpi`` after ``font_size``, ``max_seq_length`` and ``left_padding`` after the patch size).

    Raises ``TypeError`` / ``ValueError`` naming the setting, the value and what is allowed.
    """
    P = current.get("pixels_per_patch")
    if name == "font_size":
        value = _check_number(name, value, "points; the published renderer uses 8")
        if value <= 0:
            raise ValueError(f"font_size={value!r} must be > 0 (points; the published renderer uses 8)")
    elif name == "dpi":
        value = check_int(name, value, 1, None, "dots per inch; the published renderer uses 120")
        if current.get("font_size") is not None:
            _check_font_pixels(current["font_size"], value)
    elif name == "pixels_per_patch":
        value = check_int(name, value, *PATCH_PIXELS, "pixels per patch side; PIXEL uses 16")
    elif name == "max_seq_length":
        high = max_strip_patches(P or 16)
        unit = f"patches of {P or 16} px: cairo draws images up to 32,767 px wide; PIXEL uses 529"
        value = check_int(name, value, 1, high, unit)
    elif name in ("rgb", "use_cache"):
        value = check_bool(name, value)
    elif name == "rendering_strategy":
        if value not in STRATEGIES:
            hint = did_you_mean(value, STRATEGIES) if isinstance(value, str) else ""
            raise ValueError(
                f"unknown rendering_strategy {value!r}{hint}; choose one of {', '.join(STRATEGIES)}"
            )
    elif name == "language":
        tag = "a language tag such as 'c' (the default, Pango's under a C locale), 'en' or 'zh-cn'"
        if not isinstance(value, str):
            raise TypeError(f"language={value!r} must be {tag}, not {type(value).__name__}")
        if not value or not value.isascii() or not value.isprintable() or " " in value:
            raise ValueError(f"language={value!r} must be {tag}")
    elif name == "cache_megabytes":
        value = _check_number(name, value, "megabytes of tile cache; default 64")
        if value < 0:
            raise ValueError(f"cache_megabytes={value!r} must be >= 0 (megabytes of tile cache; default 64)")
    elif name == "left_padding":
        value = check_int(name, value, 0, (P or 16) - 1, "pixels before the text inside the first patch")
    elif name == "render_settings":
        value = _check_render_settings(value)
    return value


@dataclass(frozen=True)
class RendererConfig:
    """Every setting that changes what a renderer draws, checked (``check_setting``) when made or replaced.

    ``font_file`` and ``fallback_dirs`` are resolved paths (``resolve`` picks the strategy's defaults);
    ``render_settings`` is a ``RenderSettings`` (a dict of its fields is accepted and converted).
    """

    font_file: str
    fallback_dirs: tuple[Path, ...] = ()
    font_size: float = 8
    dpi: int = 120
    pixels_per_patch: int = 16
    max_seq_length: int = 529
    rgb: bool = False
    rendering_strategy: str = "bigrams"
    language: str = "c"  # Pango's default language under a C / C.UTF-8 locale, as the published renderer ran
    render_settings: RenderSettings = field(default_factory=RenderSettings)
    use_cache: bool = True
    cache_megabytes: float = 64.0
    left_padding: int = 0

    def __post_init__(self) -> None:
        # In field order, so that each setting is checked against those it depends on.
        checked: dict[str, Any] = {}
        for name in SETTINGS:
            checked[name] = check_setting(name, getattr(self, name), checked)
            object.__setattr__(self, name, checked[name])
        if not isinstance(self.render_settings, RenderSettings):
            raise TypeError("render_settings=None: give a RenderSettings or a dict of its fields")
        object.__setattr__(self, "font_file", _check_font_file(self.font_file))
        object.__setattr__(self, "fallback_dirs", _check_fallback_dirs(self.fallback_dirs))

    @property
    def strategy(self) -> Strategy:
        return STRATEGIES[self.rendering_strategy]

    def replace(self, **changes: Any) -> RendererConfig:
        """A copy with ``changes``, checked; unknown names are a ``TypeError`` with a suggestion."""
        reject_unknown("RendererConfig", changes, [f.name for f in dataclasses.fields(self)])
        return dataclasses.replace(self, **changes)

    @classmethod
    def resolve(
        cls,
        font_file: str | Path | None = None,
        fallback_fonts_dir: str | Path | Iterable[str | Path] | None = None,
        render_settings: RenderSettings | Mapping[str, Any] | None = None,
        **settings: Any,
    ) -> RendererConfig:
        """A config with the strategy's defaults where nothing is given.

        No ``font_file``: the strategy's default main font and Debian's Noto folders as fallbacks
        (``default_fonts``); a given font has no fallbacks unless named. No ``render_settings``: the published
        strategies keep fontconfig's fallback order (pixels as published), the others with the default fonts
        prefer each script's own font (``SCRIPT_FONT_PREFERENCES``).
        """
        strategy = settings.get("rendering_strategy", "bigrams")
        check_setting("rendering_strategy", strategy, {})
        published = STRATEGIES[strategy].published
        given_dirs = _check_fallback_dirs(fallback_fonts_dir)
        if font_file is None:
            default_file, default_dirs = default_fonts(published)
            font, dirs = str(default_file), default_dirs if given_dirs is None else given_dirs
        else:
            font, dirs = _check_font_file(font_file), given_dirs or ()
        checked = check_setting("render_settings", render_settings, {})
        if checked is None:
            modern = font_file is None and not published
            checked = RenderSettings(preferred_fallbacks=SCRIPT_FONT_PREFERENCES if modern else ())
        return cls(font_file=font, fallback_dirs=dirs, render_settings=checked, **settings)


# Checked in this order (``RendererConfig.__post_init__``): each against those before it.
SETTINGS = (
    "font_size",
    "dpi",
    "pixels_per_patch",
    "max_seq_length",
    "rgb",
    "use_cache",
    "rendering_strategy",
    "language",
    "cache_megabytes",
    "left_padding",
    "render_settings",
)


def _check_font_file(font_file: Any) -> str:
    if not isinstance(font_file, str | Path):
        raise TypeError(f"font_file={font_file!r} must be a path to a .ttf/.otf file or None (default fonts)")
    if not Path(font_file).is_file():
        raise FileNotFoundError(f"font file not found: {font_file}")
    return str(font_file)


def _check_fallback_dirs(value: Any) -> tuple[Path, ...] | None:
    """The fallback font folders as a tuple of existing folders (None stays None)."""
    if value is None:
        return None
    dirs = [value] if isinstance(value, str | Path) else value
    if not isinstance(dirs, list | tuple) or not all(isinstance(d, str | Path) for d in dirs):
        raise TypeError(f"fallback_fonts_dir={value!r} must be a folder, a list of folders or None")
    for folder in dirs:
        if not Path(folder).is_dir():
            raise FileNotFoundError(f"fallback fonts folder not found: {folder}")
    return tuple(Path(d) for d in dirs)
