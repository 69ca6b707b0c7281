"""Improved precision and recall (Kynkäänniemi et al. 2019) with k = 3, as in NVIDIA's `pr50k3`.

Each set's manifold is the union of balls around its points, each ball reaching the point's k-th nearest neighbour
in its own set. Precision: the share of generated samples inside the real manifold (are fakes realistic?).
Recall: the share of real samples inside the generated manifold (does the model cover every pose and light of the
sitter?). A sample on a ball's boundary counts as inside, as in the reference code.

NVIDIA's `pr50k3` measures on VGG16 features; we use the same Inception features as FID and KID (one network,
one pass over the images), so our numbers are comparable with each other but not with published pr50k3 figures.

`video_precision` is the same precision on video datasets, with each real frame's temporal neighbours left out of
its radius (see its docstring); recall's radii are the fakes' own, which have no times, so its video counterpart
is coverage (evaluation/measures/coverage.py).

Distances are computed in blocks (rows x cols at a time, the k+1 smallest kept per row), so 50,000 x 50,000 never
sits in memory; on a GPU pass torch tensors on it, or `device`.
"""

from __future__ import annotations

import numpy as np
import torch

from evaluation.inception import full_fp32

NEIGHBOURHOOD = 3


def _as_tensor(x, device: torch.device | str | None, dtype: torch.dtype) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
    return t.to(device=device if device is not None else t.device, dtype=dtype)


def _squared_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """|a_i - b_j|^2 through one matrix product; clamped because rounding can make it slightly negative."""
    d = (a * a).sum(1, keepdim=True) + (b * b).sum(1)[None, :] - 2 * (a @ b.T)
    return d.clamp_min_(0)


def kth_neighbour_radii(points: torch.Tensor, k: int = NEIGHBOURHOOD, *, exclude=None, row_batch: int = 1024,
                        col_batch: int = 8192) -> torch.Tensor:
    """Squared distance from each point to its k-th nearest other point (the point itself is the 0-th).

    With `exclude(rows, cols) -> bool [r, c]` (it must mask each point itself), the masked pairs are not
    neighbours, and a point with fewer than k neighbours left gets radius inf."""
    if points.shape[0] <= k:
        raise ValueError(f"a manifold with k={k} needs more than {k} points, got {points.shape[0]}")
    keep = k if exclude is not None else k + 1
    radii = []
    for r0 in range(0, points.shape[0], row_batch):
        rows = torch.arange(r0, min(r0 + row_batch, points.shape[0]), device=points.device)
        best = torch.full((rows.shape[0], 0), float("inf"), dtype=points.dtype, device=points.device)
        for c0 in range(0, points.shape[0], col_batch):
            cols = torch.arange(c0, min(c0 + col_batch, points.shape[0]), device=points.device)
            d = _squared_distances(points[rows], points[cols])
            if exclude is not None:
                d = d.masked_fill(exclude(rows, cols), float("inf"))
            candidates = torch.cat([best, d], dim=1)
            best = candidates.topk(min(keep, candidates.shape[1]), dim=1, largest=False).values
        radii.append(best[:, keep - 1])
    return torch.cat(radii)


def share_inside(manifold: torch.Tensor, radii: torch.Tensor, probes: torch.Tensor, *, row_batch: int = 1024,
                 col_batch: int = 8192) -> float:
    """The share of probes within radii[j] of some manifold point j."""
    inside = []
    for rows in probes.split(row_batch):
        hit = torch.zeros(rows.shape[0], dtype=torch.bool, device=probes.device)
        for cols, r in zip(manifold.split(col_batch), radii.split(col_batch)):
            hit |= (_squared_distances(rows, cols) <= r[None, :]).any(dim=1)
        inside.append(hit)
    inside = torch.cat(inside)
    return int(inside.sum()) / inside.shape[0]


def precision_recall(real, fake, *, k: int = NEIGHBOURHOOD, device: torch.device | str | None = None,
                     dtype: torch.dtype = torch.float32, row_batch: int = 1024,
                     col_batch: int = 8192) -> tuple[float, float]:
    """(precision, recall) of generated features `fake` against real features `real`, both [N, D]."""
    real_t, fake_t = _as_tensor(real, device, dtype), _as_tensor(fake, device, dtype)
    if real_t.ndim != 2 or fake_t.ndim != 2 or real_t.shape[1] != fake_t.shape[1]:
        raise ValueError(f"precision/recall needs [N, D] features of one dimension, got {tuple(real_t.shape)} "
                         f"and {tuple(fake_t.shape)}")
    fake_t = fake_t.to(real_t.device)
    batches = dict(row_batch=row_batch, col_batch=col_batch)
    with torch.inference_mode(), full_fp32():  # TF32 would blur distances between near neighbours
        precision = share_inside(real_t, kth_neighbour_radii(real_t, k, **batches), fake_t, **batches)
        recall = share_inside(fake_t, kth_neighbour_radii(fake_t, k, **batches), real_t, **batches)
    return precision, recall


def video_precision(real, fake, index, window_s: float, *, k: int = NEIGHBOURHOOD,
                    device: torch.device | str | None = None) -> tuple[float | None, int]:
    """(precision, ball count): the share of fakes inside the real manifold whose radii leave out each frame's
    temporal neighbours (frames within +-window_s of the same source), as memorisation's reference does.

    In a film, a frame's nearest neighbours are the frames just before and after it, so the published radii are
    tiny and even good fakes fall outside them. Frames with fewer than k neighbours left are not balls; the
    precision is None when none is left."""
    from evaluation.memorisation import temporal_exclusion

    real_t = _as_tensor(real, device, torch.float32)
    fake_t = _as_tensor(fake, real_t.device, torch.float32)
    with torch.inference_mode(), full_fp32():
        radii = kth_neighbour_radii(real_t, k, exclude=temporal_exclusion(index, window_s, real_t.device))
        balls = torch.isfinite(radii)
        if not balls.any():
            return None, 0
        return share_inside(real_t[balls], radii[balls], fake_t), int(balls.sum())
