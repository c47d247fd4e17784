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
    contents = {name: src if isinstance(src, bytes) else Path(src).read_bytes() for name, src in files.items()}
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


@pytest.fixture
def hub_cache(tmp_path) -> Path:
    """An empty Hugging Face hub cache folder (pass it as ``cache_dir=`` or ``HF_HUB_CACHE``)."""
    folder = tmp_path / "hf-hub-cache"
    folder.mkdir()
    return folder
