"""The renderer's settings: checking them, saving and loading ``text_renderer_config.json`` (compatible with the
released PIXEL / PIXEL-M4 configs)."""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import json
import math
import numbers
import os
import shutil
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from pixel.render.compose import max_strip_patches
from pixel.render.fonts import DEFAULT_FALLBACK_DIRS, RenderSettings, sha256_file
from pixel.render.strategies import STRATEGIES

TEXT_RENDERER_NAME = "text_renderer_config.json"

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

# Keys a config may carry and the constructor takes; anything else (fonts_list, text_renderer_type, ...) is ignored.
_INIT_KEYS = (
    "font_file",
    "font_size",
    "dpi",
    "pixels_per_patch",
    "max_seq_length",
    "rgb",
    "rendering_strategy",
    "language",
    "render_settings",
    "font_color",
    "background_color",
    "pad_size",
    "left_padding",
)


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
    """A renderer setting checked (type and range) against the others already set in ``current``.

    Raises ``TypeError`` / ``ValueError`` naming the setting, the value and what is allowed.
    """
    P = current.get("pixels_per_patch")
    if name == "font_size":
        value = _check_number(name, value, "points; the published renderer uses 8")
        if value <= 0:
            raise ValueError(f"font_size={value!r} must be > 0 (points; the published renderer uses 8)")
        if current.get("dpi") is not None:
            _check_font_pixels(value, current["dpi"])
    elif name == "dpi":
        value = check_int(name, value, 1, None, "dots per inch; the published renderer uses 120")
        if current.get("font_size") is not None:
            _check_font_pixels(current["font_size"], value)
    elif name == "pixels_per_patch":
        value = check_int(name, value, *PATCH_PIXELS, "pixels per patch side; PIXEL uses 16")
        if current.get("max_seq_length") is not None:
            check_setting("max_seq_length", current["max_seq_length"], {"pixels_per_patch": value})
        if current.get("left_padding") is not None:
            check_setting("left_padding", current["left_padding"], {"pixels_per_patch": value})
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


# Settings that ``check_setting`` checks wherever they are set (constructor, attribute, ``from_pretrained``).
SETTINGS = frozenset(
    {
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
    }
)


def _hub_blobs(folder: Path) -> Path | None:
    """``<repo>/blobs`` if ``folder`` lies in a Hugging Face cache snapshot (``<repo>/snapshots/<commit>/...``)."""
    for parent in folder.parents:
        if parent.name == "snapshots" and (parent.parent / "blobs").is_dir():
            return parent.parent / "blobs"
    return None


def _inside(folder: Path, name: str, config_path: Path) -> Path:
    """``folder / name``, refusing names that point outside ``folder``.

    The name is checked as written (no ``..``, not absolute) and the file it resolves to must lie in ``folder``,
    or, in a hub cache snapshot, where the snapshot's links point: the same repository's ``blobs/``.
    """
    path = Path(os.path.normpath(folder.absolute() / name))
    resolved = path.resolve()
    roots = [folder.resolve()] + [b.resolve() for b in [_hub_blobs(folder.absolute())] if b is not None]
    if (
        Path(name).is_absolute()
        or folder.absolute() not in path.parents
        or not any(root in resolved.parents for root in roots)
    ):
        raise ValueError(f"font_file {name!r} in {config_path} points outside its folder")
    return path


