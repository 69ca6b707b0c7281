"""The Fréchet distance and feature statistics against independent float64 references written another way."""

import numpy as np
import pytest
import scipy.linalg
import torch

from evaluation.fid import fid_from_stats, frechet_distance
from evaluation.stats import FeatureAccumulator, FeatureStats, load_stats, mean_cov, save_stats
from training.errors import DataError, UsageError


def reference_fid(mu1, sigma1, mu2, sigma2):
    """The reference implementations' route: SciPy's Schur-method square root of the non-symmetric product."""
    root = scipy.linalg.sqrtm(sigma1 @ sigma2)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(root).real)


def exact_fid(f1, f2):
    """From the features themselves: with centred features A, B (NVIDIA's divide-by-N covariances A^T A / n1 and
    B^T B / n2), tr((S1 S2)^1/2) is the sum of the singular values of A B^T / sqrt(n1 n2), an n1 x n2 matrix."""
    a, b = f1 - f1.mean(0), f2 - f2.mean(0)
    trace_root = np.linalg.svd(a @ b.T / np.sqrt(len(f1) * len(f2)), compute_uv=False).sum()
    return float(np.sum((f1.mean(0) - f2.mean(0)) ** 2) + np.trace(np.cov(f1, rowvar=False, bias=True))
                 + np.trace(np.cov(f2, rowvar=False, bias=True)) - 2 * trace_root)


def gaussian_features(n, d, seed, scale=1.0, shift=0.0):
    rng = np.random.default_rng(seed)
    mixing = rng.standard_normal((d, d)) / np.sqrt(d)
    return (rng.standard_normal((n, d)) @ mixing) * scale + shift


def stats_of(features):
    return mean_cov(features)


def test_full_rank_matches_reference():
    mu1, s1 = stats_of(gaussian_features(400, 24, seed=1))
    mu2, s2 = stats_of(gaussian_features(400, 24, seed=2, scale=1.4, shift=0.3))
    ours = frechet_distance(mu1, s1, mu2, s2)
    assert ours > 1  # the sets differ: not a trivial 0 == 0
    assert ours == pytest.approx(reference_fid(mu1, s1, mu2, s2), rel=1e-9)


@pytest.mark.parametrize("n", [10, 40])
def test_fewer_samples_than_dimensions_is_finite_and_matches(n):
    """n < d: both covariances singular (rank n-1), as for any real set under 2048 images."""
    f1, f2 = gaussian_features(n, 64, seed=3), gaussian_features(n, 64, seed=4, scale=1.3, shift=0.2)
    (mu1, s1), (mu2, s2) = stats_of(f1), stats_of(f2)
    assert np.linalg.matrix_rank(s1) == n - 1
    ours = frechet_distance(mu1, s1, mu2, s2)
    assert np.isfinite(ours) and ours > 1
    assert ours == pytest.approx(exact_fid(f1, f2), rel=1e-7)  # rounding in the null space, far below 0.001
    assert ours == pytest.approx(reference_fid(mu1, s1, mu2, s2), rel=1e-5)


def test_inception_sized_few_images_match_the_exact_value():
    """The demo's case: 2048-d features, a few dozen images each."""
    f1 = gaussian_features(32, 2048, seed=8)
    f2 = gaussian_features(30, 2048, seed=9, scale=0.8, shift=0.1)
    (mu1, s1), (mu2, s2) = stats_of(f1), stats_of(f2)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(exact_fid(f1, f2), rel=1e-7)


@pytest.mark.parametrize("n", [500, 30])
def test_a_set_against_itself_is_zero(n):
    mu, sigma = stats_of(gaussian_features(n, 48, seed=5))
    assert abs(frechet_distance(mu, sigma, mu, sigma)) < 1e-6 * np.trace(sigma)


def test_mean_shift_only():
    """Same covariance, means apart by a known vector: the distance is exactly |delta|^2."""
    mu, sigma = stats_of(gaussian_features(300, 16, seed=6))
    delta = np.linspace(-1, 1, 16)
    assert frechet_distance(mu, sigma, mu + delta, sigma) == pytest.approx(float(delta @ delta), rel=1e-8)


