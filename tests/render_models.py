"""Tiny random generators saved as real likeness checkpoints, and a real registry.yaml naming them: what the
renderer tests draw (the renderer only ever meets models through a registry)."""

from pathlib import Path

import torch

from evaluation.registry import render_registry
from tests.random_weights import randomise
from training.checkpoint import save_checkpoint
from training.hashing import file_sha256
from training.networks import Generator

TINY = dict(z_dim=16, w_dim=16, mapping_layers=2, channel_base=256, channel_max=16)


def tiny_generator(seed: int, resolution: int = 32) -> Generator:
    torch.manual_seed(seed)
    return randomise(Generator(img_resolution=resolution, **TINY), seed=seed).eval().requires_grad_(False)


def save_generator(G: Generator, path: Path) -> Path:
    save_checkpoint(path, {"G_kwargs": dict(G.init_kwargs), "G_ema": G.state_dict()})
    return path


def make_registry(root: Path, people: dict[str, int], *, excluded: tuple[str, ...] = (), resolution: int = 32
                  ) -> Path:
    """A registry approving one tiny model per person (seeded by the value), and excluding `excluded`."""
    root.mkdir(parents=True, exist_ok=True)
    persons = {}
    for name, seed in people.items():
        path = save_generator(tiny_generator(seed, resolution), root / f"{name}.pt")
        status = "excluded" if name in excluded else "approved"
        persons[name] = {"status": status, "decided": "auto", "reason": "test", "snapshot": path.name,
                         "sha256": file_sha256(path), "fid": 10.0}
    registry = root / "registry.yaml"
    registry.write_bytes(render_registry(persons))
    return registry
