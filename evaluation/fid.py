"""The Fréchet distance between two Gaussians fitted to Inception features: the FID.

    FID = |mu1 - mu2|^2 + tr(sigma1) + tr(sigma2) - 2 tr((sigma1 sigma2)^(1/2))

computed in float64 with SciPy's Schur-method matrix square root, as TTUR, pytorch-fid, clean-fid and NVIDIA do.
With fewer images than feature dimensions (2048) the covariances are singular; the square root of their product
then usually still exists, but when SciPy returns a non-finite result we retry with eps on both diagonals (the
reference implementations' fallback), and a square root whose diagonal has a real imaginary part is refused
rather than silently truncated: it means the statistics are not covariances.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg

from evaluation.stats import FeatureStats
from training.errors import DataError

EPS = 1e-6
IMAGINARY_TOLERANCE = 1e-3


def _sqrtm(matrix: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "matrix is singular": expected below 2048 images, handled by the caller
        return scipy.linalg.sqrtm(matrix)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray,
                     eps: float = EPS) -> float:
    """Fréchet distance of N(mu1, sigma1) and N(mu2, sigma2), in float64."""
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (mu1.shape[0], mu1.shape[0]):
        raise DataError(f"the two statistics do not fit together (mu {mu1.shape} vs {mu2.shape}, sigma "
                        f"{sigma1.shape} vs {sigma2.shape}); both must come from the same 2048-d Inception features")
    root = _sqrtm(sigma1 @ sigma2)
    if not np.isfinite(root).all():
        offset = np.eye(sigma1.shape[0]) * eps
        root = _sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if not np.isfinite(root).all():
        raise DataError("the covariance product has no finite square root even after regularisation; the "
                        "statistics are broken, recompute them")
    if np.iscomplexobj(root):
        imaginary = np.abs(np.diagonal(root).imag).max()
        if imaginary > IMAGINARY_TOLERANCE:
            raise DataError(f"the square root of the covariance product has an imaginary part of {imaginary:.3g}; "
                            "the statistics are not covariances of real features, recompute them")
        root = root.real
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(root))


def check_comparable(a: FeatureStats, b: FeatureStats) -> None:
    """Two statistics from different Inception weights give a meaningless FID: refuse rather than print it."""
    if a.inception_sha256 and b.inception_sha256 and a.inception_sha256 != b.inception_sha256:
        raise DataError(f"{a.source} was measured with Inception weights {a.inception_sha256[:12]}... and "
                        f"{b.source} with {b.inception_sha256[:12]}...; recompute one of them with the same weights")


def fid_from_stats(a: FeatureStats, b: FeatureStats) -> float:
    check_comparable(a, b)
    return frechet_distance(a.mu, a.sigma, b.mu, b.sigma)
