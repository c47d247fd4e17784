"""Fixtures shared by every test folder."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest


def write_hub_snapshot(
    cache_dir: Path,
    repo_id: str,
    files: dict[str, Path | bytes],
    *,
    branch: str | None = "main",
    commit: str | None = None,
) -> Path:
    """Put ``files`` (repo path -> source file or bytes) into ``cache_dir`` exactly as ``hf_hub_download`` leaves
    them: ``models--org--name/blobs/<hash>``, ``snapshots/<commit>/<path>`` as relative links into ``blobs/``,
    ``refs/<branch>`` holding the commit. Returns the snapshot folder."""
    repo = Path(cache_dir) / ("models--" + repo_id.replace("/", "--"))
    contents = {
        name: src if isinstance(src, bytes) else Path(src).read_bytes() for name, src in files.items()
    }
    commit = commit or hashlib.sha1(repr(sorted(contents.items())).encode()).hexdigest()
    snapshot = repo / "snapshots" / commit
    for name, data in contents.items():
        blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(data)
        link = snapshot / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    if branch:
        (repo / "refs").mkdir(parents=True, exist_ok=True)
        (repo / "refs" / branch).write_text(commit)
    return snapshot


class HubCache(type(Path())):
    """An (initially empty) Hugging Face hub cache folder, to pass as ``cache_dir=`` or ``HF_HUB_CACHE``;
    ``add(repo_id, files, branch=..., commit=...)`` writes a snapshot into it (``write_hub_snapshot``)."""

    def add(self, repo_id: str, files: dict[str, Path | bytes], **where) -> Path:
        return write_hub_snapshot(self, repo_id, files, **where)


@pytest.fixture
def hub_cache(tmp_path) -> HubCache:
    folder = HubCache(tmp_path / "hf-hub-cache")
    folder.mkdir()
    return folder


def released_checkpoint_files(model, font_file: Path) -> dict[str, bytes]:
    """The files of a checkpoint as the published PIXEL-M4 trainer wrote them (transformers 4.28): config.json,
    a legacy ``pytorch_model.bin`` and the renderer config with its font stored under a hub-cache name (64 hex +
    "." + 64 hex, no extension), the same again in ``last-checkpoint/``."""
    import io
    import json

    import torch

    config = model.config.to_dict()
    config.update(architectures=[type(model).__name__], transformers_version="4.28.1")
    weights = io.BytesIO()
    torch.save(model.state_dict(), weights)
    font_bytes = Path(font_file).read_bytes()
    font_name = hashlib.sha256(b"url").hexdigest() + "." + hashlib.sha256(b"etag").hexdigest()
    renderer = {
        "background_color": "white",
        "dpi": 120,
        "font_color": "black",
        "font_file": font_name,
        "font_size": 8,
        "fonts_list": ["Go Noto Current", "Noto Sans CJK SC"],
        "max_seq_length": 529,
        "pad_size": 3,
        "pixels_per_patch": 16,
        "rgb": True,
        "text_renderer_type": "PangoCairoTextRenderer",
    }
    files = {
        "config.json": json.dumps(config, indent=2).encode(),
        "pytorch_model.bin": weights.getvalue(),
        "text_renderer_config.json": json.dumps(renderer, indent=2).encode(),
        font_name: font_bytes,
    }
    return files | {f"last-checkpoint/{name}": data for name, data in files.items()}


@pytest.fixture
def pixel_m4_hub(hub_cache) -> tuple[HubCache, object]:
    """A hub cache holding a tiny ``Team-PIXEL/pixel-m4`` in the released layout; (cache folder, the model)."""
    import torch
    from tiny_models import tiny_mae_config

    from pixel.model import PIXELForPreTraining
    from pixel.render import PangoCairoTextRenderer

    torch.manual_seed(0)
    config = tiny_mae_config()
    model = PIXELForPreTraining(config).eval()
    font = PangoCairoTextRenderer().font_file  # GoNotoCurrent.ttf where installed, as in the released repo
    hub_cache.add("Team-PIXEL/pixel-m4", released_checkpoint_files(model, Path(font)))
    return hub_cache, model


@pytest.fixture
def released_files():
    """``released_files(model, font_file) -> {repo path: bytes}`` (``released_checkpoint_files``)."""
    return released_checkpoint_files


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under CI a missing data folder fails the run at once instead of skipping every test that needs it."""
    from data_location import SIB200, UD, in_ci, missing_message

    missing = [folder for folder in (UD, SIB200) if not folder.is_dir()]
    if in_ci() and missing:
        raise pytest.UsageError(
            f"CI is set and {missing_message(missing[0])}: put the data there or point PIXEL_DATA_DIR at it"
        )
