#!/usr/bin/env python3
"""Renderer speed: frames/s and p50/p99 frame time of whole frames (walks, synthesis, upload, composite, read back).

Offscreen through EGL at 1920x1080, config-F generators with random weights (speed does not depend on them):
  single     one 1024 px model full screen (a 1024 px window: the full network)
  grid       a 4x3 grid of 12 windows from 12 different 1024 px models (344 px windows: 512 px levels of detail)
  filmstrip  a filmstrip of 8 frames of one 1024 px model
Every frame is read back to host memory, as an export does (a live window would present instead). `--upload` picks
the path images take to OpenGL (installation/uploads.py: auto, interop, pbo, host); each JSON line records the one
that ran (`upload`: interop falls back to pbo without cuda-bindings); `--cross-batch` draws the grid's twelve
models in one synthesis call instead of twelve. One JSON line per case.

    python benchmarks/render_speed.py                   # on a GPU
    python benchmarks/render_speed.py --tiny            # CPU smoke test: 32 px models, 320x180, few frames
"""

from __future__ import annotations

import argparse
import datetime
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CASES = ("single", "grid", "filmstrip")


def build_pool(count: int, resolution: int, args, device):
    import torch

    from installation.model_pool import ModelPool, PooledModel
    from training.networks import Generator

    models = {}
    for i in range(count):
        torch.manual_seed(i)
        G = Generator(img_resolution=resolution, z_dim=args.w_dim, w_dim=args.w_dim, mapping_layers=args.map,
                      channel_base=args.cbase, channel_max=args.cmax, num_fp16_res=args.fp16_res, conv_clamp=256)
        G = G.eval().requires_grad_(False).to(device)
        if device.type == "cuda" and args.fp16_res:
            G.set_precision(torch.bfloat16, channels_last=True)
        models[f"model{i:02d}"] = PooledModel(f"model{i:02d}", G, Path("-"), "-")
    return ModelPool(models, {})


def case_request(case: str, pool, width: int, height: int, t: float):
    from installation.layouts import FilmstripLayout, GridLayout, SingleLayout, arrange
    from installation.renderer import FrameRequest, windows_for
    from installation.walks import WalkSpec

    layout = {"single": SingleLayout(), "grid": GridLayout(rows=3, cols=4, gap=8, margin=16),
              "filmstrip": FilmstripLayout(frames=8, speed=0.5)}[case]
    arrangement = arrange(layout, width, height, t=t)
    walk = WalkSpec(seeds=(0, 1, 2, 3), seconds=2.0, phase=0.37)
    return FrameRequest(windows_for(arrangement, pool.people, walk, t), list(arrangement.solids))


def measure(case: str, args, device) -> dict:
    import numpy as np
    import torch

    from installation.outputs import OffscreenOutput
    from installation.renderer import Renderer

    pool = build_pool(12 if case == "grid" else 1, args.resolution, args, device)
    width, height = args.size
    output = OffscreenOutput(width, height)
    renderer = Renderer(pool, output, upload=args.upload, cross_batch=args.cross_batch)
    times = []
    for k in range(args.warmup + args.frames):
        t = k / 60
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        renderer.draw(case_request(case, pool, width, height, t))
        output.read_rgb()
        if k >= args.warmup:
            times.append(time.perf_counter() - t0)
    ran = renderer.uploads.name
    renderer.release()
    output.release()
    times_ms = np.array(times) * 1e3
    return {"benchmark": "render_speed", "case": case, "size": f"{width}x{height}", "resolution": args.resolution,
            "windows": len(case_request(case, pool, width, height, 0.0).windows), "frames": args.frames,
            "fps": float(1e3 / times_ms.mean()), "p50_ms": float(np.percentile(times_ms, 50)),
            "p99_ms": float(np.percentile(times_ms, 99)), "upload": ran, "upload_asked": args.upload,
            "cross_batch": args.cross_batch, "device": str(device),
            "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
            "torch": torch.__version__, "threads": torch.get_num_threads(),
            "date": datetime.date.today().isoformat()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tiny", action="store_true", help="CPU smoke test: 32 px models, 320x180, 5 frames")
    p.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    p.add_argument("--device", default="auto")
    p.add_argument("--frames", type=int, default=200)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--upload", choices=("auto", "interop", "pbo", "host"), default="auto",
                   help="how images reach OpenGL (default auto: interop on CUDA, host on a CPU)")
    p.add_argument("--cross-batch", action="store_true",
                   help="one synthesis call across the grid's models (installation/cross_batch.py)")
    p.add_argument("--out", type=Path, help="append the JSON lines here too")
    args = p.parse_args(argv)
    import torch

    from benchmarks.json_lines import emit

    device = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device)
    if args.tiny:
        args.resolution, args.size, args.frames, args.warmup = 32, (320, 180), 5, 1
        args.w_dim, args.map, args.cbase, args.cmax, args.fp16_res = 32, 2, 512, 32, 0
    else:
        args.resolution, args.size = 1024, (1920, 1080)
        args.w_dim, args.map, args.cbase, args.cmax, args.fp16_res = 512, 8, 32768, 512, 4
    for case in args.cases:
        emit(measure(case, args, device), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
