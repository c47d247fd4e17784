"""``pixel sweep TASK``: the published multi-seed protocol.

Every (language, learning rate, seed) combination is finetuned (in this process, one after the other). Per
language, the learning rate with the best mean dev score over seeds is selected, and the test scores of that
learning rate are reported as mean ± sd over seeds (PIXEL-M4 used seeds 0-7). Outputs in ``--output_dir``:
``results.json`` (every run and the summary), ``results.md`` (the table) and ``plot_<language>.png``.
Finished runs (an ``all_results.json`` with test metrics) are reused, so an interrupted sweep can be rerun.

A sweep must not report noise as a result: learning rates whose mean dev scores tie (within ``--tie_tolerance``)
are reported as a tie, not a selection; a single-seed row has no sd (``± n/a``); a row at (or below) the task's
trivial baseline (``{eval,test}_baseline_<metric>`` of the runs) or with runs that predicted one class for every
example (``{eval,test}_collapsed``) is flagged in the table's notes.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import math
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
    parser.add_argument(
        "--tie_tolerance",
        type=float,
        default=0.0,
        help="mean dev scores this close (in the metric's units) are a tie (default 0: equal up to rounding)",
    )
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


def _mean(group: list[Run], key: str) -> float | None:
    values = [r.metrics[key] for r in group if key in r.metrics]
    return statistics.fmean(values) if values else None


def _close(a: float, b: float, tolerance: float) -> bool:
    """Equal within ``tolerance``, or up to float rounding (a collapsed run scores its baseline exactly)."""
    return abs(a - b) <= tolerance or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _learning_rate_entry(group: list[Run], metric: str) -> dict[str, Any]:
    """Dev/test mean ± sd of one (language, lr) over seeds, the trivial baseline's mean and the collapsed runs."""
    test_keys = sorted({k for r in group for k in r.metrics if k.startswith("test_") and _is_score(k)})
    return {
        "dev": _mean_sd([r.metrics[f"eval_{metric}"] for r in group]),
        "test": {k: _mean_sd([r.metrics[k] for r in group if k in r.metrics]) for k in test_keys},
        # None for runs written before baselines were reported
        "baseline": {
            s: _mean(group, f"{p}_baseline_{metric}") for s, p in (("dev", "eval"), ("test", "test"))
        },
        "collapsed_runs": {
            s: sum(int(r.metrics.get(f"{p}_collapsed", 0)) for r in group)
            for s, p in (("dev", "eval"), ("test", "test"))
        },
    }


def summarise(
    runs: list[Run], metric: str, greater_is_better: bool = True, tie_tolerance: float = 0.0
) -> dict[str, Any]:
    """Per language: dev/test mean ± sd per learning rate, the lr best on mean dev, and its test scores.

    ``tied_learning_rates`` lists every lr whose mean dev score ties the best one's (within ``tie_tolerance``; empty
    without a tie): ``best_learning_rate`` is then only the first of them. ``flags`` say what makes the selected row
    doubtful (a tie, a single seed, a score at or below the trivial baseline, collapsed runs); ``selection`` is the
    line the sweep prints.
    """
    summary: dict[str, Any] = {}
    for language in dict.fromkeys(r.language for r in runs):
        per_lr: dict[str, Any] = {}
        for lr in sorted({r.learning_rate for r in runs if r.language == language}):
            group = [r for r in runs if r.language == language and r.learning_rate == lr]
            per_lr[repr(lr)] = _learning_rate_entry(group, metric)
        pick = max if greater_is_better else min
        best = pick(per_lr, key=lambda lr: per_lr[lr]["dev"]["mean"])
        tied = [
            float(lr)
            for lr in per_lr
            if _close(per_lr[lr]["dev"]["mean"], per_lr[best]["dev"]["mean"], tie_tolerance)
        ]
        entry = {
            "best_learning_rate": float(best),
            "tied_learning_rates": tied if len(tied) > 1 else [],
            "per_learning_rate": per_lr,
        }
        entry["flags"] = _flags(entry, metric, greater_is_better, tie_tolerance)
        entry["selection"] = _selection(language, entry, metric)
        summary[language] = entry
    return summary


def _flags(entry: dict[str, Any], metric: str, greater_is_better: bool, tolerance: float) -> list[str]:
    """What a reader of the selected row must know: a tie, a single seed, no gain over the baseline, a collapse."""
    chosen = entry["per_learning_rate"][repr(entry["best_learning_rate"])]
    flags = []
    if entry["tied_learning_rates"]:
        flags.append("tie on dev between lr " + ", ".join(f"{lr:g}" for lr in entry["tied_learning_rates"]))
    n = chosen["dev"]["n"]
    if n == 1:
        flags.append("single seed")
    for split, stat in (("dev", chosen["dev"]), ("test", chosen["test"].get(f"test_{metric}"))):
        baseline = chosen["baseline"][split]
        if stat is None or baseline is None:
            continue
        if _close(stat["mean"], baseline, tolerance):
            flags.append(f"{split} at trivial baseline")
        elif (stat["mean"] < baseline) == greater_is_better:
            flags.append(f"{split} worse than trivial baseline")
    for split, count in chosen["collapsed_runs"].items():
        if count:
            flags.append(f"{split}: {count}/{n} runs predict one class")
    return flags


