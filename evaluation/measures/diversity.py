"""Mode collapse: the fakes' diversity against the reals' at the same count.

Diversity is the mean pairwise L2 distance of Inception features. The same number of each is compared (at most
MAX_COUNT): the first fakes by seed, and real frames evenly spaced through the dataset (through the whole sitting).
The value is the ratio fake / real: about 1 for a model that varies as much as its sitter, 0 for identical fakes.
Below WARNING_RATIO (0.8) the report warns of mode collapse: the fakes vary a fifth less than the film does, a
gap that sampling noise at a few hundred images does not explain and that an artist sees as "always the same face".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from evaluation.measures.base import Inputs, Measured, Metric, plain_column, plain_summary

if TYPE_CHECKING:
    import torch

MAX_COUNT = 5000
WARNING_RATIO = 0.8


def mean_pairwise_distance(features: torch.Tensor, block: int = 1024) -> float:
    """The mean L2 distance over all pairs i < j, in float64 through blocked matrix products."""
    x = features.double()
    n = x.shape[0]
    if n < 2:
        raise ValueError("diversity needs at least 2 samples")
    norms = (x * x).sum(1)
    total = 0.0
    for r0 in range(0, n, block):
        rows = x[r0:r0 + block]
        d = (norms[r0:r0 + block, None] + norms[None, :] - 2 * rows @ x.T).clamp_min(0).sqrt()
        total += float(d.sum())
    return total / (n * (n - 1))  # every pair counted twice, the diagonal is 0


def evenly_spaced(count: int, total: int) -> np.ndarray:
    return np.unique(np.linspace(0, total - 1, count).round().astype(np.int64))


def compute(inputs: Inputs) -> list[Measured]:
    count = min(inputs.real.shape[0], inputs.fake.shape[0], MAX_COUNT)
    if count < 2:
        return [("diversity", None, {"note": "needs at least 2 real frames and 2 fakes"})]
    import torch

    which = torch.as_tensor(evenly_spaced(count, inputs.real.shape[0]), device=inputs.real.device)
    real = mean_pairwise_distance(inputs.real[which])
    fake = mean_pairwise_distance(inputs.fake[:count])
    details = {"count": count, "real": round(real, 6), "fake": round(fake, 6), "warning_ratio": WARNING_RATIO}
    if real == 0:
        return [("diversity", None, {**details, "note": "the real frames are all identical"})]
    return [("diversity", fake / real, details)]


METRIC = Metric(
    name="diversity", records=("diversity",), compute=compute,
    columns=(plain_column("diversity (fake/real)", "diversity", ".3f"),),
    summary=plain_summary("diversity", "diversity", ".3f"),
    help=f"the fakes' mean pairwise feature distance over the reals' at the same count (1: as varied as\n"
         f"the sitter, 0: identical fakes); the report warns of mode collapse below {WARNING_RATIO:g}")
