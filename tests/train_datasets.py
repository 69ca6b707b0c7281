"""Small training datasets the training tests write themselves, in NVIDIA's dataset_tool zip layout."""

from __future__ import annotations

import io
import json
import math
import zipfile
from pathlib import Path

import numpy as np
import PIL.Image


def frames(n: int, size: int, seed: int, width: int | None = None) -> list[np.ndarray]:
    """A light disc (a head) drifting across a coloured gradient (a wall), with a little sensor noise."""
    width = width or size
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:width] / size
    out = []
    for i in range(n):
        t = i / max(n - 1, 1)
        disc = ((xx - 0.3 - 0.4 * t) ** 2 + (yy - 0.5 - 0.1 * math.sin(6 * t)) ** 2 < 0.06)[..., None]
        wall = np.stack([0.2 + 0.6 * xx, 0.3 + 0.4 * yy, 0.5 + 0 * xx], -1)
        img = np.where(disc, np.array([0.9, 0.7, 0.6]), wall) + rng.normal(0, 0.02, wall.shape)
        out.append((img.clip(0, 1) * 255).astype(np.uint8))
    return out


def write_zip(path: Path, images: list[np.ndarray], person: str | None = "ana", fps: int = 1,
              provenance: dict | None = None) -> Path:
    """NVIDIA dataset_tool layout (00000/img00000000.png, dataset.json) with a likeness block naming the sitter
    (or the whole `provenance` block when given)."""
    with zipfile.ZipFile(path, "w") as zf:
        for i, image in enumerate(images):
            buf = io.BytesIO()
            PIL.Image.fromarray(image).save(buf, format="png")
            idx = f"{i:08d}"
            zf.writestr(f"{idx[:5]}/img{idx}.png", buf.getvalue())
        meta = {"labels": None}
        if provenance is not None:
            meta["likeness"] = provenance
        elif person:
            meta["likeness"] = {"person": person, "fps": fps}
        zf.writestr("dataset.json", json.dumps(meta))
    return path


def break_crc(path: Path, member: str) -> None:
    """Flip one byte inside a stored member's data, as a failing disk or a bad copy does: its CRC no longer matches."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    assert info.compress_type == zipfile.ZIP_STORED
    with open(path, "r+b") as f:
        f.seek(info.header_offset + 26)
        name_len, extra_len = int.from_bytes(f.read(2), "little"), int.from_bytes(f.read(2), "little")
        at = info.header_offset + 30 + name_len + extra_len + info.compress_size // 2
        f.seek(at)
        byte = f.read(1)
        f.seek(at)
        f.write(bytes([byte[0] ^ 0xFF]))
