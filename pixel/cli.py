"""The ``pixel`` command: a thin dispatcher. Each subcommand lives with the code it drives."""

import sys
from importlib import import_module

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


def _usage() -> str:
    width = max(map(len, COMMANDS))
    lines = ["usage: pixel COMMAND [options]", "", "commands:"]
    lines += [f"  {name:<{width}}  {help_}" for name, (_, _, help_) in COMMANDS.items()]
    lines += ["", "Run 'pixel COMMAND --help' for the options of a command."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"pixel: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module, function, _ = COMMANDS[name]
    return int(getattr(import_module(module), function)(rest) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