@pytest.mark.parametrize("sigma1, words", [
    (-np.eye(3), "negative eigenvalue"),
    (np.array([[1.0, 1.0, 0], [0, 1.0, 0], [0, 0, 1.0]]), "not symmetric"),
    (np.diag([1.0, np.nan, 1.0]), "non-finite"),
])
def test_statistics_that_are_not_covariances_are_refused(sigma1, words):
    with pytest.raises(DataError, match=words):
        frechet_distance(np.zeros(3), sigma1, np.zeros(3), np.eye(3))


def test_a_negative_second_covariance_is_refused():
    with pytest.raises(DataError, match="negative eigenvalue"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(3), -2 * np.eye(3))


def test_mismatched_shapes_are_an_error():
    with pytest.raises(DataError, match="do not fit"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


def test_stats_from_different_weights_are_refused():
    a = FeatureStats(mu=np.zeros(2), sigma=np.eye(2), n=5, inception_sha256="a" * 64, source="A")
    b = FeatureStats(mu=np.zeros(2), sigma=np.eye(2), n=5, inception_sha256="b" * 64, source="B")
    with pytest.raises(DataError, match="Inception weights"):
        fid_from_stats(a, b)


def test_accumulator_matches_numpy_covariance():
    """Streaming float64 sums over uneven batches == NumPy's divide-by-N covariance of all rows at once."""
    features = gaussian_features(103, 20, seed=7, shift=0.5).astype(np.float32)
    acc = FeatureAccumulator(keep_features=True)
    for chunk in np.array_split(features, [7, 50, 51]):
        acc.add(torch.from_numpy(chunk))
    stats = acc.stats(source="test")
    assert stats.n == 103
    np.testing.assert_allclose(stats.mu, features.astype(np.float64).mean(0), rtol=1e-12)
    np.testing.assert_allclose(stats.sigma, np.cov(features.astype(np.float64), rowvar=False, bias=True),
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(acc.features(), features)


def test_accumulator_needs_two_images():
    acc = FeatureAccumulator()
    acc.add(torch.ones(1, 4))
    with pytest.raises(DataError, match="at least 2"):
        acc.stats()


def test_stats_file_roundtrip(tmp_path):
    mu, sigma = stats_of(gaussian_features(50, 8, seed=8))
    stats = FeatureStats(mu=mu, sigma=sigma, n=50, inception_sha256="c" * 64, source="folder x",
                         dataset_sha256="d" * 64)
    save_stats(stats, tmp_path / "s.npz")
    back = load_stats(tmp_path / "s.npz")
    np.testing.assert_array_equal(back.mu, mu)
    np.testing.assert_array_equal(back.sigma, sigma)
    assert (back.n, back.inception_sha256, back.source, back.dataset_sha256) == (50, "c" * 64, "folder x", "d" * 64)
    with pytest.raises(UsageError, match="already exists"):
        save_stats(stats, tmp_path / "s.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.npz"]  # no temporary left behind


def test_foreign_stats_file_with_mu_and_sigma_only(tmp_path):
    """pytorch-fid and clean-fid write only mu and sigma."""
    np.savez(tmp_path / "other.npz", mu=np.zeros(3), sigma=np.eye(3))
    back = load_stats(tmp_path / "other.npz")
    assert back.n is None and back.inception_sha256 is None


@pytest.mark.parametrize("content", [b"not a zip at all", None])
def test_unreadable_stats_files(tmp_path, content):
    path = tmp_path / "bad.npz"
    if content is None:
        np.savez(path, something=np.zeros(3))
    else:
        path.write_bytes(content)
    with pytest.raises(DataError) as err:
        load_stats(path)
    assert "\n" not in str(err.value)


def test_non_finite_stats_file_is_refused(tmp_path):
    np.savez(tmp_path / "nan.npz", mu=np.array([0.0, np.nan]), sigma=np.eye(2))
    with pytest.raises(DataError, match="NaN"):
        load_stats(tmp_path / "nan.npz")
