"""``pixel sweep TASK``: the published multi-seed protocol.

Every (language, learning rate, seed) combination is finetuned (in this process, one after the other). Per
language, the learning rate with the best mean dev score over seeds is selected, and the test scores of that
learning rate are reported as mean ± sd over seeds (PIXEL-M4 used seeds 0-7). Outputs in ``--output_dir``:
``results.json`` (every run and the summary), ``results.md`` (the table) and ``plot_<language>.png``.
Finished runs (an ``all_results.json`` with test metrics) are reused, so an interrupted sweep can be rerun.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pixel.cli import ArgumentParser, UsageError, run_command

__all__ = ["Run", "main", "parse_seeds", "summarise", "write_table"]

logger = logging.getLogger(__name__)


@dataclass
class Run:
    language: str
    learning_rate: float
    seed: int
    output_dir: Path
    metrics: dict[str, float] = field(default_factory=dict)


def parse_seeds(text: str) -> list[int]:
    """'0-7' -> [0..7]; '0,2,5-6' -> [0, 2, 5, 6]."""
    seeds: list[int] = []
    for part in filter(None, text.split(",")):
        lo, sep, hi = part.partition("-")
        try:
            seeds += list(range(int(lo), int(hi) + 1)) if sep else [int(lo)]
        except ValueError:
            raise UsageError(f"--seeds: {part!r} is not a seed or a range like 0-7") from None
    if not seeds:
        raise UsageError("--seeds: no seeds given")
    return seeds


def _parse_floats(text: str, flag: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v]
    except ValueError:
        raise UsageError(f"{flag}: {text!r} is not a comma-separated list of numbers") from None
    if not values:
        raise UsageError(f"{flag}: no values given")
    return values


def _parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="pixel sweep",
        description="Finetune every (language, learning rate, seed) and tabulate mean ± sd of the test scores "
        "at the learning rate that is best on dev. Unlisted flags go to `pixel finetune TASK`.",
    )
    parser.add_argument("task", help="ud, pos, ner, sib, classification, pair_classification or qa")
    parser.add_argument("--seeds", default="0-7", help="seeds, e.g. 0-7 or 0,1,2 (default 0-7)")
    parser.add_argument("--learning_rates", default="1e-5,3e-5,5e-5", help="comma-separated learning rates")
    parser.add_argument(
        "--output_dir", required=True, help="sweep folder: <language>/lr<lr>-seed<seed>/ per run"
    )
    parser.add_argument(
        "--data_dir", help="data folder (or, with --languages, the folder holding one per language)"
    )
    parser.add_argument(
        "--languages", help="comma-separated sub-folders of --data_dir, e.g. eng_Latn,tam_Taml"
    )
    parser.add_argument("--data_dirs", help="comma-separated data folders (language = folder name)")
    return parser


def _data_dirs(args: argparse.Namespace) -> dict[str, Path]:
    if args.data_dirs:
        dirs = [Path(d) for d in args.data_dirs.split(",") if d]
        return {d.name: d for d in dirs}
    if args.data_dir is None:
        raise UsageError("pass --data_dir (optionally with --languages) or --data_dirs")
    root = Path(args.data_dir)
    if args.languages:
        return {lang: root / lang for lang in args.languages.split(",") if lang}
    return {root.name: root}


def _finished(run_dir: Path, test_key: str) -> dict[str, float] | None:
    path = run_dir / "all_results.json"
    if path.exists():
        metrics = json.loads(path.read_text(encoding="utf-8"))
        if test_key in metrics:
            return metrics
    return None


def _run_one(task: str, run: Run, data_dir: Path, passthrough: list[str], test_key: str) -> None:
    from pixel.train.finetune import finetune

    done = _finished(run.output_dir, test_key)
    if done is not None:
        logger.info("reusing finished run %s", run.output_dir)
        run.metrics = done
        return
    argv = [
        *passthrough,
        "--data_dir", str(data_dir),
        "--output_dir", str(run.output_dir),
        "--learning_rate", str(run.learning_rate),
        "--seed", str(run.seed),
        "--do_train", "--do_eval", "--do_predict",
    ]  # fmt: skip
    logger.info("sweep run %s lr=%g seed=%d -> %s", run.language, run.learning_rate, run.seed, run.output_dir)
    run.metrics = finetune(task, argv, prog=f"pixel sweep {task}")
    gc.collect()


def _mean_sd(values: list[float]) -> dict[str, Any]:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return {"mean": statistics.fmean(values), "sd": sd, "n": len(values), "values": values}


def summarise(runs: list[Run], metric: str, greater_is_better: bool = True) -> dict[str, Any]:
    """Per language: dev/test mean ± sd per learning rate, the lr best on mean dev, and its test scores."""
    summary: dict[str, Any] = {}
    for language in dict.fromkeys(r.language for r in runs):
        per_lr: dict[str, Any] = {}
        for lr in sorted({r.learning_rate for r in runs if r.language == language}):
            group = [r for r in runs if r.language == language and r.learning_rate == lr]
            test_keys = sorted(
                {k for r in group for k in r.metrics if k.startswith("test_") and _is_score(k)}
            )
            per_lr[repr(lr)] = {
                "dev": _mean_sd([r.metrics[f"eval_{metric}"] for r in group]),
                "test": {k: _mean_sd([r.metrics[k] for r in group if k in r.metrics]) for k in test_keys},
            }
        pick = max if greater_is_better else min
        best = pick(per_lr, key=lambda lr: per_lr[lr]["dev"]["mean"])
        summary[language] = {"best_learning_rate": float(best), "per_learning_rate": per_lr}
    return summary


def _is_score(key: str) -> bool:
    # Bookkeeping entries of the results files (sizes, timings, loss), not scores to tabulate.
    bookkeeping = ("_runtime", "_per_second", "_samples", "_words", "_examples", "_loss", "_preparation_time")
    return not key.endswith(bookkeeping)


def write_table(summary: dict[str, Any], metric: str, path: Path) -> str:
    """A Markdown table: language, selected lr, dev score, and every test score as mean ± sd."""
    test_keys = sorted(
        {
            k
            for lang in summary.values()
            for k in lang["per_learning_rate"][repr(lang["best_learning_rate"])]["test"]
        }
    )
    main = f"test_{metric}"
    test_keys = [main, *[k for k in test_keys if k != main]] if main in test_keys else test_keys
    header = [
        "language",
        "best lr",
        f"dev {metric}",
        *[k.removeprefix("test_") + " (test)" for k in test_keys],
        "seeds",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for language, entry in summary.items():
        chosen = entry["per_learning_rate"][repr(entry["best_learning_rate"])]
        cells = [language, f"{entry['best_learning_rate']:g}", _fmt(chosen["dev"])]
        cells += [_fmt(chosen["test"][k]) if k in chosen["test"] else "–" for k in test_keys]
        cells.append(str(chosen["dev"]["n"]))
        lines.append("| " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    path.write_text(text, encoding="utf-8")
    return text


def _fmt(stat: dict[str, Any]) -> str:
    # Fractions (accuracy, seqeval/sklearn F1) get more digits than percentages (UAS/LAS, SQuAD F1).
    digits = 3 if abs(stat["mean"]) <= 1.0 else 2
    return f"{stat['mean']:.{digits}f} ± {stat['sd']:.{digits}f}"


def _plot(language: str, entry: dict[str, Any], metric: str, path: Path) -> None:
    """Dev and test score against learning rate: mean ± sd bars plus one dot per seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lrs = sorted(entry["per_learning_rate"], key=float)
    xs = [float(lr) for lr in lrs]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for label, get in (("dev", lambda e: e["dev"]), ("test", lambda e: e["test"].get(f"test_{metric}"))):
        stats = [get(entry["per_learning_rate"][lr]) for lr in lrs]
        if any(s is None for s in stats):
            continue
        ax.errorbar(
            xs, [s["mean"] for s in stats], yerr=[s["sd"] for s in stats], capsize=3, marker="o", label=label
        )
        for x, s in zip(xs, stats, strict=True):
            ax.scatter([x] * len(s["values"]), s["values"], s=8, alpha=0.4, color=ax.lines[-1].get_color())
    ax.axvline(entry["best_learning_rate"], color="grey", linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel(metric)
    ax.set_title(f"{language}: {metric} over seeds (dotted: selected lr)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def sweep(argv: list[str]) -> dict[str, Any]:
    """Run the sweep described by ``argv``; returns the JSON summary (also written to the output folder)."""
    from pixel.tasks import get_task

    args, passthrough = _parser().parse_known_args(argv)
    seeds = parse_seeds(args.seeds)
    lrs = _parse_floats(args.learning_rates, "--learning_rates")
    task = get_task(args.task)
    metric = task.metric_for_best_model
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    runs = []
    for language, data_dir in _data_dirs(args).items():
        for lr in lrs:
            for seed in seeds:
                run = Run(language, lr, seed, out / language / f"lr{lr:g}-seed{seed}")
                _run_one(args.task, run, data_dir, passthrough, f"test_{metric}")
                runs.append(run)
    summary = summarise(runs, metric, task.greater_is_better)
    result = {
        "task": args.task,
        "metric": metric,
        "seeds": seeds,
        "learning_rates": lrs,
        "summary": summary,
        "runs": [{**vars(r), "output_dir": str(r.output_dir)} for r in runs],
    }
    (out / "results.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(write_table(summary, metric, out / "results.md"))
    for language, entry in summary.items():
        _plot(language, entry, metric, out / f"plot_{language}.png")
    return result


def main(argv: list[str] | None = None) -> int:
    """``pixel sweep``; returns the exit code (bad input is one line: 2 for a bad flag, 1 for missing data)."""

    def run(argv: list[str]) -> None:
        sweep(argv)

    return run_command("pixel sweep", run, list(sys.argv[1:] if argv is None else argv))
