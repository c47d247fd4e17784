"""``pixel fonts``: which fonts a renderer draws with, and installing PIXEL's font GoNotoCurrent.ttf.

GoNotoCurrent.ttf is not packaged by Debian, but the PyPI wheel ``pixar-render==0.5.1`` ships the published bytes
(``pixar_render/resources/fonts/GoNotoCurrent.ttf``). We fetch that wheel without its dependencies, take the one
file out, check its sha256 and keep it in the per-user font folder (``font_store_dir()``); the package itself is
never installed. A copy from a released checkpoint folder (any file name: the hub stores it under a hashed one)
or a wheel on disk works offline.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from pixel.render.fonts import (
    GO_NOTO_NAME,
    GO_NOTO_SHA256,
    font_files_in,
    font_store_dir,
    installed_go_noto,
    sha256_file,
)
from pixel.render.strategies import STRATEGIES

WHEEL_REQUIREMENT = "pixar-render==0.5.1"
WHEEL_MEMBER = "pixar_render/resources/fonts/GoNotoCurrent.ttf"


class FontInstallError(RuntimeError):
    """The font could not be fetched or its bytes are not the published ones; the message says what to do."""


def _font_bytes(source: Path) -> bytes:
    """The font's bytes from a wheel (``.whl``), a font file, or a folder holding GoNotoCurrent.ttf."""
    if source.is_dir():
        source = source / GO_NOTO_NAME
    if not source.is_file():
        raise FontInstallError(f"{source} not found")
    if source.suffix == ".whl":
        try:
            with zipfile.ZipFile(source) as wheel:
                return wheel.read(WHEEL_MEMBER)
        except (zipfile.BadZipFile, KeyError) as error:
            raise FontInstallError(f"{source} is not a wheel holding {WHEEL_MEMBER} ({error})") from error
    return source.read_bytes()


def _download_wheel(folder: Path) -> Path:
    """``pip download --no-deps`` of the wheel into ``folder`` (pip's own index settings apply)."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    command += ["--disable-pip-version-check", "-q", "-d", str(folder), WHEEL_REQUIREMENT]
    done = subprocess.run(command, capture_output=True, text=True)
    wheels = sorted(folder.glob("*.whl"))
    if done.returncode or not wheels:
        raise FontInstallError(
            f"could not download {WHEEL_REQUIREMENT} from the package index ({done.stderr.strip()[-300:]}). "
            f"Offline, copy {GO_NOTO_NAME} from a released checkpoint folder (e.g. Team-PIXEL/pixel-m4) and run "
            f"`pixel fonts --install --from <that file>`"
        )
    return wheels[0]


def install_go_noto(source: str | Path | None = None, target_dir: str | Path | None = None) -> Path:
    """Install GoNotoCurrent.ttf (verified by sha256) into ``target_dir`` (default ``font_store_dir()``).

    ``source``: a font file, a folder with it, or the pixar-render wheel; None downloads the wheel. Idempotent: a
    verified copy in place is kept. The file appears atomically, so concurrent installs are safe.
    """
    target = Path(target_dir or font_store_dir()) / GO_NOTO_NAME
    if target.is_file() and sha256_file(target) == GO_NOTO_SHA256:
        return target
    with tempfile.TemporaryDirectory() as tmp:
        data = _font_bytes(Path(source) if source is not None else _download_wheel(Path(tmp)))
    digest = hashlib.sha256(data).hexdigest()
    if digest != GO_NOTO_SHA256:
        raise FontInstallError(
            f"{source or WHEEL_REQUIREMENT}: sha256 {digest} is not the published {GO_NOTO_NAME} "
            f"({GO_NOTO_SHA256}); nothing installed"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{GO_NOTO_NAME}.{os.getpid()}.partial")
    partial.write_bytes(data)
    partial.replace(target)
    return target


class DescribedRenderer(Protocol):
    """What ``describe`` reads of a renderer (``PangoCairoTextRenderer`` has these attributes)."""

    @property
    def font_file(self) -> str | Path: ...

    @property
    def rendering_strategy(self) -> str: ...

    @property
    def fallback_dirs(self) -> Sequence[str | Path]: ...


def describe(renderer: DescribedRenderer, hash_fallbacks: bool = False) -> list[str]:
    """Lines saying which main font and fallback folders ``renderer`` uses, with sha256 fingerprints."""
    main = Path(renderer.font_file)
    digest = sha256_file(main)
    known = f"  = {GO_NOTO_NAME} (published PIXEL / PIXEL-M4 font)" if digest == GO_NOTO_SHA256 else ""
    lines = [f"strategy  {renderer.rendering_strategy}", f"main font {main}", f"  sha256 {digest}{known}"]
    for folder in renderer.fallback_dirs:
        files = font_files_in(Path(folder))
        lines.append(f"fallback  {folder} ({len(files)} font files)")
        if hash_fallbacks:
            lines += [f"  {sha256_file(f)}  {f.name}" for f in files]
    return lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="pixel fonts", description=__doc__.split("\n\n")[0])
    parser.add_argument("--install", action="store_true", help=f"install {GO_NOTO_NAME} (verified)")
    parser.add_argument(
        "--from",
        dest="source",
        help="install from this font file, folder or pixar-render wheel instead of downloading",
    )
    parser.add_argument("--model", help="show the fonts of the renderer saved in this folder or hub repo")
    parser.add_argument(
        "--strategy", default="bigrams", choices=STRATEGIES, help="default renderer's strategy"
    )
    parser.add_argument("--all", action="store_true", help="also fingerprint every fallback font file")
    parser.add_argument(
        "--check", action="store_true", help=f"exit with status 1 unless {GO_NOTO_NAME} is installed"
    )
    args = parser.parse_args(argv)
    if args.source and not args.install:
        parser.error("--from goes with --install")
    if args.install:
        try:
            path = install_go_noto(args.source)
        except FontInstallError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        print(f"{GO_NOTO_NAME} installed and verified: {path}")
    installed = installed_go_noto()
    if installed:
        print(f"{GO_NOTO_NAME}: installed, sha256 verified ({installed})")
    else:
        print(
            f"{GO_NOTO_NAME}: NOT installed in {font_store_dir()}. `bigrams` and `continuous` fall back to "
            f"Noto Sans, so pixels differ from the published renderers'. Fix: `pixel fonts --install` "
            f"(downloads {WHEEL_REQUIREMENT}, about 8 MB, and keeps only the font), or offline "
            f"`pixel fonts --install --from <released checkpoint folder>/{GO_NOTO_NAME}`."
        )
    from pixel.render.renderer import PangoCairoTextRenderer

    with warnings.catch_warnings():  # the missing font was just reported
        warnings.filterwarnings("ignore", message=f"{GO_NOTO_NAME}.*not installed")
        if args.model:
            renderer = PangoCairoTextRenderer.from_pretrained(args.model)
        else:
            renderer = PangoCairoTextRenderer(rendering_strategy=args.strategy)
    print("\n".join(describe(renderer, args.all)))
    return 1 if args.check and not installed else 0
