from pathlib import Path

from pixel.cli import COMMANDS, main


def test_usage_lists_every_command(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in COMMANDS)


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
