"""Optional pre-rendering of packed blocks into Parquet shards, for clusters that prefer reading pixels to rendering.

``prerender_shards`` takes the block stream of a ``PretrainingDataset`` (cleaned, packed, interleaved, shuffled),
renders each block once and writes ``shard-00000.parquet, ...`` with one row per block::

    pixels            binary  uint8 bytes of the first 16 x (num_text_patches + 1) columns (text + EOS),
                              row-major [16, W, 3] (RGB) or [16, W] (grayscale); the rest of a strip is white
    num_text_patches  int32
    language          string
    text              string  the block as it was rendered

``prerender.json`` beside the shards records the renderer (``to_dict``: strategy, size, settings, font and
fallback font fingerprints), its fingerprint digest, ``max_patches`` and the shard list; the renderer itself is
saved there too (``text_renderer_config.json`` + font), so a preset can train with ``renderer: {name_or_path:
DIR}``. A preset trains from the shards with the source ``{prerendered: DIR}``; ``check_renderer`` refuses shards
whose renderer fingerprint differs from the configured renderer. Span masks are not stored: the collator still
draws them per example from ``np.random.default_rng([seed, example_id])``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "MANIFEST",
    "prerender_shards",
    "renderer_fingerprint",
    "read_manifest",
    "check_renderer",
    "stored_pixels",
]

MANIFEST = "prerender.json"
PATCH = 16

# Renderer settings that change pixels (``max_seq_length`` does not: blocks fit, and shards record max_patches).
_PIXEL_KEYS = (
    "rendering_strategy",
    "font_size",
    "dpi",
    "pixels_per_patch",
    "rgb",
    "language",
    "render_settings",
)


def renderer_fingerprint(renderer: Any) -> dict[str, Any]:
    """The parts of ``renderer.to_dict()`` that determine pixels; font files by content (sha256), not by path."""
    config = renderer.to_dict()
    fingerprint = {key: config.get(key) for key in _PIXEL_KEYS}
    fingerprint["font_sha256"] = sorted((config.get("font_sha256") or {}).values())
    fingerprint["fallback_fonts_sha256"] = sorted(set((config.get("fallback_fonts") or {}).values()))
    return fingerprint


def _digest(fingerprint: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(fingerprint, sort_keys=True).encode()).hexdigest()


def prerender_shards(
    blocks: Iterable[dict[str, Any]],
    renderer: Any,
    output_dir: str | Path,
    num_examples: int,
    shard_size: int = 10_000,
    max_patches: int = 511,
    progress: bool = True,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Render the first ``num_examples`` of ``blocks`` (``{"text", "language", ...}``) into Parquet shards.

    Each shard is written to a temporary name and renamed when complete; the manifest is written last, so a
    folder with ``prerender.json`` is complete. Returns the manifest path.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq
    from tqdm.auto import tqdm

    if num_examples < 1 or shard_size < 1:
        raise ValueError(f"num_examples ({num_examples}) and shard_size ({shard_size}) must be positive")
    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / MANIFEST).exists():
        raise FileExistsError(f"{folder / MANIFEST} exists: pre-render into an empty folder")
    renderer.max_seq_length = max_patches
    schema = pa.schema(
        [
            ("pixels", pa.binary()),
            ("num_text_patches", pa.int32()),
            ("language", pa.string()),
            ("text", pa.string()),
        ]
    )
    shards: list[str] = []
    counts: dict[str, int] = {}
    rows: dict[str, list] = {name: [] for name in schema.names}

    def flush() -> None:
        name = f"shard-{len(shards):05d}.parquet"
        tmp = folder / f".{name}.tmp"
        pq.write_table(pa.table(rows, schema=schema), tmp)
        tmp.replace(folder / name)
        shards.append(name)
        for column in rows.values():
            column.clear()

    written = 0
    with tqdm(total=num_examples, desc="pre-rendering", unit="block", disable=not progress) as bar:
        for item in blocks:
            encoding = renderer(item["text"])
            length = min(int(encoding.num_text_patches) + 1, max_patches)  # text + EOS, as the collator does
            pixels = np.ascontiguousarray(np.asarray(encoding.pixel_values)[:, : PATCH * length])
            if pixels.dtype != np.uint8:
                raise ValueError(f"renderer returned {pixels.dtype} pixels; pre-rendering stores uint8")
            rows["pixels"].append(pixels.tobytes())
            rows["num_text_patches"].append(int(encoding.num_text_patches))
            rows["language"].append(item["language"])
            rows["text"].append(item["text"])
            counts[item["language"]] = counts.get(item["language"], 0) + 1
            written += 1
            bar.update(1)
            if len(rows["text"]) == shard_size:
                flush()
            if written == num_examples:
                break
    if rows["text"]:
        flush()
    if written < num_examples:
        raise ValueError(
            f"the text sources gave only {written} blocks, fewer than num_examples={num_examples}"
        )

    renderer.save_pretrained(folder)
    fingerprint = renderer_fingerprint(renderer)
    manifest = {
        "format": "pixel-prerendered-v1",
        "num_examples": written,
        "shard_size": shard_size,
        "max_patches": max_patches,
        "shards": shards,
        "languages": counts,
        "renderer": renderer.to_dict(),
        "renderer_fingerprint": fingerprint,
        "renderer_fingerprint_sha256": _digest(fingerprint),
        **(extra or {}),
    }
    tmp = folder / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    os.replace(tmp, folder / MANIFEST)
    return folder / MANIFEST


def read_manifest(folder: str | Path) -> dict[str, Any]:
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: {folder} is not a complete pre-rendered folder (pixel pretrain --prerender DIR)"
        )
    manifest = json.loads(path.read_text())
    missing = [name for name in manifest.get("shards", []) if not (Path(folder) / name).is_file()]
    if missing or not manifest.get("shards"):
        raise FileNotFoundError(f"{path}: shards missing from {folder}: {missing or 'none listed'}")
    return manifest


def check_renderer(folder: str | Path, renderer: Any, max_patches: int) -> dict[str, Any]:
    """The manifest of ``folder``, after checking its shards fit ``renderer`` and ``max_patches``; else ValueError."""
    manifest = read_manifest(folder)
    stored = manifest.get("renderer_fingerprint") or {}
    current = renderer_fingerprint(renderer)
    if _digest(stored) != _digest(current) or manifest.get("renderer_fingerprint_sha256") != _digest(current):
        differing = sorted(key for key in set(stored) | set(current) if stored.get(key) != current.get(key))
        details = "; ".join(
            f"{key}: shards {_short(stored.get(key))} vs configured {_short(current.get(key))}"
            for key in differing
        )
        raise ValueError(
            f"pre-rendered shards in {folder} were rendered by a different renderer ({details or 'fingerprint'}). "
            f"Configure the renderer they were made with (renderer: {{name_or_path: {folder}}}, with the same "
            "fonts installed) or pre-render them again."
        )
    if int(manifest["max_patches"]) > max_patches:
        raise ValueError(
            f"pre-rendered shards in {folder} hold blocks of up to {manifest['max_patches']} patches, more than "
            f"data.max_patches={max_patches}: they would be cut; set data.max_patches >= {manifest['max_patches']}"
        )
    return manifest


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return (
        text
        if len(text) <= 80
        else f"{len(value)} entries, sha256 {hashlib.sha256(text.encode()).hexdigest()[:12]}"
    )


def stored_pixels(item: dict[str, Any], max_patches: int) -> np.ndarray:
    """The uint8 strip ``[16, W, 3]`` or ``[16, W]`` of a pre-rendered row (W = 16 x (text + EOS) patches)."""
    data = np.frombuffer(item["pixels"], dtype=np.uint8)
    width = PATCH * min(int(item["num_text_patches"]) + 1, max_patches)
    channels, remainder = divmod(data.size, PATCH * width)
    if remainder or channels not in (1, 3):
        raise ValueError(
            f"pre-rendered row ({item.get('language')!r}, {item.get('text', '')[:40]!r}): {data.size} pixel bytes do "
            f"not fit a 16 x {width} strip of 1 or 3 channels"
        )
    return data.reshape(PATCH, width) if channels == 1 else data.reshape(PATCH, width, 3)