def _selection(language: str, entry: dict[str, Any], metric: str) -> str:
    """The line that says which lr was selected, or that none could be."""
    per_lr = entry["per_learning_rate"]
    best = entry["best_learning_rate"]
    dev = per_lr[repr(best)]["dev"]
    seeds = f"{dev['n']} seed" + ("s" if dev["n"] != 1 else "")
    if entry["tied_learning_rates"]:
        tied = ", ".join(f"{lr:g}" for lr in entry["tied_learning_rates"])
        return (
            f"{language}: tie between lr {tied} on mean dev {metric} ({_fmt(dev)}, {seeds}): no learning rate is "
            f"selected; the test scores shown are lr {best:g}'s"
        )
    if len(per_lr) == 1:
        return (
            f"{language}: one learning rate, {best:g} (dev {metric} {_fmt(dev)}, {seeds}): nothing to select"
        )
    return f"{language}: selected lr {best:g} on mean dev {metric} {_fmt(dev)} ({seeds})"


def _is_score(key: str) -> bool:
    # Bookkeeping entries of the results files (sizes, timings, loss), and the baselines and collapse flags that
    # annotate the scores, are not scores to tabulate.
    bookkeeping = ("_runtime", "_per_second", "_samples", "_words", "_examples", "_loss", "_preparation_time")
    return not key.endswith((*bookkeeping, "_collapsed")) and "_baseline_" not in key


def write_table(summary: dict[str, Any], metric: str, path: Path) -> str:
    """A Markdown table: language, selected lr (or the tie), dev score, the test scores as mean ± sd with the
    trivial baseline after the task metric, the number of seeds and the row's flags; then the selection lines."""
    test_keys = sorted(
        {
            k
            for lang in summary.values()
            for k in lang["per_learning_rate"][repr(lang["best_learning_rate"])]["test"]
        }
    )
    main = f"test_{metric}"
    others = [k for k in test_keys if k != main]
    header = [
        "language",
        "best lr",
        f"dev {metric}",
        f"{metric} (test)",
        "baseline (test)",
        *[k.removeprefix("test_") + " (test)" for k in others],
        "seeds",
        "notes",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for language, entry in summary.items():
        chosen = entry["per_learning_rate"][repr(entry["best_learning_rate"])]
        tied = entry.get("tied_learning_rates")
        selected = (
            "tie: " + ", ".join(f"{lr:g}" for lr in tied) if tied else f"{entry['best_learning_rate']:g}"
        )
        baseline = chosen.get("baseline", {}).get("test")
        cells = [language, selected, _fmt(chosen["dev"])]
        cells.append(_fmt(chosen["test"][main]) if main in chosen["test"] else "–")
        cells.append("–" if baseline is None else _number(baseline))
        cells += [_fmt(chosen["test"][k]) if k in chosen["test"] else "–" for k in others]
        cells += [str(chosen["dev"]["n"]), "; ".join(entry.get("flags", []))]
        lines.append("| " + " | ".join(cells) + " |")
    selections = [entry["selection"] for entry in summary.values() if "selection" in entry]
    text = (
        "\n".join(lines) + "\n" + "".join(f"\n{line}" for line in selections) + ("\n" if selections else "")
    )
    path.write_text(text, encoding="utf-8")
    return text


def _digits(value: float) -> int:
    # Fractions (accuracy, seqeval/sklearn F1) get more digits than percentages (UAS/LAS, SQuAD F1).
    return 3 if abs(value) <= 1.0 else 2


def _number(value: float) -> str:
    return f"{value:.{_digits(value)}f}"


def _fmt(stat: dict[str, Any]) -> str:
    """mean ± sd; a single seed has no sd, and says so."""
    digits = _digits(stat["mean"])
    sd = "n/a" if stat["n"] == 1 else f"{stat['sd']:.{digits}f}"
    return f"{stat['mean']:.{digits}f} ± {sd}"


def _plot(language: str, entry: dict[str, Any], metric: str, path: Path) -> None:
    """Dev and test score against learning rate: mean ± sd bars, one dot per seed, the trivial baseline dashed."""
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
    baseline = entry["per_learning_rate"][repr(entry["best_learning_rate"])].get("baseline", {}).get("test")
    if baseline is not None:
        ax.axhline(baseline, color="grey", linestyle="--", linewidth=1, label="trivial baseline (test)")
    ax.axvline(entry["best_learning_rate"], color="grey", linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel(metric)
    selected = "tie, first lr" if entry.get("tied_learning_rates") else "selected lr"
    ax.set_title(f"{language}: {metric} over seeds (dotted: {selected})")
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
    if not args.tie_tolerance >= 0:
        raise UsageError(f"--tie_tolerance: {args.tie_tolerance} is not a non-negative number")
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
    summary = summarise(runs, metric, task.greater_is_better, args.tie_tolerance)
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
