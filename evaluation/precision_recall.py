"""Improved precision and recall (Kynkäänniemi et al. 2019) with k = 3, as in NVIDIA's `pr50k3`.

Each set's manifold is the union of balls around its points, each ball reaching the point's k-th nearest neighbour
in its own set. Precision: the share of generated samples inside the real manifold (are fakes realistic?).
Recall: the share of real samples inside the generated manifold (does the model cover every pose and light of the
sitter?). A sample on a ball's boundary counts as inside, as in the reference code.

NVIDIA's `pr50k3` measures on VGG16 features; we use the same Inception features as FID and KID (one network,
one pass over the images), so our numbers are comparable with each other but not with published pr50k3 figures.

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


def kth_neighbour_radii(points: torch.Tensor, k: int = NEIGHBOURHOOD, *, row_batch: int = 1024,
                        col_batch: int = 8192) -> torch.Tensor:
    """Squared distance from each point to its k-th nearest other point (the point itself is the 0-th)."""
    if points.shape[0] <= k:
        raise ValueError(f"a manifold with k={k} needs more than {k} points, got {points.shape[0]}")
    radii = []
    for rows in points.split(row_batch):
        best = torch.full((rows.shape[0], 0), float("inf"), dtype=points.dtype, device=points.device)
        for cols in points.split(col_batch):
            candidates = torch.cat([best, _squared_distances(rows, cols)], dim=1)
            best = candidates.topk(min(k + 1, candidates.shape[1]), dim=1, largest=False).values
        radii.append(best[:, k])
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
