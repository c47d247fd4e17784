"""Text cleaning as published for PIXEL-M4 pretraining (REFERENCE §3.2 step 2).

Unassigned (Cn), surrogate (Cs) and private-use (Co) code points become a space; so does any character that no
font of the renderer can draw (the published code used a precomputed ``unrenderable_chars.json``, which was not
released; we derive the set from the fonts' ``cmap`` tables instead); then whitespace is collapsed.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

__all__ = ["TextCleaner", "font_coverage", "renderer_font_files", "clean_text"]

_BAD_CATEGORIES = frozenset({"Cn", "Cs", "Co"})
# Drawn as nothing or handled as layout by Pango; never "unrenderable" even though no cmap lists them.
_ALWAYS_OK = frozenset(map(ord, "\t\n\r\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"))


@cache
def _cmap_of(path: str) -> frozenset[int]:
    from fontTools.ttLib import TTCollection, TTFont

    if path.lower().endswith((".ttc", ".otc")):
        fonts = TTCollection(path, lazy=True).fonts
    else:
        fonts = [TTFont(path, lazy=True)]
    points: set[int] = set()
    for font in fonts:
        cmap = font.getBestCmap()
        if cmap:
            points.update(cmap)
    return frozenset(points)


def font_coverage(font_files: Iterable[str | Path]) -> frozenset[int]:
    """Union of the code points mapped by the ``cmap`` tables of ``font_files`` (TTF/OTF/TTC).

    Reading ~270 Noto cmaps takes seconds, so the union is cached on disk keyed by path, size and mtime of every
    file (a changed font invalidates it) and in memory per process.
    """
    stamps = []
    for path in map(Path, font_files):
        st = path.stat()
        stamps.append(f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}")
    return _coverage_cached(tuple(stamps))


@cache
def _coverage_cached(stamps: tuple[str, ...]) -> frozenset[int]:
    key = hashlib.sha256("\n".join(stamps).encode()).hexdigest()[:24]
    cache_file = (
        Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "pixel" / f"coverage-{key}.npy"
    )
    if cache_file.exists():
        return frozenset(np.load(cache_file, allow_pickle=False).tolist())
    points: set[int] = set()
    for stamp in stamps:
        points.update(_cmap_of(stamp.rsplit(":", 2)[0]))
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache_file.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(tmp, np.array(sorted(points), dtype=np.int32))
    tmp.replace(cache_file)
    return frozenset(points)


def renderer_font_files(renderer: object) -> list[Path]:
    """The font files a renderer draws with: its main font plus every file in its fallback folders.

    Falls back to the default Noto set of ``pixel.render.fonts`` for attributes the renderer leaves unset.
    """
    from pixel.render.fonts import default_fonts, font_files_in
    from pixel.render.strategies import STRATEGIES

    strategy = STRATEGIES.get(getattr(renderer, "rendering_strategy", "bigrams"), STRATEGIES["bigrams"])
    main = getattr(renderer, "font_file", None)
    dirs = getattr(renderer, "fallback_fonts_dir", None) or getattr(renderer, "fallback_dirs", None)
    if not main or not dirs:
        default_main, default_dirs = default_fonts(strategy.published)
        main, dirs = main or default_main, dirs or default_dirs
    if isinstance(dirs, str | Path):
        dirs = (dirs,)
    files = [Path(main)]
    for folder in dirs:
        files.extend(font_files_in(Path(folder)))
    return files


@dataclass(frozen=True)
class TextCleaner:
    """Callable cleaner; ``coverage=None`` skips the "no font can draw it" rule (categories still apply)."""

    coverage: frozenset[int] | None = None

    @classmethod
    def for_renderer(cls, renderer: object) -> TextCleaner:
        covered = getattr(renderer, "covered_codepoints", None)
        coverage = frozenset(covered()) if callable(covered) else font_coverage(renderer_font_files(renderer))
        return cls(coverage=coverage)

    def __call__(self, text: str) -> str:
        return clean_text(text, self.coverage)


def clean_text(text: str, coverage: frozenset[int] | None = None) -> str:
    """Map Cn/Cs/Co (and, given ``coverage``, undrawable) characters to a space, then collapse whitespace."""
    # Decide per distinct character (a few hundred at most), then translate in C: lines are long, alphabets small.
    bad = {ord(char): " " for char in set(text) if _is_bad(char, coverage)}
    return " ".join((text.translate(bad) if bad else text).split())


def _is_bad(char: str, coverage: frozenset[int] | None) -> bool:
    if unicodedata.category(char) in _BAD_CATEGORIES:
        return True
    point = ord(char)
    return coverage is not None and point not in coverage and point not in _ALWAYS_OK and not char.isspace()
