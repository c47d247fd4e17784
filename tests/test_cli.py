from pathlib import Path

import pytest

from pixel.cli import COMMANDS, UsageError, main, run_command


def test_usage_lists_every_command(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in COMMANDS)


def test_bare_pixel_is_a_usage_error(capsys):
    assert main([]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and all(name in captured.err for name in COMMANDS)


def test_unknown_command_is_named(capsys):
    assert main(["pretrian"]) == 2
    assert "pretrian" in capsys.readouterr().err


def test_demo_render_step_writes_a_png_per_strategy_and_language(tmp_path: Path, capsys):
    from pixel.demo import SAMPLES
    from pixel.render import STRATEGIES

    assert main(["demo", "--render-only", "-o", str(tmp_path)]) == 0
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert pngs == sorted(f"{s}-{lang}.png" for s in STRATEGIES for lang in SAMPLES)
    assert "text patches" in capsys.readouterr().out


def test_render_into_a_missing_folder_is_one_line_naming_the_flag(tmp_path: Path, capsys):
    target = tmp_path / "nowhere" / "r.png"
    assert main(["render", "hi", "-o", str(target)]) == 1
    err = capsys.readouterr().err
    assert (
        err == f"pixel render: error: -o {target}: folder {target.parent} does not exist (create it first)\n"
    )


@pytest.mark.parametrize(("strategy", "circles"), [("bigrams", True), ("grapheme_bigrams", False)])
def test_render_reports_the_dotted_circles_shaping_inserted(strategy, circles, tmp_path: Path, capsys):
    # Devanagari vowel signs cut from their consonant (bigrams) get dotted circles; grapheme_bigrams none.
    assert main(["render", "मंगवाई गई हैं", "--strategy", strategy, "-o", str(tmp_path / "r.png")]) == 0
    assert ("dotted circles inserted by shaping:" in capsys.readouterr().out) == circles


@pytest.mark.parametrize("flag", ["--show-patch", "--no-such-flag"])
def test_abbreviated_or_unknown_flag_is_one_line_exit_2(flag, tmp_path: Path, capsys):
    assert main(["render", "hi", "-o", str(tmp_path / "r.png"), flag]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("pixel render: error: unrecognized arguments: " + flag)
    assert not (tmp_path / "r.png").exists()


def test_bad_value_is_one_line_exit_2(tmp_path: Path, capsys):
    assert main(["render", "hi", "-o", str(tmp_path / "r.png"), "--zoom", "0"]) == 2
    assert (
        capsys.readouterr().err == "pixel render: error: --zoom 0: must be a positive integer (see --help)\n"
    )


def test_debug_anywhere_shows_the_traceback(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        main(["--debug", "render", "hi", "-o", str(tmp_path / "nowhere" / "r.png")])
    with pytest.raises(FileNotFoundError):
        main(["render", "hi", "--debug", "-o", str(tmp_path / "nowhere" / "r.png")])


def test_exit_codes_of_the_error_convention(capsys):
    def failing(error: Exception):
        def command(argv: list[str]) -> int:
            raise error

        return command

    assert run_command("pixel x", failing(UsageError("--a: bad")), []) == 2
    assert run_command("pixel x", failing(FileNotFoundError("f.txt is missing")), []) == 1
    assert run_command("pixel x", failing(ValueError("f.txt:3: bad line")), []) == 1
    assert capsys.readouterr().err.splitlines() == [
        "pixel x: error: --a: bad",
        "pixel x: error: f.txt is missing",
        "pixel x: error: f.txt:3: bad line",
    ]
    with pytest.raises(TypeError):  # a bug is not bad input: it keeps its traceback
        run_command("pixel x", failing(TypeError("bug")), [])
    # A nested run_command (pixel finetune's, under the dispatcher's) sees the --debug the outer one removed.
    inner = lambda argv: run_command("pixel y", failing(UsageError("bad")), argv)  # noqa: E731
    with pytest.raises(UsageError):
        run_command("pixel x", inner, ["--debug"])
