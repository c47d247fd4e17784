"""Fonts: the defaults (GoNotoCurrent for the published strategies, Debian's Noto set), isolated fontconfig,
family names and fingerprints.

Pixels depend on which font files fontconfig can see and on its rendering settings, so every renderer gets its
own ``FcConfig`` built from a generated ``fonts.conf`` that sees only the main font and the fallback folders,
and that file states hinting and antialiasing explicitly. The Pango font map of the renderer is bound to that
config, so system fonts (DejaVu, ...) never leak in and two renderers in one process do not disturb each other.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import os
import tempfile
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

FONT_SUFFIXES = (".ttf", ".otf", ".ttc")

# Debian's `fonts-noto-core` and `fonts-noto-cjk` (installed by scripts/bootstrap.sh).
NOTO_SANS_FILE = Path("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf")
DEFAULT_FALLBACK_DIRS = (Path("/usr/share/fonts/truetype/noto"), Path("/usr/share/fonts/opentype/noto"))
_INSTALL_HINT = (
    "install them with `sudo apt-get install fonts-noto-core fonts-noto-cjk` (scripts/bootstrap.sh does)"
)
# The main font of PIXEL and PIXEL-M4 (a merged Noto font from go-noto-universal), as shipped in the released
# checkpoint folders; `pixel fonts --install` puts a verified copy into `font_store_dir()`.
GO_NOTO_NAME = "GoNotoCurrent.ttf"
GO_NOTO_SHA256 = "83ab5c39e2b1c34a955136275ce0db068cb20d9643ead033d6b8124a73ab4f64"


@dataclass(frozen=True)
class RenderSettings:
    """Fontconfig rendering settings; they change pixels, so they are explicit and saved with the renderer.

    The defaults are Debian's (10-hinting-slight, 10-yes-antialias, 11-lcdfilter-default), which is what the
    published PIXEL-M4 renderer was run with.
    """

    hintstyle: str = "hintslight"
    antialias: bool = True
    lcdfilter: str = "lcddefault"
    hinting: bool = True
    # Families tried right after the main font, in this order; empty keeps fontconfig's own fallback order,
    # which the published renderer had.
    preferred_fallbacks: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "hintstyle": self.hintstyle,
            "antialias": self.antialias,
            "lcdfilter": self.lcdfilter,
            "hinting": self.hinting,
            "preferred_fallbacks": list(self.preferred_fallbacks),
        }

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> RenderSettings:
        values = dict(values)
        values["preferred_fallbacks"] = tuple(values.get("preferred_fallbacks", ()))
        return cls(**values)


# Fontconfig breaks ties between fonts that cover a script by file order: with Debian's Noto set it draws some
# Tamil letters from Noto Sans Grantha (splitting Tamil clusters across fonts, so HarfBuzz inserts dotted
# circles), the Devanagari danda from Noto Sans Takri and Arabic from Noto Kufi Arabic. The new strategies with
# the default fonts therefore name each script's own font first. (Pango 1.50 puts no language in the fontconfig
# pattern, so a per-language rule cannot select them.)
SCRIPT_FONT_PREFERENCES = (
    "Noto Sans Devanagari",
    "Noto Sans Bengali",
    "Noto Sans Tamil",
    "Noto Sans Telugu",
    "Noto Sans Thai",
    "Noto Sans Arabic",
    "Noto Sans Hebrew",
)


def font_store_dir() -> Path:
    """Per-user folder of fonts this package installs: ``$PIXEL_FONTS_DIR``, else
    ``$XDG_DATA_HOME/pixel/fonts`` (``~/.local/share/pixel/fonts``)."""
    if os.environ.get("PIXEL_FONTS_DIR"):
        return Path(os.environ["PIXEL_FONTS_DIR"])
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "pixel" / "fonts"


def installed_go_noto() -> Path | None:
    """The installed GoNotoCurrent.ttf if its bytes are the published ones, else None."""
    path = font_store_dir() / GO_NOTO_NAME
    return path if path.is_file() and sha256_file(path) == GO_NOTO_SHA256 else None


@cache
def _warn_no_go_noto(store: Path) -> None:
    # Once per process and folder: every renderer built without the font would say the same.
    warnings.warn(
        f"{GO_NOTO_NAME}, the main font of PIXEL and PIXEL-M4, is not installed in {store}: rendering with "
        f"Debian's Noto Sans instead, so pixels differ from the published renderers'. Run `pixel fonts --install` "
        f"(or `pixel fonts --install --from <released checkpoint folder>/{GO_NOTO_NAME}`).",
        UserWarning,
        stacklevel=4,
    )


def default_fonts(published: bool = True) -> tuple[Path, tuple[Path, ...]]:
    """The main font and fallback folders used when no font is given; a clear error when missing.

    The published strategies (``bigrams``, ``continuous``: ``Strategy.published``) draw with GoNotoCurrent when
    it is installed (one warning when it is not); the others with Noto Sans. Fallbacks are Debian's Noto
    folders for all of them.
    """
    missing = [str(p) for p in (NOTO_SANS_FILE, *DEFAULT_FALLBACK_DIRS) if not p.exists()]
    if missing:
        raise FileNotFoundError(f"default Noto fonts not found ({', '.join(missing)}); {_INSTALL_HINT}")
    if published:
        go_noto = installed_go_noto()
        if go_noto is not None:
            return go_noto, DEFAULT_FALLBACK_DIRS
        _warn_no_go_noto(font_store_dir())
    return NOTO_SANS_FILE, DEFAULT_FALLBACK_DIRS


def font_files_in(folder: Path) -> list[Path]:
    """Font files directly inside ``folder`` (what fontconfig's ``<dir>`` scans, recursion aside)."""
    return sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in FONT_SUFFIXES and p.is_file())


