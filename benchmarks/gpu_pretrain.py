"""Pretraining throughput of the full-size PIXELForPreTraining on one GPU: bf16 autocast, synthetic inputs.

Times forward + backward (+ AdamW step with --optimizer) at batch 256 and 511 patches (512 tokens with CLS, the M4
padding bucket), random 25% masking, and prints sequences/s and model FLOPs utilisation (MFU) from an analytic FLOP
count (matmuls + attention, forward x 3 for forward + backward).

    python benchmarks/gpu_pretrain.py                  # eager
    python benchmarks/gpu_pretrain.py --compile        # torch.compile
    python benchmarks/gpu_pretrain.py --tiny --device cpu --batch-size 4 --steps 2   # smoke test
"""

from __future__ import annotations

import argparse
import time

import torch

from pixel.model import PIXELConfig, PIXELForPreTraining

PEAK_BF16_TFLOPS = {
    "H100 PCIe": 756.0,
    "H100": 989.0,
    "H200": 989.0,
    "GH200": 989.0,
    "A100": 312.0,
    "L4": 121.0,
}


def pretraining_flops(config: PIXELConfig, patches: int) -> float:
    """Model FLOPs of one training sample (forward + backward = 3 x forward)."""
    kept = int(patches * (1 - config.mask_ratio)) + 1  # encoder tokens incl. CLS
    full = patches + 1  # decoder tokens

    def blocks(tokens: int, dim: int, ffn: int, layers: int) -> float:
        linear = 2 * tokens * (4 * dim * dim + 2 * dim * ffn)
        attention = 2 * 2 * tokens * tokens * dim
        return layers * (linear + attention)

    pixels = config.patch_size**2 * config.num_channels
    forward = (
        2 * patches * pixels * config.hidden_size  # patch embedding (all patches are embedded before masking)
        + blocks(kept, config.hidden_size, config.intermediate_size, config.num_hidden_layers)
        + 2 * kept * config.hidden_size * config.decoder_hidden_size
        + blocks(
            full,
            config.decoder_hidden_size,
            config.decoder_intermediate_size,
            config.decoder_num_hidden_layers,
        )
        + 2 * full * config.decoder_hidden_size * pixels
    )
    return 3 * forward


def peak_tflops(device: torch.device, override: float | None) -> float | None:
    if override:
        return override
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    for key, value in PEAK_BF16_TFLOPS.items():  # the first match wins: "H100 PCIe" before "H100"
        if key in name:
            return value
    return None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--patches", type=int, default=511)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--compile", action="store_true", help="torch.compile the model")
    parser.add_argument("--optimizer", action="store_true", help="include a fused AdamW step")
    parser.add_argument("--gradient-checkpointing", action="store_true")
    parser.add_argument(
        "--padding", type=float, default=0.0, help="fraction of each sequence that is padding"
    )
    parser.add_argument(
        "--peak-tflops", type=float, default=None, help="bf16 dense peak, if not auto-detected"
    )
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--tiny", action="store_true", help="small widths, for a smoke test")
    args = parser.parse_args()

    device = torch.device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    sizes = (
        dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
             decoder_hidden_size=64, decoder_num_hidden_layers=1, decoder_num_attention_heads=4,
             decoder_intermediate_size=128)
        if args.tiny else {}
    )  # fmt: skip
    config = PIXELConfig(image_size=(16, 16 * 529), mask_ratio=0.25, **sizes)
    torch.manual_seed(0)
    model = PIXELForPreTraining(config).to(device).train()
    if args.gradient_checkpointing:
        model.activation_checkpointing_enable()
    step_model = torch.compile(model) if args.compile else model
    optimizer = (
        torch.optim.AdamW(model.parameters(), lr=1.5e-4, fused=device.type == "cuda")
        if args.optimizer
        else None
    )

    pixel_values = torch.rand(args.batch_size, 3, 16, 16 * args.patches, device=device)
    attention_mask = torch.ones(args.batch_size, args.patches, device=device)
    text = args.patches - int(args.patches * args.padding)
    attention_mask[:, text:] = 0

    def step() -> None:
        with torch.autocast(device.type, dtype=torch.bfloat16):
            loss = step_model(pixel_values, attention_mask).loss
        loss.backward()
        if optimizer is not None:
            optimizer.step()
        model.zero_grad(set_to_none=True)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    start = time.perf_counter()
    for _ in range(args.warmup):
        step()
    sync()
    warmup_s = time.perf_counter() - start
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    times = []
    for _ in range(args.steps):
        sync()
        t0 = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - t0)
    step_s = sorted(times)[len(times) // 2]
    seq_per_s = args.batch_size / step_s
    flops = pretraining_flops(config, args.patches)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"device: {name}; torch {torch.__version__}; compile={args.compile} optimizer={args.optimizer} "
          f"checkpointing={args.gradient_checkpointing} padding={args.padding}")  # fmt: skip
    print(f"batch {args.batch_size} x {args.patches} patches; warm-up {args.warmup} steps {warmup_s:.1f} s")
    print(f"step median {step_s * 1000:.1f} ms (min {min(times) * 1000:.1f}); {seq_per_s:.1f} sequences/s")
    print(
        f"model FLOPs per sequence (fwd+bwd): {flops / 1e9:.1f} GFLOP; achieved {seq_per_s * flops / 1e12:.1f} TFLOP/s"
    )
    peak = peak_tflops(device, args.peak_tflops)
    if peak:
        print(f"MFU: {100 * seq_per_s * flops / (peak * 1e12):.1f}% of {peak:.0f} TFLOP/s bf16 dense peak")
    if device.type == "cuda":
        print(f"peak memory allocated: {torch.cuda.max_memory_allocated(device) / 2**30:.1f} GiB")


if __name__ == "__main__":
    main()
