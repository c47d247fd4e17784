"""Typed pretraining configuration: the ``data`` section of a preset, and the checks all preset sections go through.

A section is checked against the annotations of what it configures (a dataclass, or a constructor's signature):
``check_mapping`` rejects unknown keys with a did-you-mean and checks each value against its annotation
(``check_value``: ``int``, ``float``, ``tuple[float, ...]``, ``Literal[...]``, unions, nested dataclasses); a
bad value raises ``ConfigError`` naming its key path (``data.sources[1].path``). The preset loader
(``pixel.train.pretrain_preset``) prefixes the YAML file or the ``--override`` it came from.

``PretrainingDataConfig`` is the ``data`` section: text sources, packing, span masking and batch layout, with its
ranges checked on construction, and ``build`` makes the ``PretrainingDataset`` and ``PretrainingCollator``.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import types
import typing
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Literal

from pixel.data.text import StoppingStrategy, TextSource

__all__ = [
    "ConfigError",
    "PretrainingDataConfig",
    "check_keys",
    "check_mapping",
    "check_value",
    "field_types",
    "from_mapping",
]


class ConfigError(ValueError):
    """A bad configuration value: ``key`` is its dotted path (``model.hidden_size``), ``problem`` what is wrong."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}" if key else problem)
        self.key = key
        self.problem = problem

    def under(self, prefix: str) -> ConfigError:
        """The same error with its key path inside ``prefix``."""
        return ConfigError(_join(prefix, self.key), self.problem)


def _join(prefix: str, key: str) -> str:
    if not prefix:
        return key
    if not key:
        return prefix
    return f"{prefix}{key}" if key.startswith("[") else f"{prefix}.{key}"


def check_keys(given: Collection[str], known: Collection[str], where: str = "", kind: str = "key") -> None:
    """ConfigError for the first key of ``given`` not in ``known``, with the closest known one as a suggestion."""
    for key in given:
        if key in known:
            continue
        close = difflib.get_close_matches(str(key), [str(k) for k in known], n=1)
        hint = f"did you mean {close[0]}?" if close else f"not a {kind}"
        if not close and len(known) <= 25:
            hint += f"; known: {', '.join(sorted(map(str, known)))}"
        raise ConfigError(_join(where, str(key)), f"unknown key ({hint})")


def field_types(target: type | Callable[..., Any]) -> dict[str, Any]:
    """name -> annotation of what ``target`` accepts: a dataclass's init fields, else its (constructor's) named
    parameters (``self``, ``*args`` and ``**kwargs`` excluded); unannotated ones are ``Any``. Pass ``cls.__init__``
    for a dataclass with a constructor of its own (``PretrainedConfig`` subclasses under transformers 5)."""
    if dataclasses.is_dataclass(target):
        hints = typing.get_type_hints(target)
        return {f.name: hints.get(f.name, Any) for f in dataclasses.fields(target) if f.init}
    function = target.__init__ if inspect.isclass(target) else target
    hints = typing.get_type_hints(function)
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    parameters = inspect.signature(function).parameters.values()
    return {p.name: hints.get(p.name, Any) for p in parameters if p.kind in named and p.name != "self"}


def check_mapping(raw: Any, types_: Mapping[str, Any], where: str, kind: str) -> dict[str, Any]:
    """``raw`` as a dict whose keys are in ``types_`` and whose values match their annotations."""
    if not isinstance(raw, Mapping):
        raise ConfigError(where, f"expected a mapping of {kind}s, got {_describe_value(raw)}")
    check_keys(raw, types_, where, kind)
    return {key: check_value(value, types_[key], _join(where, key)) for key, value in raw.items()}


def from_mapping(cls: type, raw: Any, where: str = "") -> Any:
    """A ``cls`` dataclass from a mapping of its fields, checked; its own ValueErrors name the key path."""
    values = check_mapping(raw, field_types(cls), where, f"{cls.__name__} field")
    for f in dataclasses.fields(cls):
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if f.init and required and f.name not in values:
            raise ConfigError(_join(where, f.name), "is required")
    try:
        return cls(**values)
    except ConfigError as error:
        raise error.under(where) from None
    except ValueError as error:  # the class's own check, naming no key
        raise ConfigError(where, str(error)) from None


