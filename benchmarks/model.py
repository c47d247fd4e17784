"""Forward+backward time and peak memory of PIXELForPreTraining vs transformers' ViTMAEForPreTraining, same size.

Each model runs in its own subprocess (so peak RSS is its own), same inputs, train mode, mask ratio 0.25, all patches
attended. Default: PIXEL-M4 size, batch 8, 529 patches, CPU, 2 threads (minutes per model).

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


def worker(args: argparse.Namespace) -> None:
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = build(args.worker, args.patches, args.tiny, args.dropout).train()
    pixel_values = torch.rand(args.batch_size, 3, 16, 16 * args.patches)
    noise = torch.rand(args.batch_size, args.patches)
    before = rss_mb()
    times = []
    for step in range(args.warmup + args.steps):
        start = time.perf_counter()
        loss = model(pixel_values, noise=noise).loss
        loss.backward()
        model.zero_grad(set_to_none=True)
        if step >= args.warmup:
            times.append(time.perf_counter() - start)
    print(
        json.dumps(
            {
                "model": args.worker,
                "params_M": sum(p.numel() for p in model.parameters()) / 1e6,
                "median_s": statistics.median(times),
                "min_s": min(times),
                "times_s": times,
                "peak_rss_MB": peak_rss_mb(),
                "step_peak_over_start_MB": peak_rss_mb() - before,
            }
        )
    )


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
    parser.add_argument("--worker", choices=["pixel", "vitmae"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    forwarded = [arg for arg in sys.argv[1:]]
    results = {}
    for kind in ("pixel", "vitmae"):
        out = subprocess.run(
            [sys.executable, __file__, *forwarded, "--worker", kind],
            check=True,
            capture_output=True,
            text=True,
        )
        results[kind] = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"forward+backward, batch {args.batch_size}, {args.patches} patches, mask ratio 0.25, dropout {args.dropout}, "
        f"{args.threads} CPU threads, {args.steps} timed steps after {args.warmup} warm-up"
    )
    for kind, name in (("pixel", "PIXELForPreTraining"), ("vitmae", "transformers ViTMAEForPreTraining")):
        r = results[kind]
        print(
            f"  {name:36s} {r['params_M']:7.2f}M params  median {r['median_s']:7.2f} s/step  "
            f"(min {r['min_s']:.2f})  peak RSS {r['peak_rss_MB']:7.0f} MB  (step peak over start "
            f"{r['step_peak_over_start_MB']:6.0f} MB)"
        )
    ratio = results["pixel"]["median_s"] / results["vitmae"]["median_s"]
    print(f"  time ratio PIXEL / ViTMAE: {ratio:.3f}")


if __name__ == "__main__":
    main()
