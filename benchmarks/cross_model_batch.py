#!/usr/bin/env python3
"""Does one synthesis call across models beat one call per model? The renderer's grid question, generator only.

M same-architecture config-F generators (or copies of a trained one, `--snapshot`) with random weights (as
render_speed builds them: reduced-precision top blocks and channels_last on CUDA), B windows each, synthesis stopped
at the grid windows' level of detail (512 px for 1024 px models in a 4x3 grid at 1080p: 344 px windows). Timed both
ways on the same latents, call by call after a warm-up (CUDA events on a GPU): `per_model` loops over the models,
`stacked` is installation.cross_batch.StackedSynthesis (torch.func.vmap over stacked weights). Each JSON line gives
both medians, their ratio (per_model / stacked: above 1 means stacking pays) and the largest difference between the
two ways' images in grey levels.

    python benchmarks/cross_model_batch.py                     # on a GPU: 12 models of 1024 px at level 512
    python benchmarks/cross_model_batch.py --tiny              # CPU smoke test: 32 px models
    python benchmarks/cross_model_batch.py --snapshot installation/demo_assets/demo-model.pt --models 3
"""

from __future__ import annotations

import argparse
import datetime
import platform
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def measure(models: int, batch: int, args, device) -> dict:
    import torch

    from benchmarks.generator_speed import time_calls
    from benchmarks.render_speed import build_pool
    from installation.cross_batch import StackedSynthesis

    if args.snapshot:
        from training.checkpoint import load_generator

        networks = [load_generator(args.snapshot, device=device).eval().requires_grad_(False).synthesis
                    for _ in range(models)]  # copies: the time does not depend on the weights
    else:
        pool = build_pool(models, args.resolution, args, device)
        networks = [pool.models[person].G.synthesis for person in pool.people]
    resolution = networks[0].img_resolution
    level = min(args.level, resolution)
    stack = StackedSynthesis(networks)
    torch.manual_seed(0)
    ws = torch.randn(models, batch, networks[0].num_ws, networks[0].w_dim, device=device)

    @torch.no_grad()
    def per_model():
        return torch.stack([n(ws[m], noise_mode="const", max_resolution=level) for m, n in enumerate(networks)])

    @torch.no_grad()
    def stacked():
        return stack(ws, max_resolution=level)

    quantised = [(f().float() * 127.5 + 128).clamp(0, 255).round() for f in (per_model, stacked)]
    times = {name: statistics.median(time_calls(f, device, args.warmup, args.iters))
             for name, f in (("per_model", per_model), ("stacked", stacked))}
    line = dict(benchmark="cross_model_batch", date=datetime.date.today().isoformat(),
                device=torch.cuda.get_device_name(device) if device.type == "cuda"
                else f"CPU ({platform.processor() or platform.machine()})",
                torch=str(torch.__version__), threads=torch.get_num_threads(), models=models, batch=batch,
                resolution=resolution, level=level,
                snapshot=str(args.snapshot) if args.snapshot else None, per_model_ms=round(times["per_model"] * 1e3, 3),
                stacked_ms=round(times["stacked"] * 1e3, 3),
                ratio=round(times["per_model"] / times["stacked"], 3),
                max_grey_difference=float((quantised[0] - quantised[1]).abs().max()), tiny=args.tiny)
    if device.type == "cuda":
        line["peak_gpu_mem_gb"] = round(torch.cuda.max_memory_allocated(device) / 2 ** 30, 3)
    return line


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", type=int, nargs="+", default=[4, 12], help="how many models (default 4 12)")
    p.add_argument("--batches", type=int, nargs="+", default=[1, 2], help="windows per model (default 1 2)")
    p.add_argument("--level", type=int, default=512, help="where synthesis stops (default 512)")
    p.add_argument("--snapshot", type=Path, help="time copies of this trained generator instead of config F")
    p.add_argument("--device", default="auto")
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--iters", type=int, default=50)
    p.add_argument("--tiny", action="store_true", help="CPU smoke test: 32 px models, level 32, few calls")
    p.add_argument("--out", type=Path, help="append the JSON lines here too")
    args = p.parse_args(argv)
    import torch

    from benchmarks.json_lines import emit

    device = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    if args.tiny:
        args.resolution, args.level, args.warmup, args.iters = 32, 32, 1, 3
        args.w_dim, args.map, args.cbase, args.cmax, args.fp16_res = 32, 2, 512, 32, 0
    else:
        args.resolution = 1024
        args.w_dim, args.map, args.cbase, args.cmax, args.fp16_res = 512, 8, 32768, 512, 4
    for models in args.models:
        for batch in args.batches:
            emit(measure(models, batch, args, device), args.out)
            if device.type == "cuda":
                torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    sys.exit(main())
