"""Saving and loading ``text_renderer_config.json`` (compatible with the released PIXEL / PIXEL-M4 configs)."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path
from typing import Any

from pixel.render.fonts import RenderSettings, sha256_file

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


def _inside(folder: Path, name: str, what: str) -> Path:
    """``folder / name``, refusing names that would point outside ``folder``."""
    path = (folder / name).resolve()
    if Path(name).is_absolute() or folder.resolve() not in path.parents:
        raise ValueError(f"{what} {name!r} in {folder / TEXT_RENDERER_NAME} points outside its folder")
    return path


class RendererPersistence:
    """``save_pretrained`` / ``from_pretrained`` for the renderer (mixed into ``PangoCairoTextRenderer``)."""

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
        cls, name_or_path: str | Path, fallback_fonts_dir: str | Path | None = None, **overrides: Any
    ):
        """Load from a folder (or a Hugging Face hub id) holding ``text_renderer_config.json`` and its font file.

        Released configs name no strategy; they are loaded as ``bigrams`` (PIXEL-M4) unless overridden. A font
        whose bytes differ from the recorded fingerprint loads with a loud warning. Keyword overrides are set
        after construction from the config, as the published ``from_dict`` does.
        """
        folder = Path(name_or_path)
        if not (folder / TEXT_RENDERER_NAME).is_file():
            folder = _download(str(name_or_path))
        config_path = folder / TEXT_RENDERER_NAME
        config = json.loads(config_path.read_text())
        if "font_file" not in config:
            raise ValueError(f"{config_path} has no 'font_file'")
        font_path = _inside(folder, config["font_file"], "font_file")
        if not font_path.is_file():
            raise FileNotFoundError(f"font file {font_path} named in {config_path} not found")
        kwargs = {k: config[k] for k in _INIT_KEYS if k in config}
        kwargs["font_file"] = str(font_path)
        if isinstance(kwargs.get("render_settings"), dict):
            kwargs["render_settings"] = RenderSettings.from_dict(kwargs["render_settings"])
        kwargs.update({k: v for k, v in overrides.items() if k in ("rendering_strategy", "language")})
        if fallback_fonts_dir is None and config.get("fallback_fonts_dirs"):
            recorded = [Path(d) for d in config["fallback_fonts_dirs"]]
            fallback_fonts_dir = [d for d in recorded if d.is_dir()] or None
            if len(fallback_fonts_dir or []) < len(recorded):
                warnings.warn(
                    f"fallback font folders recorded in {config_path} are missing here: {recorded}",
                    stacklevel=2,
                )
        renderer = cls(fallback_fonts_dir=fallback_fonts_dir, **kwargs)
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


def _download(repo_id: str) -> Path:
    """Fetch a renderer config and its font file from the Hugging Face hub (cached by huggingface_hub)."""
    from huggingface_hub import hf_hub_download

    try:
        config_file = Path(hf_hub_download(repo_id, TEXT_RENDERER_NAME))
    except Exception as error:  # hub errors vary by version; name what was asked for
        raise FileNotFoundError(
            f"{repo_id!r} is neither a folder with {TEXT_RENDERER_NAME} nor a reachable hub repo ({error})"
        ) from error
    font_name = json.loads(config_file.read_text())["font_file"]
    if Path(font_name).name != font_name:
        raise ValueError(
            f"font_file {font_name!r} in {repo_id}/{TEXT_RENDERER_NAME} points outside its folder"
        )
    hf_hub_download(repo_id, font_name)
    return config_file.parent
