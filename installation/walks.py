"""Latent walks: where in a model's latent space each window is at show time t, as a pure function of t.

A walk visits keyframes (seeds, drawn as NVIDIA's generate.py draws them, so seed 85 here is the face
`likeness generate --seeds 85` draws; or saved z / w latents from a .npy) and always loops: after the last
keyframe it travels back to the first, so a walk can run for hours without a jump.

- slerp in Z: great-circle interpolation between normalised keys, the norm interpolated linearly, then mapped;
- linear in W: straight lines between the mapped keys (corners at the keys);
- cubic in W: a uniform Catmull-Rom spline through the mapped keys, closed over the loop, so neither value nor
  velocity jumps anywhere, at the loop point included;
- noise: no keyframes; a circle z(theta) = a cos(theta) + b sin(theta) through two random Gaussian directions,
  every point of which is itself a standard-normal z, one turn per `seconds`.

Position on the walk, in keyframes: p = (walk_time * speed + phase * window) / seconds, taken modulo the number of
keys. Truncation pulls w toward the model's w_avg after mapping. Everything runs on the model's device in float32.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from installation.walk_kinds import INTERPOLATIONS, MODES, SPACES
from training.errors import DataError
from training.networks import zs_from_seeds


@dataclass(frozen=True)
class WalkSpec:
    """How one scene's windows move. `seconds` is the time per keyframe (the period of one turn for noise)."""

    mode: str = "keyframes"
    seeds: tuple[int, ...] = (0, 1, 2, 3)
    latents: Path | None = None
    space: str = "z"
    interpolation: str = "slerp"
    seconds: float = 4.0
    speed: float = 1.0
    truncation: float = 1.0
    phase: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"walk mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if self.space not in SPACES or self.interpolation not in INTERPOLATIONS:
            raise ValueError(f"walk space/interpolation {self.space}/{self.interpolation} is not one of z/slerp, "
                             "w/linear, w/cubic")
        if self.interpolation == "slerp" and self.space != "z":
            raise ValueError("slerp walks run in Z; use interpolation linear or cubic for W")
        if self.interpolation != "slerp" and self.space != "w":
            raise ValueError(f"{self.interpolation} walks run in W; use slerp for Z")
        if not self.seconds > 0 or not math.isfinite(self.seconds):
            raise ValueError(f"walk seconds must be above zero, got {self.seconds}")
        if self.mode == "keyframes" and self.latents is None and len(self.seeds) < 1:
            raise ValueError("a keyframe walk needs at least one seed or a latents file")


# -- the interpolants (pure tensor maths) ------------------------------------------------------------------------


