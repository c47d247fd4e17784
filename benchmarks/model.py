"""Forward+backward time and peak memory of PIXELForPreTraining vs transformers' ViTMAEForPreTraining, same size.

Same inputs, train mode, mask ratio 0.25, all patches attended, same dropout. Times come from one process that alternates
steps of the two models (the machine is shared, so load hits both alike); peak RSS from one step of each model alone in
a subprocess. Default: PIXEL-M4 size, batch 8, 529 patches, CPU, 2 threads (minutes per model).

    python benchmarks/model.py                 # full size
    python benchmarks/model.py --tiny --steps 2  # smoke test
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def model_sizes(tiny: bool) -> dict:
    if tiny:
        return dict(
            hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
            decoder_hidden_size=32, decoder_num_hidden_layers=1, decoder_num_attention_heads=4,
            decoder_intermediate_size=64,
        )  # fmt: skip
    return {}  # the PIXEL-M4 defaults: 768 x 12, decoder 512 x 8


def build(kind: str, patches: int, tiny: bool, dropout: float):
    import torch

    sizes = {**model_sizes(tiny), "hidden_dropout_prob": dropout, "attention_probs_dropout_prob": dropout}
    if kind == "pixel":
        from pixel.model import PIXELConfig, PIXELForPreTraining

        return PIXELForPreTraining(PIXELConfig(image_size=(16, 16 * patches), mask_ratio=0.25, **sizes))

    from transformers import ViTMAEConfig, ViTMAEForPreTraining

    class StripViTMAE(ViTMAEForPreTraining):
        """transformers' MAE, with only `patchify` overridden: it refuses non-square images."""

        def patchify(
            self, pixel_values: torch.Tensor, interpolate_pos_encoding: bool = False
        ) -> torch.Tensor:
            b, c, h, w = pixel_values.shape
            p = self.config.patch_size
            x = pixel_values.reshape(b, c, h // p, p, w // p, p).permute(0, 2, 4, 3, 5, 1)
            return x.reshape(b, (h // p) * (w // p), p * p * c)

    defaults = dict(
        hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
        decoder_hidden_size=512, decoder_num_hidden_layers=8, decoder_num_attention_heads=16,
        decoder_intermediate_size=2048,
    )  # fmt: skip
    config = ViTMAEConfig(
        **{**defaults, **sizes},
        image_size=(16, 16 * patches),
        patch_size=16,
        mask_ratio=0.25,
        norm_pix_loss=True,
    )
    return StripViTMAE(config)


def step(model, pixel_values, noise) -> float:
    start = time.perf_counter()
    model(pixel_values, noise=noise).loss.backward()
    model.zero_grad(set_to_none=True)
    return time.perf_counter() - start


def memory_worker(args: argparse.Namespace) -> None:
    """One model alone in this process: peak RSS of a warm-up step and a measured step."""
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = build(args.worker, args.patches, args.tiny, args.dropout).train()
    pixel_values = torch.rand(args.batch_size, 3, 16, 16 * args.patches)
    noise = torch.rand(args.batch_size, args.patches)
    before = rss_mb()
    step(model, pixel_values, noise)
    print(json.dumps({"peak_rss_MB": peak_rss_mb(), "step_peak_over_start_MB": peak_rss_mb() - before}))


def interleaved_times(args: argparse.Namespace) -> dict[str, list[float]]:
    """Both models in one process, steps alternated, so load from other processes hits both alike."""
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    models = {kind: build(kind, args.patches, args.tiny, args.dropout).train() for kind in KINDS}
    pixel_values = torch.rand(args.batch_size, 3, 16, 16 * args.patches)
    noise = torch.rand(args.batch_size, args.patches)
    times: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for round_ in range(args.warmup + args.steps):
        order = KINDS if round_ % 2 == 0 else KINDS[::-1]
        for kind in order:
            elapsed = step(models[kind], pixel_values, noise)
            if round_ >= args.warmup:
                times[kind].append(elapsed)
    return times


KINDS = ("pixel", "vitmae")
NAMES = {"pixel": "PIXELForPreTraining", "vitmae": "transformers ViTMAEForPreTraining"}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--patches", type=int, default=529)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument(
        "--dropout",
        type=float,
        default=0.1,
        help="hidden and attention dropout of both models (PIXEL's 0.1; ViTMAEConfig defaults to 0.0). On CPU, "
        "attention dropout makes SDPA fall back to its math kernel",
    )
    parser.add_argument("--tiny", action="store_true", help="small widths, for a smoke test")
    parser.add_argument("--worker", choices=KINDS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        memory_worker(args)
        return
    memory = {}
    for kind in KINDS:
        out = subprocess.run(
            [sys.executable, __file__, *sys.argv[1:], "--worker", kind],
            check=True,
            capture_output=True,
            text=True,
        )
        memory[kind] = json.loads(out.stdout.strip().splitlines()[-1])
    times = interleaved_times(args)
    print(
        f"forward+backward, batch {args.batch_size}, {args.patches} patches, mask ratio 0.25, dropout {args.dropout}, "
        f"{args.threads} CPU threads; {args.steps} timed steps per model after {args.warmup} warm-up, alternated "
        "in one process; peak RSS from one step of each model alone in a subprocess"
    )
    for kind in KINDS:
        t, m = times[kind], memory[kind]
        print(
            f"  {NAMES[kind]:36s} median {statistics.median(t):7.2f} s/step (min {min(t):.2f}, all "
            f"{', '.join(f'{x:.1f}' for x in t)})  peak RSS {m['peak_rss_MB']:6.0f} MB "
            f"(step peak over start {m['step_peak_over_start_MB']:5.0f} MB)"
        )
    ratio = statistics.median(times["pixel"]) / statistics.median(times["vitmae"])
    print(f"  time ratio PIXEL / ViTMAE (medians): {ratio:.3f}")


if __name__ == "__main__":
    main()