def check_value(value: Any, annotation: Any, key: str) -> Any:
    """``value`` if it matches ``annotation`` (converted where the annotation asks: a list for a tuple, a mapping
    for a dataclass, an int for a float); else ConfigError naming ``key``."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is Any or annotation is object:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        members = [member for member in args if member is not type(None)]
        if len(members) == 1:  # X | None: X's own error says more (a nested key, an item of a list)
            return check_value(value, members[0], key)
        for member in members:
            try:
                return check_value(value, member, key)
            except ConfigError:
                continue
        raise ConfigError(key, f"expected {_describe_type(annotation)}, got {_describe_value(value)}")
    if origin is Literal:
        if value in args:
            return value
        raise ConfigError(key, f"must be one of {', '.join(map(repr, args))}, got {_describe_value(value)}")
    checked = _check_plain(value, origin or annotation, args, key)
    if checked is _MISMATCH:
        raise ConfigError(key, f"expected {_describe_type(annotation)}, got {_describe_value(value)}")
    return checked


_MISMATCH = object()


def _check_plain(value: Any, kind: Any, args: tuple, key: str) -> Any:
    if kind is type(None):
        return None if value is None else _MISMATCH
    if kind is bool:
        return value if isinstance(value, bool) else _MISMATCH
    if kind is int:
        return value if isinstance(value, int) and not isinstance(value, bool) else _MISMATCH
    if kind is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        return _float_from_yaml_string(value)
    if kind is str:
        return value if isinstance(value, str) else _MISMATCH
    if kind is Path:
        return Path(value) if isinstance(value, str | Path) else _MISMATCH
    if kind in (list, tuple, Sequence, typing.Sequence):
        return _check_sequence(value, kind, args, key)
    if kind in (dict, Mapping, typing.Mapping):
        return dict(value) if isinstance(value, Mapping) else _MISMATCH
    if isinstance(kind, type) and issubclass(kind, Enum):
        return value if value in {member.value for member in kind} or isinstance(value, kind) else _MISMATCH
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        if isinstance(value, kind):
            return value
        return from_mapping(kind, value, key) if isinstance(value, Mapping) else _MISMATCH
    if isinstance(kind, type):
        return value if isinstance(value, kind) else _MISMATCH
    return value  # an annotation we cannot check (a TypeVar, a Callable, ...)


def _float_from_yaml_string(value: Any) -> Any:
    # YAML 1.1 (PyYAML) reads exponents without a dot or sign, such as 1e-5, as strings.
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    return _MISMATCH


def _check_sequence(value: Any, kind: Any, args: tuple, key: str) -> Any:
    if not isinstance(value, list | tuple):
        return _MISMATCH
    if kind is tuple and args and args[-1] is not Ellipsis:
        if len(value) != len(args):
            raise ConfigError(key, f"expected {len(args)} entries, got {len(value)}: {value!r}")
        items = [check_value(v, a, f"{key}[{i}]") for i, (v, a) in enumerate(zip(value, args, strict=True))]
    else:
        item = args[0] if args else Any
        items = [check_value(v, item, f"{key}[{i}]") for i, v in enumerate(value)]
    return tuple(items) if kind is tuple else items


def _describe_type(annotation: Any) -> str:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(dict.fromkeys(_describe_type(a) for a in args))
    if origin is Literal:
        return "one of " + ", ".join(map(repr, args))
    kind = origin or annotation
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string", type(None): "null",
             Path: "a path", list: "a list", tuple: "a list", dict: "a mapping"}  # fmt: skip
    if kind in names:
        return names[kind]
    if isinstance(kind, type) and issubclass(kind, Enum):
        return "one of " + ", ".join(repr(m.value) for m in kind)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return f"a mapping of {kind.__name__} fields"
    return getattr(kind, "__name__", str(kind))


def _describe_value(value: Any) -> str:
    kind = {bool: "a boolean", int: "an integer", float: "a number", str: "the string", list: "a list",
            dict: "a mapping", type(None): "null"}.get(type(value), type(value).__name__)  # fmt: skip
    return kind if value is None else f"{kind} {value!r}"


@dataclass
class PretrainingDataConfig:
    """The ``data`` section of a pretraining preset (defaults: the published PIXEL-M4 recipe).

    Attributes:
        sources: text sources (``TextSource`` fields: ``{path: ...}``, ``{name: ..., config: ...}`` or
            ``{prerendered: DIR}``), interleaved with their ``probability`` (all or none).
        data_dir: folder that relative source paths resolve against (the preset loader makes it absolute).
        max_patches: text + EOS patches per block (+ CLS = the model's sequence); min_patches: shorter blocks are
            dropped. pack: pack lines into blocks (False: one document = one block); clean: blank out code points
            no font can draw; across_documents: a block may join the ends of several documents.
        mask_ratio: fraction of the padded length to span-mask, in (0, 1); span_masking off uses the model's
            random masking at the same ratio. max_span_length, cumulative_span_weights, masking_spacing: the
            ``SpanMaskingGenerator``.
        pad_multiple, pad_to_max: batch length (length + CLS a multiple of ``pad_multiple``, or ``max_patches``).
        pixel_dtype: what the DataLoader workers send ("uint8" bytes, divided by 255 on the device, or "float32").
    """

    sources: list[TextSource]
    data_dir: str = "."
    max_patches: int = 511
    min_patches: int = 22
    pack: bool = True
    clean: bool = True
    across_documents: bool = True
    stopping_strategy: StoppingStrategy = "first_exhausted"
    shuffle_buffer: int = 10_000
    mask_ratio: float = 0.25
    span_masking: bool = True
    max_span_length: int = 6
    cumulative_span_weights: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8, 0.9, 1.0)
    masking_spacing: int | Literal["span"] = "span"
    pad_multiple: int = 64
    pad_to_max: bool = False
    pixel_dtype: Literal["uint8", "float32"] = "uint8"

    def __post_init__(self) -> None:
        if not self.sources:
            raise ConfigError(
                "sources", "is empty: give at least one {path: ...} or {name: ..., config: ...}"
            )
        probabilities = [source.probability for source in self.sources]
        if any(p is None for p in probabilities) and any(p is not None for p in probabilities):
            raise ConfigError(
                "sources", f"give a probability for every source or for none, got {probabilities}"
            )
        for i, p in enumerate(probabilities):
            if p is not None and not 0 < p <= 1:
                raise ConfigError(f"sources[{i}].probability", f"must be in (0, 1], got {p}")
        if len({source.prerendered is not None for source in self.sources}) > 1:
            raise ConfigError(
                "sources", "pre-rendered sources ({prerendered: DIR}) cannot be mixed with text sources"
            )
        _at_least(self.max_patches, 1, "max_patches")
        _at_least(self.min_patches, 1, "min_patches")
        if self.min_patches > self.max_patches:
            raise ConfigError(
                "min_patches", f"{self.min_patches} is more than max_patches={self.max_patches}"
            )
        _at_least(self.shuffle_buffer, 0, "shuffle_buffer")
        _at_least(self.pad_multiple, 1, "pad_multiple")
        if not 0.0 < self.mask_ratio < 1.0:
            raise ConfigError("mask_ratio", f"must be in (0, 1) (published 0.25), got {self.mask_ratio}")
        _at_least(self.max_span_length, 1, "max_span_length")
        if self.masking_spacing != "span":
            _at_least(self.masking_spacing, 0, "masking_spacing")
        self.span_masking_generator()  # checks the span weights against max_span_length

    def span_masking_generator(self) -> Any:
        """The ``SpanMaskingGenerator`` of this section, or None without span masking."""
        from pixel.model.masking import SpanMaskingGenerator

        if not self.span_masking:
            return None
        try:
            return SpanMaskingGenerator(
                max_span_length=self.max_span_length,
                spacing=self.masking_spacing,
                cumulative_span_weights=self.cumulative_span_weights,
            )
        except ValueError as error:
            raise ConfigError("cumulative_span_weights", str(error)) from None

    @classmethod
    def from_dict(cls, raw: Any, where: str = "data") -> PretrainingDataConfig:
        """The section from its preset mapping; ConfigError names the key path under ``where``."""
        return from_mapping(cls, raw, where)

    def source_files(self) -> list[tuple[str, Path]]:
        """(key path, resolved path) of every local source: a file, folder or glob, or a pre-rendered folder."""
        out = []
        for i, source in enumerate(self.sources):
            for name in ("path", "prerendered"):
                value = getattr(source, name)
                if value is not None:
                    path = Path(value)
                    out.append(
                        (f"sources[{i}].{name}", path if path.is_absolute() else Path(self.data_dir) / path)
                    )
        return out

    def missing_source_files(self) -> list[tuple[str, Path]]:
        """The ``source_files`` that do not exist (a glob that matches nothing counts as missing)."""
        missing = []
        for key, path in self.source_files():
            if any(ch in path.name for ch in "*?["):
                found = any(path.parent.glob(path.name))
            else:
                found = path.exists()
            if not found:
                missing.append((key, path))
        return missing

    def build(self, renderer: Any, *, seed: int, batch_size: int) -> tuple[Any, Any]:
        """``(PretrainingDataset, PretrainingCollator)`` for ``renderer``; ``batch_size`` is the number of examples
        per DataLoader batch on all processes together (the dataset's resume fast-forward needs it)."""
        from pixel.data.cleaning import TextCleaner
        from pixel.data.packing import BlockPacker, renderer_measure
        from pixel.data.prerender import check_renderer
        from pixel.data.pretraining import PretrainingCollator, PretrainingDataset

        data_dir = Path(self.data_dir)
        for source in self.sources:  # refuse shards rendered by another renderer (or for longer blocks)
            if source.prerendered is not None:
                check_renderer(source.prerendered_dir(data_dir), renderer, self.max_patches)
        cleaner = TextCleaner.for_renderer(renderer) if self.clean else None

        def packer_factory() -> BlockPacker:
            return BlockPacker(
                measure=renderer_measure(renderer, self.max_patches),
                max_patches=self.max_patches,
                min_patches=self.min_patches,
                clean=cleaner,
                across_documents=self.across_documents,
            )

        dataset = PretrainingDataset(
            sources=self.sources,
            packer_factory=packer_factory if self.pack else None,
            seed=seed,
            stopping_strategy=self.stopping_strategy,
            shuffle_buffer=self.shuffle_buffer,
            batch_size=batch_size,
            base_dir=data_dir,
        )
        collator = PretrainingCollator(
            renderer=renderer,
            span_masking=self.span_masking_generator(),
            mask_ratio=self.mask_ratio,
            max_patches=self.max_patches,
            pad_multiple=self.pad_multiple,
            pad_to_max=self.pad_to_max,
            seed=seed,
            pixel_dtype=self.pixel_dtype,
        )
        return dataset, collator


def _at_least(value: int, minimum: int, key: str) -> None:
    if value < minimum:
        raise ConfigError(key, f"must be at least {minimum}, got {value}")
