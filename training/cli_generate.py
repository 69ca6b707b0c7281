"""`likeness generate MODEL --seeds 0-3,7 -o DIR`: one image per seed, as NVIDIA's gen_images.py writes them."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from training import cli_common as cc

DESCRIPTION = """\
Render one PNG per seed (seedNNNN.png) from any model likeness can load: a likeness checkpoint, an NVIDIA
network pickle or a rosinality checkpoint (imported in memory, nothing in the file is run). A seed means what it
means in NVIDIA's tools: z = numpy.random.RandomState(seed).randn(1, z_dim), so seed 85 here is seed 85 there.
Pixels are quantised as NVIDIA does: clamp(x * 127.5 + 128, 0, 255).

The output folder is written whole or not at all (a temporary sibling renamed at the end); an existing folder is
replaced only with --force, and only if it holds nothing but a previous run's files.
"""
SEEDS_HELP = "seeds: comma-separated numbers and inclusive ranges, e.g. 0-3,7 (0 <= seed < 2**32)"
MAX_SEED = 2 ** 32 - 1
OUTPUT_NAME = re.compile(r"^seed\d{4,}\.(png|npy)$")
MANIFEST = "generate.json"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = cc.add_command(subparsers, "generate", run, help="render images for seeds from any loadable model",
                       description=DESCRIPTION)
    p.add_argument("model", metavar="MODEL", help="likeness checkpoint (.pt), NVIDIA pickle (.pkl) or rosinality "
                   "checkpoint (.pt)")
    p.add_argument("--seeds", required=True, type=parse_seeds, help=SEEDS_HELP)
    cc.add_output_flag(p, required=True, metavar="DIR", help="folder to create for the images")
    p.add_argument("--trunc", type=cc.finite_float, default=1.0, metavar="PSI",
                   help="truncation psi: 1 = none, lower pulls toward the average face (default: 1)")
    p.add_argument("--noise-mode", choices=("const", "random", "none"), default="const",
                   help="const: the stored noise (default); random: fresh noise, reproducible per seed; none")
    p.add_argument("--class", dest="class_idx", type=cc.non_negative_int, metavar="N",
                   help="class index for conditional models (required by them, refused by the others)")
    p.add_argument("--save-raw", action="store_true",
                   help="also write the generator's float32 output as seedNNNN.npy, shape [1, C, H, W], "
                   "range about [-1, 1]")
    cc.add_device_flag(p)
    cc.add_force_flag(p, help="replace DIR if it holds only a previous run's files")


def parse_seeds(text: str) -> list[int]:
    """'0-3,7' -> [0, 1, 2, 3, 7]: numbers and inclusive ranges, duplicates dropped, order kept."""
    seeds: list[int] = []
    for part in text.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not match:
            raise argparse.ArgumentTypeError(f"{text!r} is not a seed list; {SEEDS_HELP}")
        lo = int(match.group(1))
        hi = int(match.group(2)) if match.group(2) is not None else lo
        if hi < lo or hi > MAX_SEED:
            raise argparse.ArgumentTypeError(f"seed range {part.strip()!r} is empty or beyond {MAX_SEED}")
        if hi - lo >= 100000:
            raise argparse.ArgumentTypeError(f"seed range {part.strip()!r} asks for more than 100000 images")
        seeds.extend(range(lo, hi + 1))
    return list(dict.fromkeys(seeds))


def run(args: argparse.Namespace) -> int:
    import numpy as np
    import torch
    from PIL import Image

    from training.atomic import atomic_output, check_output_free
    from training.errors import UsageError
    from training.hashing import file_sha256
    from training.importers.importing import load_any_generator
    from training.networks import z_from_seed

    outdir = Path(args.out)
    check_output_free(outdir, args.force, folder=True)
    if outdir.exists():
        _check_replaceable(outdir)
    device = cc.resolve_device(args.device)
    G = load_any_generator(args.model, device=device)
    label = _label(G.c_dim, args.class_idx, device)
    if G.img_channels not in (1, 3, 4):
        raise UsageError(f"the model makes {G.img_channels}-channel images; PNG output needs 1, 3 or 4 channels")

    with atomic_output(outdir, force=args.force, folder=True) as tmp:
        tmp.mkdir()
        for i, seed in enumerate(args.seeds):
            print(f"seed {seed:04d} ({i + 1}/{len(args.seeds)})", flush=True)
            z = z_from_seed(seed, G.z_dim).to(device)
            if args.noise_mode == "random":
                torch.manual_seed(seed)  # random noise, but the same for the same seed
            with torch.no_grad():
                img = G(z, label, truncation_psi=args.trunc, noise_mode=args.noise_mode).float()
            pixels = (img.permute(0, 2, 3, 1) * 127.5 + 128).clamp(0, 255).to(torch.uint8)[0].cpu().numpy()
            Image.fromarray(pixels[:, :, 0] if G.img_channels == 1 else pixels).save(tmp / f"seed{seed:04d}.png")
            if args.save_raw:
                np.save(tmp / f"seed{seed:04d}.npy", img.cpu().numpy().astype(np.float32))
        manifest = {"model": str(Path(args.model).resolve()), "model_sha256": file_sha256(Path(args.model)),
                    "seeds": args.seeds, "truncation_psi": args.trunc, "noise_mode": args.noise_mode,
                    "class": args.class_idx, "resolution": G.img_resolution, "raw": bool(args.save_raw),
                    "z": "numpy.random.RandomState(seed).randn(1, z_dim)"}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"wrote {len(args.seeds)} image{'s' if len(args.seeds) != 1 else ''} "
          f"({G.img_resolution}x{G.img_resolution}) to {outdir}")
    return 0


def _label(c_dim: int, class_idx: int | None, device):
    import torch

    from training.errors import UsageError

    if c_dim == 0:
        if class_idx is not None:
            raise UsageError("--class was given but the model is not conditional (it has no classes)")
        return None
    if class_idx is None:
        raise UsageError(f"the model is conditional ({c_dim} classes): choose one with --class N, 0 <= N < {c_dim}")
    if not 0 <= class_idx < c_dim:
        raise UsageError(f"--class {class_idx} is out of range: the model has classes 0 to {c_dim - 1}")
    label = torch.zeros([1, c_dim], device=device)
    label[0, class_idx] = 1
    return label


def _check_replaceable(outdir: Path) -> None:
    """--force replaces a folder of our own output only: never a folder that holds anything else."""
    from training.errors import UsageError

    if not outdir.is_dir():
        raise UsageError(f"{outdir} exists and is not a folder; choose another --out")
    foreign = [p.name for p in outdir.iterdir() if not (p.is_file() and (OUTPUT_NAME.match(p.name)
                                                                        or p.name == MANIFEST))]
    if foreign:
        raise UsageError(f"{outdir} holds files `generate` did not write ({', '.join(sorted(foreign)[:3])}); "
                         "refusing to replace it even with --force; choose another --out")
