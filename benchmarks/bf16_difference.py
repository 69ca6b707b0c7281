#!/usr/bin/env python3
"""How far bf16 synthesis is from float32, in grey levels (0..255) of the quantised images the renderer draws.

The same generator, the same seeds: float32 everywhere, then its reduced-precision blocks (num_fp16_res of them) in
bfloat16. Prints max and mean absolute difference and the fraction of pixel values off by more than 2 levels.
Random config-F-sized weights at 256 px by default (--snapshot: a real model instead).

    python benchmarks/bf16_difference.py --device cpu --seeds 0 1 2 3
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--snapshot", type=Path, help="a generator snapshot (default: random weights)")
    p.add_argument("--resolution", type=int, default=256)
    p.add_argument("--fp16-res", type=int, default=4, help="reduced-precision blocks of the random generator")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    p.add_argument("--device", default="auto")
    p.add_argument("--out", type=Path, help="append the JSON line here too")
    args = p.parse_args(argv)
    import torch

    from benchmarks.json_lines import emit
    from training.networks import Generator, zs_from_seeds

    device = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device)
    if args.snapshot:
        from training.importers.importing import load_any_generator

        G = load_any_generator(args.snapshot, device=device)
    else:
        torch.manual_seed(0)
        G = Generator(img_resolution=args.resolution, z_dim=512, w_dim=512, channel_base=16384, channel_max=512,
                      num_fp16_res=args.fp16_res, conv_clamp=256)
    G = G.eval().requires_grad_(False).to(device)
    z = zs_from_seeds(args.seeds, G.z_dim).to(device)
    with torch.no_grad():
        ws = G.mapping(z, None)
        images = {}
        for name, dtype in (("float32", None), ("bfloat16", torch.bfloat16)):
            G.set_precision(dtype, on_cpu=True)
            img = G.synthesis(ws, noise_mode="const")
            images[name] = (img.float() * 127.5 + 128).clamp(0, 255).to(torch.uint8).int()
    diff = (images["bfloat16"] - images["float32"]).abs().float()
    emit({"benchmark": "bf16_difference", "resolution": G.img_resolution, "seeds": args.seeds,
          "snapshot": str(args.snapshot or "random"), "max_levels": float(diff.max()),
          "mean_levels": float(diff.mean()), "fraction_over_2": float((diff > 2).float().mean()),
          "device": str(device), "torch": torch.__version__, "date": datetime.date.today().isoformat()}, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
