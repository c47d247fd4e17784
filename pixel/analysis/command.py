"""``pixel analyze``: the PIXEL-M4 analyses as subcommands.

  retrieval    per-layer cross-lingual sentence retrieval on parallel SIB-200 sentences (table + plot)
  tsne         t-SNE of per-layer sentence embeddings coloured by language (one panel per layer)
  probe        per-layer logistic-regression probe (SIB-200 topic or UD UPOS) vs the majority baseline
  reconstruct  span-mask rendered text and draw the MAE's reconstruction

Example: pixel analyze retrieval --model PATH --langs eng_Latn,hin_Deva,ukr_Cyrl,zho_Hans --layers all --output_dir D
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

import torch

from pixel.cli import ArgumentParser, debugging

from .embeddings import check_model_source, load_model, load_processor
from .sib import default_data_dir, locate_languages
from .word_probing import default_ud_dir

__all__ = ["main", "parse_layers"]

logger = logging.getLogger("pixel.analysis")

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
DEFAULT_LANGS = "eng_Latn,hin_Deva,ukr_Cyrl,zho_Hans"


def parse_layers(spec: str, num_layers: int) -> list[int]:
    """'all', 'last' or comma-separated indices / ranges 'a-b' into sorted unique layers of 0..num_layers
    (0 = embeddings, num_layers = last block)."""
    if spec == "all":
        return list(range(num_layers + 1))
    layers: set[int] = set()
    for part in spec.split(","):
        part = part.strip()
        try:
            if part == "last":
                chosen = [num_layers]
            elif "-" in part[1:]:
                low, high = (int(x) for x in part.split("-", 1))
                chosen = list(range(low, high + 1))
            else:
                chosen = [int(part)]
        except ValueError:
            raise ValueError(
                f"--layers: cannot read {part!r} (use 'all', 'last', '0,3,6' or '2-5')"
            ) from None
        for layer in chosen:
            if not 0 <= layer <= num_layers:
                raise ValueError(
                    f"--layers: layer {layer} out of range; the model has layers 0..{num_layers} "
                    "(0 = embeddings)"
                )
        layers.update(chosen)
    if not layers:
        raise ValueError(f"--layers {spec!r} selects no layer")
    return sorted(layers)


def _folders(value: str) -> list[Path]:
    """One --data_dir value: a folder or comma-separated folders."""
    return [Path(part.strip()) for part in value.split(",") if part.strip()]


def _data_dirs(args: argparse.Namespace) -> list[Path]:
    # The default is filled in here: an argparse default list would be extended by --data_dir, not replaced.
    return args.data_dir or [default_data_dir()]


def _languages(spec: str, data_dirs: list[Path], splits: list[str]) -> list[str]:
    """The comma-separated languages of `spec`, each found in exactly one of `data_dirs` for every split."""
    languages = [lang.strip() for lang in spec.split(",") if lang.strip()]
    for split in splits:
        locate_languages(data_dirs, languages, split)
    return languages


def _common(parser: argparse.ArgumentParser, layers: bool = True) -> None:
    parser.add_argument("--model", required=True, help="model folder (pretraining or finetuned checkpoint)")
    parser.add_argument("--output_dir", required=True, type=Path, help="where tables and pictures go")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max_seq_length", type=int, help="patches per sentence (default: the renderer's)")
    if layers:
        parser.add_argument(
            "--layers", default="all", help="'all', 'last', '0,6,12' or '2-5' (0 = embeddings)"
        )
        parser.add_argument(
            "--data_dir",
            action="extend",
            type=_folders,
            help="SIB-200 folder(s): repeat the flag or separate with commas; a language must be in exactly one "
            f"(default {default_data_dir()})",
        )
        parser.add_argument("--batch_size", type=int, default=32)
        parser.add_argument("--dtype", choices=sorted(DTYPES), default="float32")


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="pixel analyze", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)

    retrieval = commands.add_parser("retrieval", help="per-layer cross-lingual retrieval on SIB-200")
    _common(retrieval)
    retrieval.add_argument(
        "--langs", default=DEFAULT_LANGS, help="comma-separated; the pivot may be included"
    )
    retrieval.add_argument("--pivot", default="eng_Latn")
    retrieval.add_argument(
        "--split", default="test", help="test (204 rows), dev or train (701, as the paper)"
    )
    retrieval.add_argument("--no_center", action="store_true", help="do not mean-centre each language")
    retrieval.add_argument("--limit", type=int, help="only the first N parallel sentences")

    tsne = commands.add_parser("tsne", help="t-SNE of sentence embeddings per layer, coloured by language")
    _common(tsne)
    tsne.add_argument("--langs", default=DEFAULT_LANGS)
    tsne.add_argument("--split", default="test")
    tsne.add_argument("--num_sentences", type=int, default=100, help="sentences per language")
    tsne.add_argument("--perplexity", type=float, help="default min(30, (n - 1) / 3)")

    probe = commands.add_parser("probe", help="per-layer topic (SIB-200) or UPOS (UD) probe vs majority")
    _common(probe)
    probe.add_argument("--task", choices=["topic", "upos"], default="topic")
    probe.add_argument("--langs", default=DEFAULT_LANGS, help="topic: SIB-200 languages")
    probe.add_argument("--treebanks", default="UD_English-EWT,UD_Vietnamese-VTB", help="upos: UD folders")
    probe.add_argument("--ud_dir", type=Path, default=default_ud_dir(), help="upos: folder of UD_* treebanks")
    probe.add_argument("--max_sentences", type=int, default=1000, help="upos: first N sentences per split")
    probe.add_argument("--train_split", default="train", help="topic only (upos: train, else dev)")
    probe.add_argument("--test_split", default="test", help="topic only")
    probe.add_argument("--C", dest="regularisation", type=float, default=1.0, help="inverse L2 strength")

    reconstruct = commands.add_parser("reconstruct", help="span-mask text and draw the MAE's reconstruction")
    _common(reconstruct, layers=False)
    reconstruct.add_argument("--text", action="append", default=[], help="a text (repeatable)")
    reconstruct.add_argument("--file", type=Path, help="a text file, one text per line")
    reconstruct.add_argument("--mask_ratio", type=float, help="default: the model's")
    reconstruct.add_argument("--max_span_length", type=int, default=6)
    reconstruct.add_argument("--zoom", type=int, default=2)
    return parser


def _embedding_setup(args: argparse.Namespace) -> tuple[Any, Any, list[int], dict[str, Any]]:
    model = load_model(args.model)
    processor = load_processor(args.model, args.max_seq_length)
    layers = parse_layers(args.layers, model.config.num_hidden_layers)
    options = {"batch_size": args.batch_size, "device": args.device, "dtype": DTYPES[args.dtype]}
    return model, processor, layers, options


def _write(output_dir: Path, name: str, text: str) -> Path:
    path = output_dir / name
    path.write_text(text, encoding="utf-8")
    return path


def _retrieval(args: argparse.Namespace) -> list[Path]:
    from .retrieval import run_retrieval

    data_dirs = _data_dirs(args)
    langs = _languages(args.langs, data_dirs, [args.split])
    _languages(args.pivot, data_dirs, [args.split])
    model, processor, layers, options = _embedding_setup(args)
    result = run_retrieval(
        model,
        processor,
        data_dirs,
        args.pivot,
        langs,
        layers,
        split=args.split,
        center=not args.no_center,
        limit=args.limit,
        **options,
    )
    print(result.markdown())
    return [
        _write(args.output_dir, "retrieval.tsv", result.tsv()),
        _write(args.output_dir, "retrieval.md", result.markdown()),
        result.plot(args.output_dir / "retrieval.png"),
    ]


def _tsne(args: argparse.Namespace) -> list[Path]:
    from .tsne import run_tsne

    data_dirs = _data_dirs(args)
    langs = _languages(args.langs, data_dirs, [args.split])
    model, processor, layers, options = _embedding_setup(args)
    result = run_tsne(
        model,
        processor,
        data_dirs,
        langs,
        layers,
        split=args.split,
        num_sentences=args.num_sentences,
        seed=args.seed,
        perplexity=args.perplexity,
        **options,
    )
    return [result.plot(args.output_dir / "tsne.png")]


def _probe(args: argparse.Namespace) -> list[Path]:
    if args.task == "upos":
        result = _upos_probe(args)
    else:
        from .probing import run_probe

        data_dirs = _data_dirs(args)
        langs = _languages(args.langs, data_dirs, [args.train_split, args.test_split])
        model, processor, layers, options = _embedding_setup(args)
        result = run_probe(
            model,
            processor,
            data_dirs,
            langs,
            layers,
            train_split=args.train_split,
            test_split=args.test_split,
            seed=args.seed,
            regularisation=args.regularisation,
            **options,
        )
    print(result.markdown())
    return [
        _write(args.output_dir, f"probe-{args.task}.tsv", result.tsv()),
        _write(args.output_dir, f"probe-{args.task}.md", result.markdown()),
        result.plot(args.output_dir / f"probe-{args.task}.png"),
    ]


def _upos_probe(args: argparse.Namespace) -> Any:
    from .word_probing import run_upos_probe

    names = [name.strip() for name in args.treebanks.split(",") if name.strip()]
    known = sorted(p.name for p in args.ud_dir.glob("UD_*") if p.is_dir()) if args.ud_dir.is_dir() else []
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(
            f"unknown treebank(s) {', '.join(unknown)} in {args.ud_dir}; available: {', '.join(known)}"
        )
    model, processor, layers, options = _embedding_setup(args)
    return run_upos_probe(
        model,
        processor,
        [args.ud_dir / name for name in names],
        layers,
        max_sentences=args.max_sentences,
        seed=args.seed,
        regularisation=args.regularisation,
        **options,
    )


def _reconstruct(args: argparse.Namespace) -> list[Path]:
    from .reconstruct import load_pretraining_model, reconstruct_texts

    texts = list(args.text)
    if args.file:
        texts += [line.strip() for line in args.file.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not texts:
        raise ValueError("reconstruct needs --text or --file")
    model = load_pretraining_model(args.model)
    processor = load_processor(args.model, args.max_seq_length)
    rec = reconstruct_texts(
        model,
        processor,
        texts,
        seed=args.seed,
        mask_ratio=args.mask_ratio,
        max_span_length=args.max_span_length,
        device=args.device,
    )
    for text, error in zip(texts, rec.error, strict=True):
        print(f"masked-patch MSE {error:.4f}  {text[:60]}")
    errors = [{"text": t, "masked_patch_mse": e} for t, e in zip(texts, rec.error, strict=True)]
    return [
        rec.save(args.output_dir / "reconstructions.png", zoom=args.zoom),
        _write(args.output_dir, "reconstructions.json", json.dumps(errors, ensure_ascii=False, indent=1)),
    ]


RUNNERS = {"retrieval": _retrieval, "tsne": _tsne, "probe": _probe, "reconstruct": _reconstruct}


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    torch.manual_seed(args.seed)
    try:
        check_model_source(args.model)
        args.output_dir.mkdir(parents=True, exist_ok=True)
        written = RUNNERS[args.command](args)
    except (OSError, ValueError) as error:
        if debugging():
            raise
        print(f"pixel analyze {args.command}: error: {error}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    return 0
