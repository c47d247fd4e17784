"""``pixel demo``: the built-in default job, end to end on a laptop CPU in a few minutes.

1. render en/hi/uk/zh/ar samples in every strategy to PNGs and print their patch counts;
2. pretrain the tiny preset (``configs/pretrain/tiny.yaml``) on the SIB-200 en/hi/uk/zh sentences, writing
   reconstruction pictures;
3. finetune that model for UPOS tagging on UD Vietnamese-VTB and print test accuracy next to the
   majority-tag baseline.

Steps 2 and 3 read ``../shared/data`` beside the repository (or ``PIXEL_DATA_DIR``); without it they are skipped with
a message. Each step is a function in ``STEPS``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pixel.cli import ArgumentParser

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


REPO = Path(__file__).resolve().parents[1]


def _data_dir() -> Path | None:
    import os

    folder = Path(os.environ.get("PIXEL_DATA_DIR", REPO.parent / "shared" / "data"))
    return folder if (folder / "sib200").is_dir() else None


def pretrain_tiny(output: Path) -> None:
    """A tiny MAE, 300 steps of the tiny preset; reconstructions land in ``<output>/pretrain/reconstructions``."""
    from pixel.train.pretrain import main as pretrain

    preset = REPO / "configs" / "pretrain" / "tiny.yaml"
    if _data_dir() is None or not preset.is_file():
        print(
            "demo: skipping pretraining (needs ../shared/data or PIXEL_DATA_DIR, and configs/pretrain/tiny.yaml)"
        )
        return
    run = output / "pretrain"
    code = pretrain(["--config", str(preset), "--output_dir", str(run), "--max_steps", "300"])
    if code:
        raise SystemExit(code)
    pictures = sorted((run / "reconstructions").glob("*.png"))
    print(f"demo: pretrained tiny model in {run}; reconstructions: {pictures[-1] if pictures else 'none'}")


def finetune_pos(output: Path) -> None:
    """Finetune the tiny pretrained model for UPOS tagging on UD Vietnamese-VTB; print accuracy vs the majority tag."""
    from collections import Counter

    from pixel.tasks.treebank import read_conllu
    from pixel.train.finetune import finetune

    data = _data_dir()
    model = output / "pretrain"
    treebank = data / "ud" / "UD_Vietnamese-VTB" if data else None
    if treebank is None or not treebank.is_dir() or not (model / "config.json").is_file():
        print(
            "demo: skipping finetuning (needs the pretrained tiny model and ../shared/data/ud/UD_Vietnamese-VTB)"
        )
        return
    run = output / "finetune-pos-vi"
    metrics = finetune("pos", [
        "--model_name_or_path", str(model), "--data_dir", str(treebank), "--output_dir", str(run),
        "--overwrite_output_dir", "--do_train", "--do_predict", "--max_seq_length", "64", "--max_steps", "300",
        "--per_device_train_batch_size", "16", "--learning_rate", "3e-3", "--warmup_steps", "20",
        "--dropout_prob", "0.0", "--save_strategy", "no", "--logging_steps", "50", "--report_to", "none",
        "--use_cpu", "--seed", "0",
    ])  # fmt: skip
    gold = [tag for s in read_conllu(next(treebank.glob("*-ud-test.conllu"))) for tag in s.upos]
    majority = Counter(gold).most_common(1)[0][1] / len(gold)
    print(
        f"demo: UPOS accuracy on Vietnamese-VTB test: {metrics['test_accuracy']:.3f} "
        f"(majority-tag baseline {majority:.3f}; a 64-wide model pretrained for 300 steps)"
    )
    print(f"demo: predictions in {run / 'test_predictions.conllu'}")


STEPS: list[Callable[[Path], None]] = [render_samples, pretrain_tiny, finetune_pos]


def main(argv: list[str]) -> int:
    parser = ArgumentParser(prog="pixel demo", description=__doc__)
    parser.add_argument(
        "-o", "--output", default="demo-output", help="output folder (default: ./demo-output)"
    )
    parser.add_argument("--render-only", action="store_true", help="only the rendering step")
    args = parser.parse_args(argv)
    for step in STEPS[:1] if args.render_only else STEPS:
        step(Path(args.output))
    return 0
