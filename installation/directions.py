"""Closed-form latent directions (SeFa, Shen & Zhou 2021): a few meaningful faders per sitter, found in the weights.

The style of a synthesis layer is `A w + b` (its affine layer). Moving w along n changes the styles by `A n`, so the
directions that change the first layers' styles the most are the top eigenvectors of `A^T A`, with A the first
style layers' affine weights stacked (rows normalised, as the paper does). They are computed once per model (an
eigendecomposition of a w_dim x w_dim matrix, in float64 on the CPU whatever device the model is on: no solver
start-up on the GPU, the same directions everywhere; about 0.1-0.5 s for config F on 2 shared CPU cores), ordered
strongest first, unit length in W. A live show computes them for every model before its first frame, so the first
move of a fader does not stall the picture.
"""

from __future__ import annotations

import torch

DEFAULT_COUNT = 8
DEFAULT_LAYERS = 4  # the coarse layers (4x4 and 8x8): pose, face shape, hair


@torch.no_grad()
def sefa_directions(G: torch.nn.Module, count: int = DEFAULT_COUNT, layers: int = DEFAULT_LAYERS) -> torch.Tensor:
    """[count, w_dim] unit directions in W, strongest first."""
    weights = []
    for name, module in G.synthesis.named_modules():
        if name.endswith("affine") and not name.split(".")[-2].startswith("torgb"):
            weights.append(module.weight.float())
            if len(weights) == layers:
                break
    if not weights:
        raise ValueError("the generator has no style layers")
    device = weights[0].device
    A = torch.cat([w.to("cpu", torch.float64) for w in weights], dim=0)
    A = A / A.norm(dim=1, keepdim=True).clamp_min(1e-12)
    values, vectors = torch.linalg.eigh(A.T @ A)
    top = vectors[:, torch.argsort(values, descending=True)[:count]].T
    return top.to(device=device, dtype=torch.float32).contiguous()


def offset(directions: torch.Tensor, values: dict[int, float]) -> torch.Tensor | None:
    """sum_k value_k * direction_k [w_dim], or None when every value is zero."""
    picked = [(k, v) for k, v in values.items() if v != 0 and 0 <= k < directions.shape[0]]
    if not picked:
        return None
    index = torch.tensor([k for k, _ in picked], device=directions.device)
    weight = torch.tensor([v for _, v in picked], dtype=directions.dtype, device=directions.device)
    return (weight[:, None] * directions[index]).sum(dim=0)
