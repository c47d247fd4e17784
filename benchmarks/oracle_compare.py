"""Our renderers against the published renderer code run as an oracle: equal/total per strategy and case group.

The oracle is the published PIXEL-M4 code (github.com/ilkerkesen/pixel-m4 at d22be71f), which is never part
of this repository. Set it up once, outside the repository:

1. Debian packages for its runtime (the system interpreter, not the venv)::

       apt-get install -y python3-gi python3-gi-cairo python3-cairo gir1.2-pango-1.0 python3-numpy \\
           python3-fonttools

2. Copy the published files into ``<oracle-dir>/pixel_oracle/`` as a package (``__init__.py`` in every folder):
   ``data/rendering/pangocairo_renderer_bigrams_iso_char.py`` (bigrams), ``data/rendering/pangocairo_renderer.py``
   (continuous), ``data/rendering/rendering_utils.py`` (only ``Encoding`` and ``TextRenderingMixin.__init__``
   are needed; the Hugging Face hub helpers can go) and ``utils/defaults.py`` (``DEFAULT_FONT_SIZE = 8``,
   ``DEFAULT_PAD_SIZE = 3``, ``DEFAULT_PPB = 16``, ``MAX_SEQ_LENGTH = 529``).
3. Put a ``manimpango.py`` shim in ``<oracle-dir>``: ``register_font(path)`` calls fontconfig's
   ``FcConfigAppFontAddFile(FcConfigGetCurrent(), path)`` through ctypes; ``list_fonts()`` returns ``[]``.

This script then writes the cases to ``<oracle-dir>/out``, runs itself under the system interpreter with
``--oracle-side`` (``FONTCONFIG_FILE`` pointing at the isolated fontconfig file our renderer generates, so both
see exactly the same fonts; locale ``C.UTF-8``; the published ``load_font`` registers the same main font), reads
the oracle's outputs back and compares them with our renderer in this process.

    python benchmarks/oracle_compare.py --oracle-dir /tmp/oracle [--strategies bigrams continuous] [--per-lang 20]
        [--font-file /path/GoNotoCurrent.ttf]

``--font-file`` sets the main font of both sides (default: our renderer's default main font); the fallback
fonts are Debian's Noto folders either way.

Compared per case: ``pixel_values`` (grayscale and RGB), ``num_text_patches``, ``sep_patches`` (the published
continuous renderer and every published overflow window give pixel offsets; they are divided by the patch size;
for windows only the first and last entry are compared, the published list repeats the first strip's EOS),
``word_starts`` (where the oracle gives them), ``offset_mapping`` (continuous pairs) and each overflow window.
A case where the published code raises is reported apart ("oracle raised"), with what ours returned.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import traceback
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / ".." / "shared" / "data"
SIB_LANGS = ("eng_Latn", "hin_Deva", "ukr_Cyrl", "zho_Hans", "arz_Arab", "heb_Hebr", "tam_Taml", "tha_Thai")
PAIR_LANGS = ("eng_Latn", "hin_Deva", "zho_Hans", "arz_Arab", "heb_Hebr")
P = 16


# -- cases ------------------------------------------------------------------------------------------------------
def sib_sentences(lang: str) -> list[str]:
    import csv

    path = DATA / "sib200" / lang / "test.tsv"
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return [row["text"] for row in csv.DictReader(f, delimiter="\t")]


def ud_word_lists(n_sentences: int) -> dict[str, list[list[str]]]:
    import conllu

    out = {}
    for folder in sorted((DATA / "ud").glob("UD_*")):
        for test in sorted(folder.glob("*-ud-test.conllu")):
            with open(test, encoding="utf-8") as f:
                sentences = []
                for sentence in conllu.parse_incr(f):
                    sentences.append([tok["form"] for tok in sentence if isinstance(tok["id"], int)])
                    if len(sentences) == n_sentences:
                        break
            out[folder.name] = sentences
    return out


def build_cases(strategy: str, per_lang: int, ud_sentences: int) -> list[dict]:
    """Each case: id, group, input (type str/words/pair and value), call kwargs."""
    cases: list[dict] = []

    def add(group: str, kind: str, value, **kwargs) -> None:
        cases.append(
            {"id": f"{group}#{len(cases)}", "group": group, "type": kind, "value": value, "kwargs": kwargs}
        )

    missing = []
    for lang in SIB_LANGS:
        sentences = sib_sentences(lang)[:per_lang]
        if not sentences:
            missing.append(lang)
        for s in sentences:
            add(f"sib:{lang}", "str", s)
    for name, lists in ud_word_lists(ud_sentences).items():
        for words in lists:
            add(f"ud:{name}", "words", words)
    long_text = " ".join(sib_sentences("eng_Latn")[:60])
    add("edge", "str", "")
    add("edge", "str", long_text)
    add("edge", "str", "I ❤️ pizza 🍕😀 and 👍🏽 thumbs, 🇩🇪 flags")
    add("edge", "str", "e\u0301te\u0301 nai\u0308ve Z\u0327\u0301al\u0303\u0300go a\u0328\u0301")
    add("edge", "words", ["an", "", "empty", "word"])
    add("edge", "words", ["ok", "🙂", "x\u0301"])
    if strategy == "continuous":
        for s in sib_sentences("eng_Latn")[:5] + sib_sentences("hin_Deva")[:3]:
            add("str:pixel_shift=3", "str", s, pixel_shift=3)
    else:  # word-level truncation (max_length in patches) and the one-word texts the published code measures twice
        for s in (
            sib_sentences("eng_Latn")[:8] + sib_sentences("zho_Hans")[:4] + sib_sentences("arz_Arab")[:4]
        ):
            for limit in (3, 7, 12, 20):
                add("truncate:max_length", "str", s, max_length=limit)
        for s in (
            sib_sentences("eng_Latn")[8:16] + sib_sentences("arz_Arab")[8:12]
        ):  # limits around the last word
            for limit in range(6, 20):
                add("truncate:last-word", "str", " ".join(s.split()[:5]), max_length=limit)
        for word in ("oatmeal", "Supercalifragilisticexpialidocious", "中文" * 12, "الشوفان"):
            add("one-word", "str", word)
            add("one-word", "str", word, max_length=6)
            add("one-word", "words", [word], max_length=4)
    # Pairs: a question-like sentence and a paragraph long enough to overflow the strip.
    for lang in PAIR_LANGS:
        sentences = sib_sentences(lang)
        if len(sentences) < 60:
            continue
        question = sentences[40].rstrip(".!") + "?"
        paragraph = " ".join(sentences[41:71])
        short = " ".join(sentences[41:43])
        # the published bigrams pair path fails with return_offset_mapping=True (offset_mapping unbound)
        mapping = {"return_offset_mapping": True} if strategy == "continuous" else {}
        add(f"pair:{lang}", "pair", [question, short], **mapping)
        add(f"pair:{lang}", "pair", [question, paragraph], **mapping)
        overflow = [{"stride": 0}, {"stride": 3}, {"stride": 3, "text_a_max_length": 6}]
        for extra in overflow:
            add(
                f"pair-overflow:{lang}",
                "pair",
                [question, paragraph],
                return_overflowing_patches=True,
                **mapping,
                **extra,
            )
    if missing:
        print(f"[{strategy}] no SIB-200 test set for: {', '.join(missing)} (skipped)")
    return cases


def as_input(case: dict):
    if case["type"] == "pair":
        return tuple(case["value"])
    return case["value"]


# -- one encoding -> plain record (both sides) ------------------------------------------------------------------
def plain(value):
    """JSON-able copy of a ``word_patch_map`` (mappings with str keys, numpy scalars as Python numbers)."""
    if hasattr(value, "items"):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def record(enc, pixels_key: str, arrays: dict, sep_in_pixels: bool, window: bool = False) -> dict:
    arrays[pixels_key] = np.ascontiguousarray(enc.pixel_values)
    seps = [int(s) // P if sep_in_pixels else int(s) for s in (enc.sep_patches or [])]
    if window and len(seps) > 2:
        seps = [seps[0], seps[-1]]
    mapping = enc.offset_mapping
    return {
        "pixels": pixels_key,
        "num_text_patches": int(enc.num_text_patches),
        "sep_patches": seps,
        "word_starts": None if enc.word_starts is None else [int(w) for w in enc.word_starts],
        "offset_mapping": None if mapping is None else [[int(a), int(b)] for a, b in mapping],
        "word_patch_map": None if enc.word_patch_map is None else plain(enc.word_patch_map),
    }


def encode_all(render, cases: list[dict], strategy: str, oracle: bool) -> tuple[dict, dict]:
    """Renders every case in grayscale and RGB; returns (records by key, pixel arrays by key)."""
    records: dict[str, dict] = {}
    arrays: dict[str, np.ndarray] = {}
    for rgb in (False, True):
        render.rgb = rgb
        for case in cases:
            key = f"{case['id']}|{'rgb' if rgb else 'gray'}"
            try:
                enc = render(as_input(case), **case["kwargs"])
            except Exception as exc:  # the published code has inputs it cannot handle; record them
                records[key] = {"error": f"{type(exc).__name__}: {exc}".splitlines()[0][:200]}
                continue
            pixel_sep = oracle and strategy == "continuous"
            rec = record(enc, f"{key}|main", arrays, pixel_sep)
            windows = enc.overflowing_patches
            if windows is not None:
                rec["overflow"] = [
                    record(w, f"{key}|ov{i}", arrays, sep_in_pixels=oracle, window=oracle)
                    for i, w in enumerate(windows)
                ]
            records[key] = rec
    return records, arrays


# -- the oracle side (system python, published code) -------------------------------------------------------------
def oracle_side(oracle_dir: Path, strategy: str, main_font: str, cases_path: Path, out_path: Path) -> None:
    sys.path.insert(0, str(oracle_dir))
    import logging

    logging.disable(logging.WARNING)  # unknown-glyph warnings per bigram would flood the output
    if strategy == "bigrams":
        from pixel_oracle.data.rendering.pangocairo_renderer_bigrams_iso_char import PangoCairoTextRenderer
    else:
        from pixel_oracle.data.rendering.pangocairo_renderer import PangoCairoTextRenderer
    render = PangoCairoTextRenderer(font_file=main_font)
    cases = json.loads(cases_path.read_text())
    records, arrays = encode_all(render, cases, strategy, oracle=True)
    np.savez_compressed(out_path.with_suffix(".npz"), **arrays)
    out_path.with_suffix(".json").write_text(json.dumps(records))


# -- our side and the comparison ---------------------------------------------------------------------------------
def first_diff_column(a: np.ndarray, b: np.ndarray) -> int | None:
    if a.shape != b.shape:
        return None
    cols = np.nonzero((a != b).reshape(a.shape[0], a.shape[1], -1).any(axis=(0, 2)))[0]
    return int(cols[0]) if len(cols) else None


def map_differences(ours, theirs, path: str = "") -> list[str]:
    """Paths where two plain ``word_patch_map`` trees differ (first 3 values shown for leaves)."""
    if isinstance(theirs, dict):
        if not isinstance(ours, dict):
            return [f"{path or '/'}: ours is {type(ours).__name__}"]
        out = []
        for key in theirs:
            if key not in ours:
                out.append(f"{path}/{key}: missing in ours")
            else:
                out += map_differences(ours[key], theirs[key], f"{path}/{key}")
        out += [f"{path}/{key}: extra in ours" for key in ours if key not in theirs]
        return out
    return [] if ours == theirs else [f"{path}: ours={str(ours)[:40]} published={str(theirs)[:40]}"]


def compact_paths(diffs: list[str]) -> list[str]:
    """word_order_on_canvas/<i>/<field> collapsed to word_order_on_canvas/*/<field> (first example kept)."""
    import re

    seen: dict[str, str] = {}
    for d in diffs:
        key = re.sub(r"/\d+(?=/|$)", "/*", d.split(":")[0])
        seen.setdefault(key, d)
    return [f"{k} (e.g. {v.split(': ', 1)[-1]})" for k, v in seen.items()]


def compare_record(ours: dict, theirs: dict, a_arr: dict, b_arr: dict) -> list[str]:
    """Differences between two encodings' records, as short strings (empty when equal)."""
    problems = []
    a, b = a_arr[ours["pixels"]], b_arr[theirs["pixels"]]
    if a.shape != b.shape:
        problems.append(f"pixel shape {a.shape} vs {b.shape}")
    elif not np.array_equal(a, b):
        differing = int((a != b).reshape(a.shape[0], a.shape[1], -1).any(axis=2).sum())
        col = first_diff_column(a, b)
        problems.append(f"pixels: {differing} px differ, first at column {col} (patch {col // P})")
    for field in ("num_text_patches", "sep_patches", "word_starts", "offset_mapping"):
        if theirs.get(field) is None:
            continue
        if ours.get(field) != theirs[field]:
            mine, pub = ours.get(field), theirs[field]
            if isinstance(pub, list) and isinstance(mine, list):
                idx = next(
                    (i for i, (x, y) in enumerate(zip(mine, pub, strict=False)) if x != y),
                    min(len(mine), len(pub)),
                )
                problems.append(
                    f"{field}: first differs at [{idx}] ours={mine[idx : idx + 3]} published={pub[idx : idx + 3]}"
                    f" (len {len(mine)} vs {len(pub)})"
                )
            else:
                problems.append(f"{field}: ours={mine} published={pub}")
    ov_a, ov_b = ours.get("overflow"), theirs.get("overflow")
    if ov_b is not None or ov_a is not None:
        ov_a, ov_b = ov_a or [], ov_b or []
        if len(ov_a) != len(ov_b):
            problems.append(f"overflow windows: ours {len(ov_a)} vs published {len(ov_b)}")
        for i, (wa, wb) in enumerate(zip(ov_a, ov_b, strict=False)):
            problems += [f"window {i}: {p}" for p in compare_record(wa, wb, a_arr, b_arr)]
    return problems


def run_strategy(args, strategy: str) -> list[tuple]:
    import pixel
    from pixel import PangoCairoTextRenderer

    print(f"[{strategy}] ours: {Path(pixel.__file__).parent}")
    out = args.oracle_dir / "out"
    out.mkdir(parents=True, exist_ok=True)
    fonts: dict = {}
    if args.font_file is not None:  # a font_file alone registers no fallbacks: keep the default Noto folders
        from pixel.render.fonts import DEFAULT_FALLBACK_DIRS

        fonts = {"font_file": args.font_file, "fallback_fonts_dir": [str(d) for d in DEFAULT_FALLBACK_DIRS]}
    ours = PangoCairoTextRenderer(rendering_strategy=strategy, use_cache=not args.reference_path, **fonts)
    ours("warm up")  # builds the isolated fontconfig config and publishes it in FONTCONFIG_FILE
    conf = os.environ.get("FONTCONFIG_FILE")
    if not conf or ours.font_file not in Path(conf).read_text():
        raise SystemExit(f"could not find the generated fontconfig file of our renderer (got {conf!r})")
    cases = build_cases(strategy, args.per_lang, args.ud_sentences)
    cases_path = out / f"cases_{strategy}.json"
    cases_path.write_text(json.dumps(cases, ensure_ascii=False))
    result = out / f"oracle_{strategy}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(FONTCONFIG_FILE=conf, LANG="C.UTF-8", LC_ALL="C.UTF-8")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p)
    cmd = [
        args.python,
        str(Path(__file__).resolve()),
        "--oracle-side",
        "--oracle-dir",
        str(args.oracle_dir),
        "--strategy",
        strategy,
        "--main-font",
        ours.font_file,
        "--cases",
        str(cases_path),
        "--out",
        str(result),
    ]
    print(f"[{strategy}] {len(cases)} cases; oracle: FONTCONFIG_FILE={conf}, main font {ours.font_file}")
    subprocess.run(cmd, env=env, check=True)
    theirs = json.loads(result.with_suffix(".json").read_text())
    their_arrays = dict(np.load(result.with_suffix(".npz")))
    import logging
    import warnings

    logging.getLogger("pixel").setLevel(logging.ERROR)  # truncation notes, as the oracle's are silenced
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mine, my_arrays = encode_all(ours, cases, strategy, oracle=False)
    rows = []
    for case in cases:
        for mode in ("gray", "rgb"):
            key = f"{case['id']}|{mode}"
            t, m = theirs[key], mine[key]
            if "error" in t:
                got = m.get("error") or f"num_text_patches={m['num_text_patches']}"
                problems = [f"oracle raised {t['error']}; ours: {got}"]
                status = "oracle-error"
            elif "error" in m:
                problems, status = [f"ours raised {m['error']}"], "differ"
            else:
                problems = compare_record(m, t, my_arrays, their_arrays)
                status = "differ" if problems else "equal"
            wpm = []
            if "error" not in t and "error" not in m and t.get("word_patch_map") is not None:
                wpm = compact_paths(map_differences(m.get("word_patch_map"), t["word_patch_map"]))
            rows.append((strategy, case["group"], mode, status, case, problems, wpm))
    return rows


def report(rows: list[tuple], show: int) -> None:
    from collections import defaultdict

    table: dict[tuple, list] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for strategy, group, mode, status, _, _, wpm in rows:
        cell = table[(strategy, group, mode)]
        cell[0] += status == "equal"
        cell[1] += 1
        cell[2] += status == "oracle-error"
        cell[3] += status != "oracle-error" and not wpm
        cell[4] += status != "oracle-error"
    print(
        f"\n{'strategy':<11}{'group':<34}{'mode':<6}{'equal/total':>12}{'oracle raised':>15}"
        f"{'word_patch_map equal':>22}"
    )
    print("(equal: pixels, num_text_patches, sep_patches, word_starts, offset_mapping, overflow windows)")
    for (strategy, group, mode), (eq, total, err, w_eq, w_total) in sorted(table.items()):
        has_map = any(
            r[6] or r[0] == "bigrams" for r in rows if (r[0], r[1], r[2]) == (strategy, group, mode)
        )
        wcol = f"{w_eq}/{w_total}" if has_map else "-"
        print(f"{strategy:<11}{group:<34}{mode:<6}{f'{eq}/{total}':>12}{err or '':>15}{wcol:>22}")
    for key in sorted(table):
        bad = [r for r in rows if (r[0], r[1], r[2]) == key and r[3] != "equal"]
        if not bad:
            continue
        print(f"\n== {key[0]} {key[1]} {key[2]}: {len(bad)} not equal")
        for _, _, _, _, case, problems, _ in bad[:show]:
            value = case["value"]
            text = (
                " | ".join(value)
                if case["type"] == "pair"
                else (" ".join(value) if case["type"] == "words" else value)
            )
            print(f"  - {case['id']} {case['kwargs'] or ''} {text[:90]!r}")
            for p in problems[:4]:
                print(f"      {p}")
    maps: dict[str, list] = defaultdict(list)
    for strategy, _group, mode, _, case, _, wpm in rows:
        if mode == "gray":
            for d in wpm:
                maps[f"{strategy}: {d.split(' (e.g.')[0]}"].append((case["id"], d))
    if maps:
        print("\n== word_patch_map differences (gray cases; path: count, first example)")
        for path, hits in sorted(maps.items()):
            print(f"  {path}: {len(hits)} cases, e.g. {hits[0][0]}: {hits[0][1].split(' (e.g. ')[-1][:-1]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--oracle-dir", type=Path, required=True)
    parser.add_argument("--strategies", nargs="+", default=["bigrams", "continuous"])
    parser.add_argument("--per-lang", type=int, default=20, help="SIB-200 test sentences per language")
    parser.add_argument("--ud-sentences", type=int, default=10, help="first N sentences of each UD test file")
    parser.add_argument(
        "--python", default="/usr/bin/python3.11", help="interpreter with the oracle's packages"
    )
    parser.add_argument(
        "--reference-path",
        action="store_true",
        help="ours with use_cache=False (the uncached reference path) instead of the default",
    )
    parser.add_argument(
        "--font-file",
        type=Path,
        help="main font of both renderers (default: ours's default); fallbacks stay Debian's Noto folders",
    )
    parser.add_argument("--show", type=int, default=3, help="mismatching cases printed per group")
    parser.add_argument("--oracle-side", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--strategy", help=argparse.SUPPRESS)
    parser.add_argument("--main-font", help=argparse.SUPPRESS)
    parser.add_argument("--cases", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.oracle_side:
        oracle_side(args.oracle_dir, args.strategy, args.main_font, args.cases, args.out)
        return 0
    if not (args.oracle_dir / "pixel_oracle").is_dir():
        print(f"no oracle package in {args.oracle_dir}; see the set-up steps at the top of this file")
        return 2
    os.environ.pop("FONTCONFIG_FILE", None)  # our renderer publishes its own generated file here
    rows = []
    for strategy in args.strategies:
        try:
            rows += run_strategy(args, strategy)
        except subprocess.CalledProcessError as exc:
            print(f"[{strategy}] oracle process failed ({exc.returncode})")
            traceback.print_exc()
    report(rows, args.show)
    return 0 if rows and all(r[3] != "differ" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
