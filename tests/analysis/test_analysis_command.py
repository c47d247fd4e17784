"""`pixel analyze ...` end to end on a saved tiny model, through the top-level CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image

from pixel.analysis.command import build_parser, parse_layers
from pixel.cli import main as pixel


def analyze(*args: object) -> int:
    return pixel(["analyze", *map(str, args)])


def assert_png(path: Path) -> None:
    with Image.open(path) as image:
        assert image.format == "PNG" and image.width > 100 and image.height > 60


def split_folders(sib_dir: Path, root: Path) -> tuple[Path, Path, Path]:
    """Copies of the tiny SIB folder spread over three folders: eng_Latn | eng_Copy | hin_Deva, ukr_Cyrl."""
    folders = (root / "a", root / "b", root / "c")
    for folder, langs in zip(folders, (["eng_Latn"], ["eng_Copy"], ["hin_Deva", "ukr_Cyrl"]), strict=True):
        for lang in langs:
            shutil.copytree(sib_dir / lang, folder / lang)
    return folders


def test_data_dir_takes_several_folders():
    parse = build_parser().parse_args
    common = ["retrieval", "--model", "m", "--output_dir", "o"]
    assert parse([*common, "--data_dir", "a,b", "--data_dir", "c"]).data_dir == [
        Path("a"),
        Path("b"),
        Path("c"),
    ]
    assert parse(common).data_dir is None  # the default folder is filled in later, not extended


def test_retrieval_command(model_dir, sib_dir, tmp_path, capsys):
    out = tmp_path / "retrieval"
    a, b, c = split_folders(sib_dir, tmp_path)
    code = analyze(
        "retrieval", "--model", model_dir, "--data_dir", f"{a},{b}", "--data_dir", c, "--output_dir", out,
        "--langs", "eng_Latn,eng_Copy,hin_Deva", "--layers", "all", "--device", "cpu",
    )  # fmt: skip
    assert code == 0
    table = (out / "retrieval.tsv").read_text().splitlines()
    copy_mean = next(row for row in table if row.startswith("eng_Copy\tmean"))
    assert copy_mean.split("\t")[2:] == ["0.1250"] + ["1.0000"] * 3  # chance 1/8, then layers 0-2
    assert "| eng_Copy | 0.125 | 1.000 | 1.000 | 1.000 |" in (out / "retrieval.md").read_text()
    assert_png(out / "retrieval.png")
    assert "eng_Copy" in capsys.readouterr().out


def test_tsne_probe_reconstruct_commands(model_dir, sib_dir, tmp_path):
    common = ["--model", model_dir, "--data_dir", sib_dir, "--device", "cpu"]
    assert analyze("tsne", *common, "--output_dir", tmp_path / "t", "--langs", "eng_Latn,hin_Deva",
                   "--layers", "0,2", "--num_sentences", "6") == 0  # fmt: skip
    assert_png(tmp_path / "t" / "tsne.png")
    assert (
        analyze("probe", *common, "--output_dir", tmp_path / "p", "--langs", "ukr_Cyrl", "--layers", "last")
        == 0
    )
    header = (tmp_path / "p" / "probe-topic.tsv").read_text().splitlines()[0]
    assert header == "language\ttrain\ttest\tmajority\tlayer_2"
    assert_png(tmp_path / "p" / "probe-topic.png")
    texts = tmp_path / "texts.txt"
    texts.write_text("First line of text.\n\nДругий рядок.\n", encoding="utf-8")
    assert analyze("reconstruct", "--model", model_dir, "--output_dir", tmp_path / "r", "--file", texts,
                   "--text", "Hello world", "--zoom", "1", "--device", "cpu") == 0  # fmt: skip
    with Image.open(tmp_path / "r" / "reconstructions.png") as image:
        assert image.height == 3 * 3 * 16 + 2 * 4  # three texts, three rows each, grey gaps between texts
    assert (tmp_path / "r" / "reconstructions.json").read_text().count("masked_patch_mse") == 3


def test_clear_errors(model_dir, sib_dir, tmp_path, capsys):
    common = ["--data_dir", sib_dir, "--output_dir", tmp_path / "o", "--device", "cpu"]
    assert analyze("retrieval", "--model", tmp_path / "nowhere", *common) == 2
    assert "does not exist" in capsys.readouterr().err
    assert analyze("retrieval", "--model", model_dir, *common, "--langs", "eng_Latn,klingon") == 2
    err = capsys.readouterr().err
    assert "klingon" in err and f"available in {sib_dir}: eng_Copy, eng_Latn, hin_Deva, ukr_Cyrl" in err
    assert (
        analyze("tsne", "--model", model_dir, *common, "--langs", "eng_Latn,hin_Deva", "--layers", "0,5") == 2
    )
    assert "layer 5 out of range" in capsys.readouterr().err
    assert analyze("reconstruct", "--model", model_dir, "--output_dir", tmp_path / "o") == 2
    assert "--text or --file" in capsys.readouterr().err
    (tmp_path / "ud" / "UD_Toy-Tiny").mkdir(parents=True)
    upos = ["probe", "--task", "upos", "--ud_dir", tmp_path / "ud", "--treebanks", "UD_Toy-Tiny,UD_Nope"]
    assert analyze(*upos, "--model", model_dir, "--output_dir", tmp_path / "o") == 2
    assert "unknown treebank(s) UD_Nope" in capsys.readouterr().err


def test_data_dir_errors_name_the_folders(model_dir, sib_dir, tmp_path, capsys):
    a, b, c = split_folders(sib_dir, tmp_path)
    common = ["--model", model_dir, "--output_dir", tmp_path / "o", "--device", "cpu"]
    assert analyze("tsne", *common, "--data_dir", f"{a},{c}", "--langs", "eng_Latn,eng_Copy") == 2
    err = capsys.readouterr().err
    assert "unknown language(s) eng_Copy" in err
    assert f"available in {a}: eng_Latn; available in {c}: hin_Deva, ukr_Cyrl" in err
    shutil.copytree(sib_dir / "hin_Deva", b / "hin_Deva")
    assert (
        analyze("probe", *common, "--data_dir", a, "--data_dir", b, "--data_dir", c, "--langs", "hin_Deva")
        == 2
    )
    err = capsys.readouterr().err
    assert f"hin_Deva is in both {b / 'hin_Deva' / 'train.tsv'} and {c / 'hin_Deva' / 'train.tsv'}" in err


def test_parse_layers():
    assert parse_layers("all", 3) == [0, 1, 2, 3]
    assert parse_layers("last", 12) == [12]
    assert parse_layers("0,6, 12", 12) == [0, 6, 12]
    assert parse_layers("2-4,0", 12) == [0, 2, 3, 4]
    for bad in ("13", "-1", "x", "3-x"):
        with pytest.raises(ValueError, match="--layers"):
            parse_layers(bad, 12)