class RendererPersistence:
    """``save_pretrained`` / ``from_pretrained`` for the renderer (mixed into ``PangoCairoTextRenderer``)."""

    # Set by the renderer this is mixed into (``PangoCairoTextRenderer.__init__``); declared here for type checks.
    font_file: str
    font_size: float
    dpi: int
    pixels_per_patch: int
    max_seq_length: int
    rgb: bool
    rendering_strategy: str
    language: str
    render_settings: RenderSettings
    fallback_dirs: tuple[Path, ...]
    left_padding: int

    def to_dict(self) -> dict[str, Any]:
        fonts = {Path(self.font_file).name: sha256_file(self.font_file)}
        return {
            "text_renderer_type": "PangoCairoTextRenderer",
            "rendering_strategy": self.rendering_strategy,
            "font_file": Path(self.font_file).name,
            "font_size": self.font_size,
            "dpi": self.dpi,
            "pixels_per_patch": self.pixels_per_patch,
            "max_seq_length": self.max_seq_length,
            "rgb": self.rgb,
            "language": self.language,
            "render_settings": self.render_settings.to_dict(),
            "font_sha256": fonts,
            "fallback_fonts_dirs": [str(d) for d in self.fallback_dirs],
            "fallback_fonts": self._fallback_fingerprints(),
            "left_padding": self.left_padding,
            "font_color": "black",
            "background_color": "white",
        }

    def _fallback_fingerprints(self) -> dict[str, str]:
        from pixel.render.fonts import font_files_in

        return {str(p): sha256_file(p) for folder in self.fallback_dirs for p in font_files_in(folder)}

    def save_pretrained(self, save_directory: str | Path) -> Path:
        """Write the config and copy the main font file next to it; returns the config path."""
        folder = Path(save_directory)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / Path(self.font_file).name
        if Path(self.font_file).resolve() != target.resolve():
            shutil.copyfile(self.font_file, target)
        path = folder / TEXT_RENDERER_NAME
        path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        return path

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | Path,
        fallback_fonts_dir: str | Path | None = None,
        *,
        subfolder: str = "",
        revision: str | None = None,
        cache_dir: str | Path | None = None,
        token: str | bool | None = None,
        **overrides: Any,
    ):
        """Load from a folder or a Hugging Face hub id holding ``text_renderer_config.json`` and its font file.

        Hub ids go through ``huggingface_hub`` (its cache, ``HF_HUB_OFFLINE``, ``revision``, ``subfolder`` such
        as ``last-checkpoint``). Released configs name no strategy; they are loaded as ``bigrams`` (PIXEL-M4)
        unless overridden, and, as they record no fallback fonts, get the Debian Noto folders as fallbacks. A
        font whose bytes differ from the recorded fingerprint loads with a loud warning. Keyword overrides are
        set after construction from the config, as the published ``from_dict`` does.
        """
        folder = Path(name_or_path) / subfolder
        if not (folder / TEXT_RENDERER_NAME).is_file():
            if Path(name_or_path).is_dir():
                raise FileNotFoundError(f"{folder} has no {TEXT_RENDERER_NAME}")
            folder = _download(str(name_or_path), subfolder, revision, cache_dir, token)
        config_path = folder / TEXT_RENDERER_NAME
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ValueError(f"{config_path} is not valid JSON: {error}") from error
        if not isinstance(config, dict) or "font_file" not in config:
            raise ValueError(f"{config_path} has no 'font_file'")
        if not isinstance(config["font_file"], str):
            raise ValueError(f"{config_path}: font_file={config['font_file']!r} must be a file name")
        # Overrides are set after construction (as the published ``from_dict`` does): their names are checked
        # first, their values where they are set, so that an error in the config names the config file.
        parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
        accepted = [p.name for p in parameters if p.kind is not inspect.Parameter.VAR_KEYWORD]
        reject_unknown(f"{cls.__name__}.from_pretrained", overrides, accepted)
        for key in ("rendering_strategy", "language"):
            if key in overrides:
                check_setting(key, overrides[key], {})
        font_path = _inside(folder, config["font_file"], config_path)
        if not font_path.is_file():
            raise FileNotFoundError(f"font file {font_path} named in {config_path} not found")
        kwargs = {k: config[k] for k in _INIT_KEYS if k in config and k not in overrides}
        kwargs["font_file"] = str(font_path)  # the name as saved (a hub snapshot link, not its blob)
        fallbacks: str | Path | list[Path] | None = fallback_fonts_dir
        if fallbacks is None:
            fallbacks = _recorded_fallbacks(config, config_path)
        # The strategy and language choose the default fonts and settings, so they go to the constructor.
        kwargs.update({k: v for k, v in overrides.items() if k in ("rendering_strategy", "language")})
        # The constructor is the concrete renderer's (this class is a mixin), hence the untyped call.
        make: Callable[..., RendererPersistence] = cls
        try:
            renderer = make(fallback_fonts_dir=fallbacks, **kwargs)
        except (TypeError, ValueError) as error:
            raise (TypeError if isinstance(error, TypeError) else ValueError)(
                f"{config_path}: {error}"
            ) from error
        for key, value in overrides.items():
            setattr(renderer, key, value)
        expected = (config.get("font_sha256") or {}).get(font_path.name)
        if expected and expected != sha256_file(font_path):
            warnings.warn(
                f"FONT MISMATCH: {font_path} has sha256 {sha256_file(font_path)}, but {config_path} was saved with "
                f"{expected}. Pixels will differ from those the model was trained on.",
                UserWarning,
                stacklevel=2,
            )
        return renderer


def _recorded_fallbacks(config: dict, config_path: Path) -> list[Path] | None:
    """The fallback folders a config records that exist here; Debian's Noto folders for a released config.

    The published trainer saved no fallback folders, although pretraining used Noto fallbacks (spec 1.11); with
    none, every glyph the main font lacks (all of CJK for GoNotoCurrent) would be drawn as a missing box.
    """
    if "fallback_fonts_dirs" not in config:
        present = [d for d in DEFAULT_FALLBACK_DIRS if d.is_dir()]
        return present or None
    listed = config["fallback_fonts_dirs"] or []
    if not isinstance(listed, list) or not all(isinstance(d, str) for d in listed):
        raise ValueError(f"{config_path}: fallback_fonts_dirs={listed!r} must be a list of folder names")
    recorded = [Path(d) for d in listed]
    found = [d for d in recorded if d.is_dir()]
    if len(found) < len(recorded):
        warnings.warn(
            f"fallback font folders recorded in {config_path} are missing here: "
            f"{[str(d) for d in recorded if d not in found]}",
            stacklevel=3,
        )
    return found or None


def _download(
    repo_id: str, subfolder: str, revision: str | None, cache_dir: str | Path | None, token: str | bool | None
) -> Path:
    """Fetch a renderer config and its font file through the Hugging Face hub cache; the snapshot folder."""
    from huggingface_hub import hf_hub_download

    where = f"{repo_id}/{subfolder}".rstrip("/") + (f"@{revision}" if revision else "")

    def fetch(filename: str) -> Path:
        try:
            return Path(
                hf_hub_download(
                    repo_id,
                    filename,
                    subfolder=subfolder or None,
                    revision=revision,
                    cache_dir=cache_dir,
                    token=token,
                )
            )
        except Exception as error:  # hub errors vary by version; name what was asked for
            raise FileNotFoundError(
                f"{where}: {filename} is neither in a local folder nor obtainable from the Hugging Face hub "
                f"or its cache ({type(error).__name__}: {error})"
            ) from error

    config_file = fetch(TEXT_RENDERER_NAME)
    try:
        font_name = json.loads(config_file.read_text(encoding="utf-8"))["font_file"]
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as error:
        raise ValueError(f"{where}/{TEXT_RENDERER_NAME} has no readable 'font_file' ({error})") from error
    if not isinstance(font_name, str) or Path(font_name).name != font_name:
        raise ValueError(f"font_file {font_name!r} in {where}/{TEXT_RENDERER_NAME} points outside its folder")
    fetch(font_name)
    return config_file.parent
