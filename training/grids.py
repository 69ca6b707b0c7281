"""Image grids of a run: `reals.png` and `fakes*.png` from a fixed set of seeds.

The fakes grid shows the same seeds at every snapshot (z drawn as NVIDIA's generate.py draws a seed, constant
noise), so flipping through `fakes_init.png`, `fakes000040.png`, ... plays the training like a filmstrip, and
`likeness generate --seeds` (or NVIDIA's tools) shows the same faces.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import PIL.Image
import torch

from training.atomic import atomic_write_bytes
from training.networks import zs_from_seeds


def grid_shape(resolution: int) -> tuple[int, int]:
    """(columns, rows): about 4096 px wide, 16:9-ish, 4x3 at 1024 px up to 16x9 from 256 px down."""
    cols = int(np.clip(4096 // resolution, 4, 16))
    rows = int(np.clip(2304 // resolution, 3, 9))
    return cols, rows


def reals_indices(dataset_size: int, count: int) -> list[int]:
    """Evenly spaced frames: a per-person dataset is a film, so this shows its whole range of poses."""
    if dataset_size <= count:
        return [i % dataset_size for i in range(count)]
    return np.linspace(0, dataset_size - 1, count).round().astype(int).tolist()


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """Generator output in [-1, 1] -> uint8 NCHW, rounded as NVIDIA's save_image_grid does."""
    x = (images.detach().to(torch.float32).cpu().numpy() + 1.0) * (255 / 2)
    return np.rint(x).clip(0, 255).astype(np.uint8)


def tile(images: np.ndarray, cols: int, rows: int) -> np.ndarray:
    """uint8 [N, C, H, W] (N = cols*rows) -> one HWC (or HW for grey) image, row-major."""
    n, c, h, w = images.shape
    if n != cols * rows:
        raise ValueError(f"{n} images do not fill a {cols}x{rows} grid")
    grid = images.reshape(rows, cols, c, h, w).transpose(0, 3, 1, 4, 2).reshape(rows * h, cols * w, c)
    return grid[:, :, 0] if c == 1 else grid


def untile(grid: np.ndarray, cols: int, rows: int) -> np.ndarray:
    """Inverse of `tile`: HWC grid -> uint8 [N, C, H, W]."""
    if grid.ndim == 2:
        grid = grid[:, :, None]
    gh, gw, c = grid.shape
    h, w = gh // rows, gw // cols
    return grid.reshape(rows, h, cols, w, c).transpose(0, 2, 4, 1, 3).reshape(rows * cols, c, h, w)


def save_png(path: str | os.PathLike, image: np.ndarray) -> None:
    buf = io.BytesIO()
    PIL.Image.fromarray(image).save(buf, format="PNG", compress_level=3)
    atomic_write_bytes(Path(path), buf.getvalue())


class FakesGrid:
    """The fixed latents (and labels) of a run's fakes grid, rendered with G_ema in batches."""

    def __init__(self, seeds: list[int], z_dim: int, labels: torch.Tensor | None, cols: int, rows: int):
        self.seeds = seeds
        self.z = zs_from_seeds(seeds, z_dim)
        self.labels = labels
        self.cols = cols
        self.rows = rows

    @torch.no_grad()
    def render(self, G: torch.nn.Module, batch: int, device: torch.device) -> np.ndarray:
        chunks = []
        for start in range(0, len(self.seeds), batch):
            z = self.z[start:start + batch].to(device)
            c = None if self.labels is None else self.labels[start:start + batch].to(device)
            chunks.append(to_uint8(G(z, c, noise_mode="const")))
        return tile(np.concatenate(chunks), self.cols, self.rows)
