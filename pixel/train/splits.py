"""Which file each split of a finetuning run reads: ``--train_file``/``--validation_file``/``--test_file``, else the
task's file pattern in ``--data_dir``; checked before any model is loaded.

Many UD treebanks ship only dev and test. A missing split is an error naming the pattern searched and the flag that
supplies the file. Evaluating on the file the model trained on (the same path, or a copy with the same bytes, which
is what passing the dev file as ``--train_file`` amounts to) is refused, since its scores would measure
memorisation, unless ``--allow_eval_on_train_file`` is given; then it is a loud warning.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

from pixel.cli import UsageError

__all__ = ["SPLIT_FLAGS", "resolve_splits", "same_file"]

logger = logging.getLogger(__name__)

SPLIT_FLAGS = {"train": "--train_file", "dev": "--validation_file", "test": "--test_file"}
# What to do when a split is not in --data_dir.
_MISSING_HINTS = {
    "train": "to train on a folder without a train split (many UD treebanks ship only dev and test), pass "
    "--train_file FILE (and --validation_file FILE for the dev set, which must not be the train file); "
    "see docs/finetuning.md",
    "dev": "pass --validation_file FILE, or train without evaluating (no --do_eval, --eval_strategy no)",
    "test": "pass --test_file FILE, or leave out --do_predict",
}


def resolve_splits(task: Any, data_args: Any, training_args: Any) -> dict[str, Path]:
    """split ("train" | "dev" | "test") -> file, for every split the run needs.

    A missing file raises FileNotFoundError naming it (or the pattern searched) and the flag to pass; a dev or test
    file that is the train file raises (see the module docstring).
    """
    needed = []
    if training_args.do_train:
        needed.append("train")
    if training_args.do_eval or training_args.eval_strategy != "no":
        needed.append("dev")
    if training_args.do_predict:
        needed.append("test")
    if not needed:
        raise ValueError("nothing to do: pass at least one of --do_train, --do_eval, --do_predict")
    data_dir = data_args.resolved_data_dir()
    paths = {}
    for split in needed:
        explicit = data_args.split_file(split)
        if explicit is not None:
            if not explicit.exists():
                raise FileNotFoundError(f"{SPLIT_FLAGS[split]} {explicit} does not exist")
            paths[split] = explicit
        elif data_dir is None:
            raise ValueError(f"--data_dir (or {SPLIT_FLAGS[split]}) is needed for the {split} split")
        else:
            paths[split] = _find_split(task, data_dir, split)
    _check_not_evaluating_on_train(paths, data_args)
    return paths


def _find_split(task: Any, data_dir: Path, split: str) -> Path:
    try:
        return task.find_split(data_dir, split)
    except FileNotFoundError as error:
        if not data_dir.is_dir():
            raise
        raise FileNotFoundError(f"{error}; {_MISSING_HINTS[split]}") from error


def same_file(a: Path, b: Path) -> str | None:
    """How ``a`` and ``b`` are one file ("the same file" or "a copy with the same content"), or None."""
    if a.resolve() == b.resolve():
        return "the same file"
    if a.is_file() and b.is_file() and a.stat().st_size == b.stat().st_size and _sha256(a) == _sha256(b):
        return "a copy with the same content"
    return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_not_evaluating_on_train(paths: dict[str, Path], data_args: Any) -> None:
    train = paths.get("train")
    if train is None:
        return
    for split in ("dev", "test"):
        if split not in paths or not (how := same_file(paths[split], train)):
            continue
        problem = (
            f"the {split} file {paths[split]} is {how} as the train file {train}: "
            "scores on it would measure memorisation, not generalisation"
        )
        if data_args.allow_eval_on_train_file:
            logger.warning("EVALUATING ON THE TRAINING DATA (--allow_eval_on_train_file): %s", problem)
            continue
        # A flag naming either file is a usage error; two identical files found in --data_dir are a data error.
        flagged = data_args.split_file("train") is not None or data_args.split_file(split) is not None
        error = UsageError if flagged else ValueError
        raise error(
            f"{problem}; evaluate on another file ({SPLIT_FLAGS[split]} FILE), or pass "
            "--allow_eval_on_train_file to do it anyway"
        )
