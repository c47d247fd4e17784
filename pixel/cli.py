"""The ``pixel`` command: a thin dispatcher. Each subcommand lives with the code it drives.

Bad input gets one line on stderr, ``pixel COMMAND: error: MESSAGE``, never a traceback, with the exit code saying
whose fault it is:

- 2, a usage error (``UsageError``, or an argparse error): an unknown or abbreviated flag, a bad flag value, a bad
  preset key, type or range. The message names the flag, or the preset file and key path, and the fix.
- 1, a data error (any other ``ValueError`` or ``OSError``): a file or folder named by a flag or a preset that is
  missing or unreadable, or whose content is wrong (the message names it).

``--debug`` anywhere on the command line is removed before parsing and lets the error raise with its traceback.
(TrainingArguments' own ``--debug`` option must then be written ``--debug=underflow_overflow``.)
"""

from __future__ import annotations

import argparse
import contextvars
import sys
from collections.abc import Callable, Sequence
from importlib import import_module
from typing import Any, NoReturn

__all__ = ["COMMANDS", "ArgumentParser", "OneLineErrors", "UsageError", "debugging", "main", "run_command"]

# subcommand -> (module, function, one-line help). Each function takes argv (list[str]) and returns an exit code.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "demo": (
        "pixel.demo",
        "main",
        "render en/hi/uk/zh samples (and more as the project grows) with built-in defaults",
    ),
    "render": ("pixel.render.command", "main", "render text to a PNG and print patch counts and word starts"),
    "fonts": (
        "pixel.render.font_store",
        "main",
        "show a renderer's fonts with sha256; install/verify GoNotoCurrent.ttf (PIXEL's font)",
    ),
    "pretrain": ("pixel.train.pretrain", "main", "MAE pretraining from a YAML preset"),
    "finetune": (
        "pixel.train.finetune",
        "main",
        "finetune on a task (ud, pos, ner, sib, classification, qa)",
    ),
    "sweep": ("pixel.train.sweep", "main", "seeds x learning rates, then a mean +- sd table"),
    "predict": ("pixel.train.predict", "main", "run a finetuned model on raw text or a file"),
    "analyze": ("pixel.analysis.command", "main", "retrieval, t-SNE, probing, reconstructions per layer"),
}

DEBUG_FLAG = "--debug"
# Set by the outermost run_command, so that a subcommand's own run_command (finetune's, for the scripts that call
# it directly) sees a --debug the dispatcher already removed.
_debug: contextvars.ContextVar[bool] = contextvars.ContextVar("pixel_debug", default=False)


class UsageError(ValueError):
    """Bad input on the command line or in a preset (exit code 2); the message names the flag or key, and the fix."""


class OneLineErrors(argparse.ArgumentParser):
    """argparse parser whose error is one line ``prog: error: message`` and exit code 2; put it first among the
    bases of a parser class (``class P(OneLineErrors, HfArgumentParser)``).

    argparse prints the whole usage first, hundreds of lines for a parser of ``TrainingArguments``.
    """

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


class ArgumentParser(OneLineErrors):
    """The parser of every ``pixel`` subcommand: one-line errors, and no abbreviated flags (``--max_step`` must not
    stand for ``--max_steps``)."""

    def __init__(self, *args: Any, allow_abbrev: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.allow_abbrev = allow_abbrev  # what argparse's __init__ does with it; read when parsing


def debugging() -> bool:
    """Whether ``--debug`` was given: errors should raise rather than be reported in one line."""
    return _debug.get()


def run_command(prog: str, command: Callable[[list[str]], int | None], argv: Sequence[str]) -> int:
    """``command(argv)`` under the error convention above; returns the exit code."""
    debug = _debug.get() or DEBUG_FLAG in argv
    token = _debug.set(debug)
    try:
        return int(command([arg for arg in argv if arg != DEBUG_FLAG]) or 0)
    except SystemExit as done:  # argparse: --help (0) or a one-line error (2), already printed
        if isinstance(done.code, str):
            print(done.code, file=sys.stderr)
            return 1
        return int(done.code or 0)
    except UsageError as error:
        if debug:
            raise
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as error:
        if debug:
            raise
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 1
    finally:
        _debug.reset(token)


def _usage() -> str:
    width = max(map(len, COMMANDS))
    lines = ["usage: pixel COMMAND [options] [--debug]", "", "commands:"]
    lines += [f"  {name:<{width}}  {help_}" for name, (_, _, help_) in COMMANDS.items()]
    lines += [
        "",
        "Run 'pixel COMMAND --help' for the options of a command; --debug shows the traceback of an error.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = [arg for arg in argv if arg != DEBUG_FLAG]
    if command and command[0] in ("-h", "--help"):
        print(_usage())
        return 0
    if not command:
        print(_usage(), file=sys.stderr)
        return 2
    name = command[0]
    if name not in COMMANDS:
        print(f"pixel: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module, function, _ = COMMANDS[name]
    rest = argv[argv.index(name) + 1 :]
    if DEBUG_FLAG in argv[: argv.index(name)]:
        rest = [DEBUG_FLAG, *rest]
    return run_command(f"pixel {name}", getattr(import_module(module), function), rest)


if __name__ == "__main__":
    raise SystemExit(main())
