#!/usr/bin/env python3
"""Generator throughput: images/s of G(z) at 256 and 1024 px, batches 1, 8 and 32, noise_mode='const'.

What the renderer pays per frame. Config F networks (channel_base 32768, channel_max 512, 8 mapping layers) with
random weights (speed does not depend on them), the 4 highest resolutions in reduced precision as in training,
channels_last on CUDA. Each (resolution, batch) is warmed up, then timed call by call (CUDA events on the GPU,
perf_counter on the CPU); the median call time is reported. One JSON line per measurement.

    python benchmarks/generator_speed.py
    python benchmarks/generator_speed.py --compile reduce-overhead     # torch.compile with CUDA graphs
    python benchmarks/generator_speed.py --tiny                        # smoke test on the CPU
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PRECISIONS = {"fp32": None, "bf16": "bfloat16", "fp16": "float16"}


def build_generator(resolution: int, args: argparse.Namespace, device):
    import torch

    from training.networks import Generator

    torch.manual_seed(0)
    G = Generator(img_resolution=resolution, z_dim=args.w_dim, w_dim=args.w_dim, mapping_layers=args.map,
                  channel_base=args.cbase, channel_max=args.cmax, num_fp16_res=args.fp16_res, conv_clamp=256)
    G = G.eval().requires_grad_(False).to(device)
    precision = args.precision
    if precision == "auto":
        precision = "bf16" if device.type == "cuda" else "fp32"
    dtype = None if PRECISIONS[precision] is None else getattr(torch, PRECISIONS[precision])
    G.set_precision(dtype, channels_last=device.type == "cuda", on_cpu=dtype is not None and device.type == "cpu")
    return G, precision


def time_calls(fn, device, warmup: int, iters: int) -> list[float]:
    """Seconds per call, each call timed on its own."""
    import torch

    for _ in range(warmup):
        fn()
    times = []
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        for _ in range(iters):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end) / 1000)
    else:
        for _ in range(iters):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resolutions", type=int, nargs="+", default=[256, 1024])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--precision", default="auto", choices=("auto", *PRECISIONS),
                        help="arithmetic of the --fp16-res top resolutions (auto: bf16 on CUDA, fp32 on CPU)")
    parser.add_argument("--fp16-res", type=int, default=4, help="how many top resolutions run reduced (default 4)")
    parser.add_argument("--compile", default="none", choices=("none", "default", "reduce-overhead",
                                                               "max-autotune", "max-autotune-no-cudagraphs"),
                        help="torch.compile mode (reduce-overhead adds CUDA graphs)")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--iters", type=int, default=100)
    parser.add_argument("--cbase", type=int, default=32768)
    parser.add_argument("--cmax", type=int, default=512)
    parser.add_argument("--map", type=int, default=8)
    parser.add_argument("--w-dim", type=int, default=512)
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--out", type=Path, help="append the JSON lines to this file too")
    parser.add_argument("--tiny", action="store_true", help="smoke test: 16 and 32 px, tiny networks, CPU")
    args = parser.parse_args(argv)
    if args.tiny:
        args.resolutions, args.batches, args.warmup, args.iters = [16, 32], [1, 4], 2, 5
        args.cbase, args.cmax, args.map, args.w_dim, args.device = 256, 32, 2, 32, "cpu"

    import torch

    device = torch.device("cuda" if args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
                          else "cpu")
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else \
        f"CPU ({platform.processor() or platform.machine()})"
    lines = []
    for resolution in args.resolutions:
        G, precision = build_generator(resolution, args, device)
        forward = G if args.compile == "none" else torch.compile(G, mode=args.compile)
        for batch in args.batches:
            z = torch.randn([batch, G.z_dim], device=device)

            def call(forward=forward, z=z):
                with torch.no_grad():
                    return forward(z, noise_mode="const")

            times = time_calls(call, device, args.warmup, args.iters)
            median = statistics.median(times)
            line = dict(benchmark="generator_speed", date=datetime.date.today().isoformat(), device=name,
                        torch=str(torch.__version__), resolution=resolution, batch=batch, precision=precision,
                        fp16_res=args.fp16_res, compile=args.compile, ms_median=round(median * 1000, 4),
                        ms_min=round(min(times) * 1000, 4), img_per_s=round(batch / median, 2), iters=args.iters,
                        tiny=args.tiny)
            if device.type == "cuda":
                line["peak_gpu_mem_gb"] = round(torch.cuda.max_memory_allocated(device) / 2 ** 30, 3)
            lines.append(line)
            print(json.dumps(line), flush=True)
        del G, forward
        if device.type == "cuda":
            torch.cuda.empty_cache()
    if args.out:
        with open(args.out, "a") as f:
            f.writelines(json.dumps(line) + "\n" for line in lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
