"""``pixel demo``: the built-in default job. Each step is a function in ``STEPS``; later steps add model work."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

SAMPLES = {
    "en": "My cat loves oatmeal, but the dog prefers rice.",
    "hi": "मेरी बिल्ली को दलिया पसंद है, लेकिन कुत्ते को चावल पसंद है।",
    "uk": "Мій кіт любить вівсянку, а собака віддає перевагу рису.",
    "zh": "我的猫喜欢燕麦片，但是狗更喜欢米饭。",
    "ar": "قطتي تحب دقيق الشوفان، لكن الكلب يفضل الأرز.",
}


def render_samples(output: Path) -> None:
    """Render every sample in every strategy to ``<output>/<strategy>-<lang>.png`` and print patch counts."""
    from pixel.render import STRATEGIES, PangoCairoTextRenderer
    from pixel.render.command import draw_patch_grid, save_png

    output.mkdir(parents=True, exist_ok=True)
    for strategy in STRATEGIES:
        renderer = PangoCairoTextRenderer(rendering_strategy=strategy)
        for lang, text in SAMPLES.items():
            enc = renderer(text)
            pixels = draw_patch_grid(enc.pixel_values[:, : (enc.num_text_patches + 1) * 16], 16)
            path = output / f"{strategy}-{lang}.png"
            save_png(pixels, str(path), zoom=2)
            print(f"{strategy:>16} {lang}: {enc.num_text_patches:3d} text patches -> {path}")


STEPS: list[Callable[[Path], None]] = [render_samples]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="pixel demo", description=__doc__)
    parser.add_argument(
        "-o", "--output", default="demo-output", help="output folder (default: ./demo-output)"
    )
    args = parser.parse_args(argv)
    for step in STEPS:
        step(Path(args.output))
    return 0
