"""``pixel render TEXT -o out.png``: render one text and print its patch count and word starts."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pixel.cli import ArgumentParser
from pixel.render.strategies import STRATEGIES


def draw_patch_grid(pixels: np.ndarray, pixels_per_patch: int) -> np.ndarray:
    """An RGB copy with a thin grey line at every patch boundary (for looking at renders, not for models)."""
    rgb = pixels if pixels.ndim == 3 else np.repeat(pixels[:, :, None], 3, axis=2)
    rgb = rgb.copy()
    rgb[:, ::pixels_per_patch] = np.minimum(rgb[:, ::pixels_per_patch], [170, 170, 255])
    return rgb


def save_png(pixels: np.ndarray, path: str, zoom: int = 1) -> None:
    from PIL import Image

    image = Image.fromarray(pixels)
    if zoom > 1:
        image = image.resize((image.width * zoom, image.height * zoom), Image.Resampling.NEAREST)
    image.save(path)


def main(argv: list[str]) -> int:
    parser = ArgumentParser(prog="pixel render", description=__doc__)
    parser.add_argument("text", help="the text to render (a sentence; whitespace separates words)")
    parser.add_argument(
        "-o", "--output", default="render.png", help="PNG file to write (default: render.png)"
    )
    parser.add_argument("--strategy", default="bigrams", choices=STRATEGIES, help="rendering strategy")
    parser.add_argument("--rgb", action="store_true", help="render RGB instead of grayscale")
    parser.add_argument(
        "--zoom", type=int, default=1, help="integer upscaling of the PNG (nearest neighbour)"
    )
    parser.add_argument("--show-patches", action="store_true", help="draw the patch grid on the PNG")
    parser.add_argument(
        "--font-file",
        default=None,
        help="main font (default: GoNotoCurrent for bigrams/continuous when installed, else Noto Sans; "
        "Noto fallbacks either way)",
    )
    parser.add_argument("--fallback-fonts-dir", default=None, help="folder of fallback fonts")
    parser.add_argument("--max-seq-length", type=int, default=529, help="canvas length in patches")
    parser.add_argument("--full", action="store_true", help="write the whole canvas, not just text + EOS")
    args = parser.parse_args(argv)
    if args.zoom < 1:
        parser.error(f"--zoom {args.zoom}: must be a positive integer")
    if args.max_seq_length < 1:
        parser.error(f"--max-seq-length {args.max_seq_length}: must be a positive number of patches")
    folder = Path(args.output).parent
    if not folder.is_dir():
        raise FileNotFoundError(f"-o {args.output}: folder {folder} does not exist (create it first)")

    from pixel.render.renderer import PangoCairoTextRenderer

    renderer = PangoCairoTextRenderer(
        font_file=args.font_file,
        fallback_fonts_dir=args.fallback_fonts_dir,
        rendering_strategy=args.strategy,
        rgb=args.rgb,
        max_seq_length=args.max_seq_length,
    )
    encoding = renderer(args.text)
    P = renderer.pixels_per_patch
    pixels = encoding.pixel_values
    if not args.full:
        pixels = pixels[:, : (encoding.num_text_patches + 1) * P]
    if args.show_patches:
        pixels = draw_patch_grid(pixels, P)
    save_png(pixels, args.output, args.zoom)
    print(f"patches: {encoding.num_text_patches} text + 1 EOS")
    print(f"word starts: {encoding.word_starts}")
    if encoding.truncated:
        print("truncated: yes (word-level)")
    if encoding.num_missing_glyphs:
        print(f"missing glyphs: {encoding.num_missing_glyphs}")
    if encoding.num_inserted_dotted_circles:  # broken clusters: try --strategy grapheme_bigrams or mono
        print(f"dotted circles inserted by shaping: {encoding.num_inserted_dotted_circles}")
    print(f"wrote {args.output}")
    return 0
