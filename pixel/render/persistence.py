"""Saving and loading a renderer's ``text_renderer_config.json`` (compatible with the released PIXEL / PIXEL-M4
configs), from a folder or the Hugging Face hub."""

from __future__ import annotations

import inspect
import json
import os
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pixel.render.config import RendererConfig, check_setting, reject_unknown
from pixel.render.fonts import DEFAULT_FALLBACK_DIRS, font_files_in, sha256_file

TEXT_RENDERER_NAME = "text_renderer_config.json"

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

    config: RendererConfig  # set by the renderer this is mixed into

    def to_dict(self) -> dict[str, Any]:
        config = self.config
        fonts = {Path(config.font_file).name: sha256_file(config.font_file)}
        return {
            "text_renderer_type": "PangoCairoTextRenderer",
            "rendering_strategy": config.rendering_strategy,
            "font_file": Path(config.font_file).name,
            "font_size": config.font_size,
            "dpi": config.dpi,
            "pixels_per_patch": config.pixels_per_patch,
            "max_seq_length": config.max_seq_length,
            "rgb": config.rgb,
            "language": config.language,
            "render_settings": config.render_settings.to_dict(),
            "font_sha256": fonts,
            "fallback_fonts_dirs": [str(d) for d in config.fallback_dirs],
            "fallback_fonts": {
                str(p): sha256_file(p) for folder in config.fallback_dirs for p in font_files_in(folder)
            },
            "left_padding": config.left_padding,
            "font_color": "black",
            "background_color": "white",
        }

    def save_pretrained(self, save_directory: str | Path) -> Path:
        """Write the config and copy the main font file next to it; returns the config path."""
        font_file = self.config.font_file
        folder = Path(save_directory)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / Path(font_file).name
        if Path(font_file).resolve() != target.resolve():
            shutil.copyfile(font_file, target)
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