@cache
def family_name(font_file: str | Path) -> str:
    """The family name Pango is asked for: the ``name`` table entry with ID 1 (first font of a collection)."""
    from fontTools.ttLib import TTCollection, TTFont

    path = str(font_file)
    if path.lower().endswith(".ttc"):
        with TTCollection(path, lazy=True) as collection:
            name = collection.fonts[0]["name"].getDebugName(1)
    else:
        with TTFont(path, lazy=True) as font:
            name = font["name"].getDebugName(1)
    if not name:
        raise ValueError(f"font file {path} has no family name (name ID 1)")
    return name


@cache
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_file(path: str | Path) -> str:
    """Fingerprint of a font file (cached per path, size and mtime)."""
    st = os.stat(path)
    return _sha256_cached(str(path), st.st_size, st.st_mtime_ns)


def fonts_conf_text(font_file: Path, fallback_dirs: tuple[Path, ...], settings: RenderSettings) -> str:
    """An isolated fontconfig configuration: only these fonts, with explicit rendering settings."""
    bool_ = lambda b: "true" if b else "false"  # noqa: E731
    dirs = "\n".join(f"  <dir>{escape(str(Path(d).resolve()))}</dir>" for d in fallback_dirs)
    prefer = "".join(f"<string>{escape(family)}</string>" for family in settings.preferred_fallbacks)
    if prefer:
        prefer = f'  <match target="pattern"><edit name="family" mode="append">{prefer}</edit></match>'
    cache_dir = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "pixel" / "fontconfig"
    # "--" may not occur inside an XML comment, and hub cache paths hold it ("models--org--name").
    comment_safe = escape(str(font_file)).replace("--", "-&#45;")
    return f"""<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<!-- generated by pixel.render.fonts for {comment_safe}; do not edit -->
<fontconfig>
{dirs}
  <cachedir>/var/cache/fontconfig</cachedir>
  <cachedir>{escape(str(cache_dir))}</cachedir>
{prefer}
  <match target="font">
    <edit name="antialias" mode="assign"><bool>{bool_(settings.antialias)}</bool></edit>
    <edit name="hinting" mode="assign"><bool>{bool_(settings.hinting)}</bool></edit>
    <edit name="hintstyle" mode="assign"><const>{escape(settings.hintstyle)}</const></edit>
    <edit name="lcdfilter" mode="assign"><const>{escape(settings.lcdfilter)}</const></edit>
  </match>
</fontconfig>
"""


@cache
def _fontconfig() -> ctypes.CDLL:
    lib = ctypes.CDLL(ctypes.util.find_library("fontconfig") or "libfontconfig.so.1")
    lib.FcConfigCreate.restype = ctypes.c_void_p
    lib.FcConfigParseAndLoad.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    lib.FcConfigBuildFonts.argtypes = [ctypes.c_void_p]
    lib.FcConfigAppFontAddFile.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.FcConfigDestroy.argtypes = [ctypes.c_void_p]
    return lib


@cache
def _pangoft2() -> ctypes.CDLL:
    lib = ctypes.CDLL(ctypes.util.find_library("pangoft2-1.0") or "libpangoft2-1.0.so.0")
    lib.pango_fc_font_map_set_config.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    return lib


def _write_conf(text: str) -> Path:
    """Content-addressed, so concurrent processes and DataLoader workers share one file."""
    folder = Path(tempfile.gettempdir()) / f"pixel-fontconfig-{os.getuid()}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(text.encode()).hexdigest()[:16]}.conf"
    if not path.exists():
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text)
        tmp.replace(path)
    return path


@cache
def isolated_config(font_file: str, fallback_dirs: tuple[str, ...], settings: RenderSettings) -> int:
    """A built ``FcConfig*`` (as an int) that sees ``font_file`` and ``fallback_dirs`` only.

    The main font is registered with ``FcConfigAppFontAddFile`` before any Pango font map uses the config:
    registering late makes "Noto Sans" resolve to another face. One config per distinct setup and process.
    """
    conf = _write_conf(fonts_conf_text(Path(font_file), tuple(map(Path, fallback_dirs)), settings))
    # Anything else in the process that lets fontconfig initialise itself sees the same isolated set.
    os.environ.setdefault("FONTCONFIG_FILE", str(conf))
    fc = _fontconfig()
    config = fc.FcConfigCreate()
    if not config or not fc.FcConfigParseAndLoad(config, str(conf).encode(), 1):
        raise RuntimeError(f"fontconfig could not load the generated configuration {conf}")
    if not fc.FcConfigBuildFonts(config):
        raise RuntimeError(f"fontconfig could not build the font set of {conf}")
    if not fc.FcConfigAppFontAddFile(config, os.fsencode(font_file)):
        raise RuntimeError(f"fontconfig could not register the font file {font_file}")
    return int(config)


def bind_font_map(font_map_address: int, config: int) -> None:
    """Make a Pango fontconfig font map resolve fonts through ``config`` only (pango >= 1.38)."""
    _pangoft2().pango_fc_font_map_set_config(font_map_address, config)
