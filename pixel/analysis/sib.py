"""SIB-200 as the analyses read it: `<data_dir>/<lang>/<split>.tsv` with columns `index_id`, `category`, `text`.

The rows of a split are parallel across languages (the same `index_id` sequence in every language); `read_parallel`
checks that instead of assuming it.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SibSplit", "available_languages", "default_data_dir", "read_parallel", "read_split"]

COLUMNS = ("index_id", "category", "text")


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


def read_split(data_dir: Path, language: str, split: str = "test") -> SibSplit:
    """One language's split; errors name the file and line."""
    path = data_dir / language / f"{split}.tsv"
    if not path.is_file():
        known = available_languages(data_dir, split)
        raise ValueError(
            f"unknown language {language!r}: {path} does not exist; available in {data_dir} ({split}): "
            + ", ".join(known)
        )
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


def read_parallel(data_dir: Path, languages: Sequence[str], split: str = "test") -> dict[str, SibSplit]:
    """The split in every language, checked to be row-aligned by `index_id`."""
    splits = {lang: read_split(data_dir, lang, split) for lang in dict.fromkeys(languages)}
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
