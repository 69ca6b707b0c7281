"""Two folders of synthetic "sitter" images for the FID agreement benchmark (no dataset ships with the repo).

Each image: a vertical background gradient, an ellipse "head" with a darker "hair" cap and two eye dots, placed
and coloured at random. Set B draws from a slightly different distribution (warmer light, smaller heads, a blur),
so that FID(A, B) lands in the range artists see between a good and a poor model.

    python benchmarks/make_fid_images.py OUT_DIR --count 600 --size 256
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import PIL.Image
import PIL.ImageDraw
import PIL.ImageFilter


def portrait(rng: np.random.Generator, size: int, variant: str) -> PIL.Image.Image:
    warm = 25 if variant == "b" else 0
    top = rng.uniform(40, 200, 3) + [warm, 0, -warm]
    bottom = rng.uniform(20, 160, 3)
    t = np.linspace(0, 1, size)[:, None, None]
    background = np.clip(top * (1 - t) + bottom * t, 0, 255) * np.ones((1, size, 1))
    img = PIL.Image.fromarray(background.astype(np.uint8))
    draw = PIL.ImageDraw.Draw(img)
    scale = rng.uniform(0.28, 0.42) if variant == "a" else rng.uniform(0.24, 0.36)
    cx, cy = size * rng.uniform(0.4, 0.6), size * rng.uniform(0.45, 0.6)
    w, h = size * scale, size * scale * rng.uniform(1.2, 1.45)
    skin = np.clip(rng.normal([200, 160, 130], 25) + [warm, 0, -warm], 0, 255).astype(int)
    hair = np.clip(rng.normal([60, 45, 35], 20), 0, 255).astype(int)
    draw.ellipse([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], fill=tuple(skin))
    draw.chord([cx - w / 2, cy - h / 2 - h * 0.05, cx + w / 2, cy + h * 0.1], 180, 360, fill=tuple(hair))
    for side in (-1, 1):
        ex, ey, r = cx + side * w * 0.2, cy + h * 0.05, size * 0.015
        draw.ellipse([ex - r, ey - r, ex + r, ey + r], fill=(30, 30, 30))
    radius = 0.6 if variant == "a" else 1.6
    return img.filter(PIL.ImageFilter.GaussianBlur(radius * size / 256))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=600)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for variant in ("a", "b"):
        folder = args.out / variant
        folder.mkdir(parents=True, exist_ok=False)
        rng = np.random.default_rng([args.seed, ord(variant)])
        for i in range(args.count):
            portrait(rng, args.size, variant).save(folder / f"{i:05d}.png")


if __name__ == "__main__":
    main()
