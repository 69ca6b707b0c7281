"""Small TorchScript networks with the Inception file's interface (float [N, 3, 299, 299] -> [N, 2048]), saved
as real TorchScript files, for tests that need a fast network or a broken one rather than the real weights."""

from pathlib import Path

import torch
import torch.nn.functional as F


class TinyInception(torch.nn.Module):
    """Deterministic 2048-d features that depend on the image: pooled colours, their squares and a sine."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = F.adaptive_avg_pool2d(x, (16, 16)).flatten(1)  # 768
        return torch.cat([pooled, pooled * pooled, torch.sin(3 * pooled)], dim=1)[:, :2048]


class NanFeatures(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.full((x.shape[0], 2048), float("nan"))


class WrongShape(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3))


def save(module: torch.nn.Module, path: Path) -> Path:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(module), str(path))
    return path


class FewFeatures(torch.nn.Module):
    """48 informative features (4x4 pooled colours), the other 2000 zero: the covariance then has a small non-zero
    block, which keeps the FID's 2048x2048 matrix square root fast in tests that only check plumbing."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = F.adaptive_avg_pool2d(x, (4, 4)).flatten(1)  # 48
        return torch.cat([pooled, torch.zeros(x.shape[0], 2048 - pooled.shape[1], dtype=x.dtype)], dim=1)