def slerp(a: torch.Tensor, b: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Rows of a and b [N, D], fractions u [N]: great-circle blend of the directions, linear blend of the norms."""
    u = u.reshape(-1, 1)
    na, nb = a.norm(dim=1, keepdim=True), b.norm(dim=1, keepdim=True)
    da, db = a / na.clamp_min(1e-12), b / nb.clamp_min(1e-12)
    cos = (da * db).sum(dim=1, keepdim=True).clamp(-1.0, 1.0)
    omega = torch.arccos(cos)
    sin = torch.sin(omega)
    near = sin.abs() < 1e-6  # (almost) the same direction: linear blend, renormalised below
    safe = torch.where(near, torch.ones_like(sin), sin)
    wa = torch.where(near, 1 - u, torch.sin((1 - u) * omega) / safe)
    wb = torch.where(near, u, torch.sin(u * omega) / safe)
    direction = wa * da + wb * db
    direction = direction / direction.norm(dim=1, keepdim=True).clamp_min(1e-12)
    return direction * ((1 - u) * na + u * nb)


def lerp(a: torch.Tensor, b: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    return a + (b - a) * u.reshape([-1] + [1] * (a.ndim - 1))


def catmull_rom(p0: torch.Tensor, p1: torch.Tensor, p2: torch.Tensor, p3: torch.Tensor,
                u: torch.Tensor) -> torch.Tensor:
    """Uniform Catmull-Rom between p1 (u=0) and p2 (u=1); tangents (p2-p0)/2 and (p3-p1)/2, so C1 at the keys."""
    u = u.reshape([-1] + [1] * (p1.ndim - 1))
    u2, u3 = u * u, u * u * u
    return 0.5 * ((2 * p1) + (-p0 + p2) * u + (2 * p0 - 5 * p1 + 4 * p2 - p3) * u2 + (-p0 + 3 * p1 - 3 * p2 + p3) * u3)


def loop_position(position: torch.Tensor, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Keyframe index (int64, in [0, count)) and fraction in [0, 1) of positions measured in keyframes."""
    wrapped = torch.remainder(position.to(torch.float64), count)
    index = torch.floor(wrapped)
    frac = (wrapped - index).to(torch.float32)
    return index.to(torch.int64) % count, frac


# -- a walk bound to one model -----------------------------------------------------------------------------------


class WalkSampler:
    """One walk's keyframes on one model, ready to give the ws of any number of (window, time) pairs per frame.

    Keyframes are computed once (seed -> z, and mapped to w for W walks); each frame then costs one small
    interpolation and, for Z walks, one mapping pass over the frame's windows."""

    def __init__(self, G: torch.nn.Module, spec: WalkSpec, *, reseed: int = 0):
        self.G = G
        self.spec = spec
        self.device = G.w_avg.device
        self.num_ws = G.num_ws
        if spec.mode == "noise":
            rng = np.random.RandomState(spec.seed + reseed)
            pair = rng.randn(2, G.z_dim)
            self.keys = torch.from_numpy(pair).to(torch.float32).to(self.device)
        elif spec.latents is not None:
            self.keys = self._load_latents(spec.latents)
        else:
            seeds = [int(s) + reseed for s in spec.seeds]
            z = zs_from_seeds(seeds, G.z_dim).to(self.device)
            self.keys = z if spec.space == "z" else self._map(z)

    @property
    def count(self) -> int:
        return 1 if self.spec.mode == "noise" else int(self.keys.shape[0])

    def positions(self, walk_time: float | torch.Tensor, windows: torch.Tensor) -> torch.Tensor:
        """Position in keyframes (float64) of each window index at walk time; phases spread the windows out."""
        t = torch.as_tensor(walk_time, dtype=torch.float64)
        return (t * self.spec.speed + self.spec.phase * windows.to(torch.float64)) / self.spec.seconds

    @torch.no_grad()
    def ws(self, positions: torch.Tensor, truncation: float | None = None) -> torch.Tensor:
        """[N, num_ws, w_dim] for positions in keyframes [N] (see `positions`)."""
        psi = self.spec.truncation if truncation is None else truncation
        if self.spec.mode == "noise":
            theta = (2 * math.pi * torch.remainder(positions.to(torch.float64), 1.0)).to(torch.float32)
            theta = theta.to(self.device).reshape(-1, 1)
            z = self.keys[0:1] * torch.cos(theta) + self.keys[1:2] * torch.sin(theta)
            w = self._map(z)
        else:
            index, frac = loop_position(positions, self.count)
            index, frac = index.to(self.device), frac.to(self.device)
            k = self.count
            if self.spec.space == "z":
                w = self._map(slerp(self.keys[index], self.keys[(index + 1) % k], frac))
            elif self.spec.interpolation == "linear":
                w = lerp(self.keys[index], self.keys[(index + 1) % k], frac)
            else:
                w = catmull_rom(self.keys[(index - 1) % k], self.keys[index], self.keys[(index + 1) % k],
                                self.keys[(index + 2) % k], frac)
        w = truncate(w, self.G.w_avg, psi)
        return broadcast_ws(w, self.num_ws)

    def _map(self, z: torch.Tensor) -> torch.Tensor:
        """z [N, z_dim] -> one w per row [N, w_dim] (the mapping broadcasts identical copies; keep one)."""
        return self.G.mapping(z.to(self.device), None)[:, 0]

    def _load_latents(self, path: Path) -> torch.Tensor:
        try:
            data = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as err:
            raise DataError(f"{path}: not a readable .npy of latents ({err}); save them with numpy.save") from None
        G, space = self.G, self.spec.space
        if data.ndim == 3 and space == "w" and data.shape[1:] == (G.num_ws, G.w_dim):
            data = data[:, 0]  # our walks move all layers together
        expected = G.z_dim if space == "z" else G.w_dim
        if data.ndim != 2 or data.shape[1] != expected or data.shape[0] < 1 or not np.isfinite(data).all():
            raise DataError(f"{path}: latents of shape {data.shape} do not fit a {space.upper()} walk of this model "
                            f"(want [K, {expected}] finite numbers, K >= 1)")
        return torch.from_numpy(data.astype(np.float32)).to(self.device)


def truncate(w: torch.Tensor, w_avg: torch.Tensor, psi: float) -> torch.Tensor:
    """w_avg + psi (w - w_avg): 1 leaves w as it is, 0 is the average face."""
    if psi == 1:
        return w
    return w_avg.to(w.dtype) + (w - w_avg.to(w.dtype)) * psi


def broadcast_ws(w: torch.Tensor, num_ws: int) -> torch.Tensor:
    return w.unsqueeze(1).expand(-1, num_ws, -1)
