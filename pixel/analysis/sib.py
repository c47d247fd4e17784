"""SIB-200 as the analyses read it: `<data_dir>/<lang>/<split>.tsv` with columns `index_id`, `category`, `text`.

`data_dir` may be one folder or several: each language's file is looked up in every folder, and it must be in
exactly one (`locate_languages`). The rows of a split are parallel across languages (the same `index_id` sequence in
every language); `read_parallel` checks that instead of assuming it.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DataDirs",
    "SibSplit",
    "available_languages",
    "default_data_dir",
    "locate_languages",
    "read_parallel",
    "read_split",
]

COLUMNS = ("index_id", "category", "text")

DataDirs = Path | Sequence[Path]  # one SIB-200 folder, or several searched together


def default_data_dir() -> Path:
    """`$PIXEL_DATA_DIR/sib200`, else `<repo>/../shared/data/sib200` (where the demo and tests look)."""
    root = os.environ.get("PIXEL_DATA_DIR")
    base = Path(root) if root else Path(__file__).resolve().parents[2].parent / "shared" / "data"
    return base / "sib200"


@dataclass
class SibSplit:
    language: str
    ids: list[str]
    categories: list[str]
    texts: list[str]


def available_languages(data_dir: Path, split: str = "test") -> list[str]:
    """Language folders of `data_dir` holding `<split>.tsv`, sorted."""
    if not data_dir.is_dir():
        raise FileNotFoundError(f"SIB-200 folder {data_dir} does not exist (pass --data_dir)")
    return sorted(p.parent.name for p in data_dir.glob(f"*/{split}.tsv"))


def _distinct(paths: Sequence[Path]) -> list[Path]:
    """`paths` in order, without a second path to the same place (a repeated folder or a symlink), which would
    otherwise make a language look ambiguous."""
    seen: dict[Path, Path] = {}
    for path in paths:
        seen.setdefault(path.resolve(), path)
    return list(seen.values())


def locate_languages(data_dir: DataDirs, languages: Sequence[str], split: str = "test") -> dict[str, Path]:
    """The `<split>.tsv` of each language, looked up in every folder of `data_dir`.

    A language in no folder is an error listing the languages of each folder. A language in two folders is an error
    naming both files: neither copy silently wins. Two paths to one file (a symlink) count once.
    """
    folders = _distinct([Path(data_dir)] if isinstance(data_dir, str | os.PathLike) else list(data_dir))
    if not folders:
        raise ValueError("no SIB-200 folder given")
    found = {folder: available_languages(folder, split) for folder in folders}
    paths, missing, ambiguous = {}, [], []
    for lang in dict.fromkeys(languages):
        hits = _distinct([folder / lang / f"{split}.tsv" for folder in folders if lang in found[folder]])
        if not hits:
            missing.append(lang)
        elif len(hits) > 1:
            ambiguous.append(f"{lang} is in both {hits[0]} and {hits[1]}")
        else:
            paths[lang] = hits[0]
    if missing:
        listing = "; ".join(
            f"available in {folder}: {', '.join(found[folder]) or '(none)'}" for folder in folders
        )
        raise ValueError(f"unknown language(s) {', '.join(missing)} ({split}.tsv); {listing}")
    if ambiguous:
        raise ValueError(
            f"ambiguous language(s) in the data folders: {'; '.join(ambiguous)}. Keep one copy or drop a folder"
        )
    return paths


def read_split(data_dir: DataDirs, language: str, split: str = "test") -> SibSplit:
    """One language's split; errors name the file and line."""
    return _read_file(locate_languages(data_dir, [language], split)[language], language)


def _read_file(path: Path, language: str) -> SibSplit:
    ids, categories, texts = [], [], []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}:1: missing column(s) {missing}; header is {reader.fieldnames}")
        for line, row in enumerate(reader, start=2):
            if not row["text"]:
                raise ValueError(f"{path}:{line}: empty text")
            ids.append(row["index_id"])
            categories.append(row["category"])
            texts.append(row["text"])
    return SibSplit(language, ids, categories, texts)


def read_parallel(data_dir: DataDirs, languages: Sequence[str], split: str = "test") -> dict[str, SibSplit]:
    """The split in every language, checked to be row-aligned by `index_id`."""
    paths = locate_languages(data_dir, languages, split)
    splits = {lang: _read_file(path, lang) for lang, path in paths.items()}
    first = next(iter(splits.values()))
    for lang, sib in splits.items():
        if sib.ids != first.ids:
            row = next(
                (i for i, (a, b) in enumerate(zip(first.ids, sib.ids, strict=False)) if a != b),
                min(len(first.ids), len(sib.ids)),
            )
            raise ValueError(
                f"{split}.tsv of {lang} is not parallel to {first.language}: index_id differs at data row {row + 1} "
                f"({len(sib.ids)} vs {len(first.ids)} rows)"
            )
    return splits
