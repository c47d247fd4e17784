"""Raw text sources for pretraining: local text/JSONL/Parquet/CSV/TSV files and streamed HF datasets by name.

A third kind, ``{prerendered: DIR}``, reads blocks pre-rendered by ``pixel pretrain --prerender DIR``
(``pixel.data.prerender``): rows carry ``pixels``, ``num_text_patches``, ``language`` and ``text``.

Every source becomes a streamed ``datasets.IterableDataset`` with one ``text`` column; several sources are
interleaved with per-language sampling probabilities (REFERENCE §3.2: ``[0.25] * 4``, "first_exhausted").
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import datasets

__all__ = ["TextSource", "load_source", "interleave_sources", "StoppingStrategy"]

StoppingStrategy = Literal["first_exhausted", "all_exhausted"]

# suffix -> (datasets packaged builder, extra builder kwargs)
_BUILDERS: dict[str, tuple[str, dict[str, Any]]] = {
    ".txt": ("text", {}),
    ".text": ("text", {}),
    ".jsonl": ("json", {}),
    ".json": ("json", {}),
    ".parquet": ("parquet", {}),
    ".csv": ("csv", {}),
    # TSV corpora (SIB-200 among them) contain bare quotes; csv quoting would glue lines together.
    ".tsv": ("csv", {"delimiter": "\t", "quoting": csv.QUOTE_NONE}),
}


@dataclass
class TextSource:
    """One text source; give ``path`` (local file, glob or folder), ``name`` (a HF dataset, streamed) or
    ``prerendered`` (a folder of pre-rendered Parquet shards with their ``prerender.json``).

    Attributes:
        path: local file, glob (``data/*.parquet``) or folder; the format comes from the suffix.
        name: HF dataset id, e.g. ``allenai/c4``; ``config`` selects e.g. the language (``hi``).
        column: the column holding the text.
        language: tag carried with every example (reconstruction pictures get one row per language).
        probability: sampling probability when interleaved; ``None`` everywhere means equal.
    """

    path: str | None = None
    name: str | None = None
    config: str | None = None
    split: str = "train"
    column: str = "text"
    language: str | None = None
    probability: float | None = None
    data_files: str | list[str] | None = None
    prerendered: str | None = None

    def __post_init__(self) -> None:
        if sum(x is not None for x in (self.path, self.name, self.prerendered)) != 1:
            raise ValueError(f"a text source needs exactly one of path=, name= or prerendered=; got {self}")

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TextSource:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(f"unknown text source keys {unknown} in {raw}; known: {sorted(known)}")
        return cls(**raw)

    @property
    def tag(self) -> str:
        return self.language or self.config or Path(self.path or self.name or self.prerendered or "").stem

    def prerendered_dir(self, base_dir: Path | None = None) -> Path:
        """The folder of a ``prerendered`` source (relative paths resolve against ``base_dir``)."""
        if self.prerendered is None:
            raise ValueError(f"not a prerendered source: {self}")
        folder = Path(self.prerendered)
        return folder if folder.is_absolute() or base_dir is None else base_dir / folder


def _local_files(path: str, base_dir: Path | None) -> tuple[str, list[str]]:
    root = Path(path) if Path(path).is_absolute() or base_dir is None else base_dir / path
    if root.is_dir():
        files = sorted(str(p) for p in root.rglob("*") if p.suffix in _BUILDERS and p.is_file())
    elif any(ch in root.name for ch in "*?["):
        files = sorted(str(p) for p in root.parent.glob(root.name) if p.is_file())
    else:
        if not root.is_file():
            raise FileNotFoundError(f"text source {path!r}: no such file ({root})")
        files = [str(root)]
    if not files:
        raise FileNotFoundError(f"text source {path!r}: no text/jsonl/parquet/csv/tsv files in {root}")
    suffixes = {Path(f).suffix for f in files}
    if len(suffixes) != 1 or next(iter(suffixes)) not in _BUILDERS:
        raise ValueError(
            f"text source {path!r}: files must share one of {sorted(_BUILDERS)}; got {sorted(suffixes)}"
        )
    return next(iter(suffixes)), files


def load_source(source: TextSource, base_dir: Path | None = None) -> datasets.IterableDataset:
    """A streamed dataset of ``{"text": str}`` rows for one source (relative paths resolve against ``base_dir``).

    A ``prerendered`` source gives its shards' rows as they are (``pixels``, ``num_text_patches``, ``language``,
    ``text``).
    """
    import datasets

    if source.prerendered is not None:
        from pixel.data.prerender import read_manifest

        folder = source.prerendered_dir(base_dir)
        files = [str(folder / name) for name in read_manifest(folder)["shards"]]
        stream = datasets.load_dataset("parquet", data_files=files, split="train", streaming=True)
        return stream.select_columns(["pixels", "num_text_patches", "language", "text"])
    if source.path is not None:
        suffix, files = _local_files(source.path, base_dir)
        builder, kwargs = _BUILDERS[suffix]
        stream = datasets.load_dataset(builder, data_files=files, split="train", streaming=True, **kwargs)
    else:
        stream = datasets.load_dataset(
            source.name, source.config, split=source.split, data_files=source.data_files, streaming=True
        )
    columns = stream.column_names
    if columns is not None and source.column not in columns:
        raise ValueError(
            f"text source {source.path or source.name}: no column {source.column!r}; columns: {columns}"
        )
    if source.column != "text":
        stream = stream.rename_column(source.column, "text")
    # Streamed CSV/TSV do not know their columns before reading; selection is lazy and works either way.
    return stream.select_columns(["text"])


def interleave_sources(
    streams: Sequence[datasets.IterableDataset],
    probabilities: Sequence[float] | None,
    seed: int,
    stopping_strategy: StoppingStrategy = "first_exhausted",
) -> datasets.IterableDataset:
    """Sample from ``streams`` with ``probabilities`` (normalised; ``None`` = equal), seeded."""
    import datasets

    if len(streams) == 1:
        return streams[0]
    if probabilities is not None:
        if len(probabilities) != len(streams) or any(p < 0 for p in probabilities) or sum(probabilities) <= 0:
            raise ValueError(f"probabilities {list(probabilities)} do not fit {len(streams)} sources")
        total = float(sum(probabilities))
        probabilities = [p / total for p in probabilities]
    return datasets.interleave_datasets(
        list(streams), probabilities=probabilities, seed=seed, stopping_strategy=stopping_strategy
    )
