"""The metrics about the sitting as a film (coverage, video precision, diversity, the map), each against an
independent float64 NumPy/SciPy computation on small feature sets built so that the answer is known."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import scipy.spatial.distance as ssd
import torch

from evaluation.measures import coverage as cov
from evaluation.measures import diversity, sitting_map
from evaluation.memorisation import FrameIndex, temporal_exclusion
from evaluation.precision_recall import kth_neighbour_radii, video_precision

FPS = 4.0
WINDOW = 1.0


def walk(count: int, dim: int = 8, seed: int = 0) -> np.ndarray:
    """A sitting: features drifting with time (a random walk with a steady drift along the first axis), so neighbours
    in time are near in space and the story never comes back to where it was."""
    steps = np.random.default_rng(seed).normal(size=(count, dim))
    steps[:, 0] += 3.0
    return np.cumsum(steps, axis=0)


def one_source(count: int) -> FrameIndex:
    times = np.arange(count) / FPS
    return FrameIndex(np.zeros(count, np.int64), times, [f"take.mp4 {t:g}" for t in times], "timed")


def reference_radii(real: np.ndarray, index: FrameIndex, window: float, k: int = 3) -> np.ndarray:
    """Squared k-th neighbour distances in float64, the frame itself and its temporal neighbours left out."""
    d = ssd.cdist(real, real, "sqeuclidean")
    out = np.empty(len(real))
    for i in range(len(real)):
        allowed = (np.arange(len(real)) != i) & ~((index.sources == index.sources[i])
                                                   & (np.abs(index.times - index.times[i]) <= window + 1e-9))
        out[i] = np.sort(d[i, allowed])[k - 1] if allowed.sum() >= k else np.inf
    return out


def test_temporal_exclusion_changes_the_radii_as_by_hand():
    """Frames on a line at x = t: published radius = 3rd neighbour at 2 frames' distance (0.5 s); with +-1 s left
    out the 3rd neighbour is beyond the window: 1.5, 1.5, then 2.0 s away for a frame in the middle."""
    times = np.arange(40) / 2.0  # 2 fps
    real = np.zeros((40, 3))
    real[:, 0] = times
    index = FrameIndex(np.zeros(40, np.int64), times, [""] * 40, "timed")
    points = torch.from_numpy(real).float()
    published = kth_neighbour_radii(points, 3).numpy()
    video = kth_neighbour_radii(points, 3, exclude=temporal_exclusion(index, 1.0, "cpu")).numpy()
    assert published[20] == pytest.approx(1.0 ** 2) and video[20] == pytest.approx(2.0 ** 2)
    assert video[0] == pytest.approx(2.5 ** 2)  # the first frame: 1.5, 2.0, 2.5 s ahead
    np.testing.assert_allclose(video, reference_radii(real, index, 1.0), rtol=1e-5)


def test_video_precision_equals_an_independent_computation():
    real = walk(60)
    fake = real[::3] + np.random.default_rng(1).normal(scale=1.5, size=(20, 8))
    index = one_source(60)
    radii = reference_radii(real, index, WINDOW)
    inside = (ssd.cdist(fake, real, "sqeuclidean") <= radii[None, :]).any(1)
    value, balls = video_precision(real, fake, index, WINDOW)
    assert balls == 60 and value == pytest.approx(inside.mean())


def test_a_model_that_learned_only_the_first_half_covers_half_with_the_rest_uncovered():
    real = walk(80)
    fake = real[:40] + np.random.default_rng(2).normal(scale=1e-3, size=(40, 8))  # copies of the first 10 s only
    index = one_source(80)
    result = cov.coverage(real, fake, index, WINDOW)
    radii = reference_radii(real, index, WINDOW)
    expected = ssd.cdist(real, fake, "sqeuclidean").min(1) <= radii
    np.testing.assert_array_equal(result.covered, expected)
    assert result.share == pytest.approx(expected.mean()) and result.share == pytest.approx(0.5, abs=0.1)
    assert expected[:40].all()
    sources, times, unit = cov.frame_times(index, 80)
    (stretch, *_) = cov.uncovered_stretches(result, sources, times, ["take.mp4"], index.labels)
    first_uncovered = int(np.flatnonzero(~expected)[0])
    assert first_uncovered >= 40 and (stretch["start"], stretch["end"]) == (first_uncovered / FPS, 79 / FPS)
    assert stretch["frames"] == 80 - first_uncovered and stretch["shown"][-1] == 79 and unit == "s"
    (line,) = cov.timeline(result, sources, times, ["take.mp4"])
    assert (line["start"], line["end"], line["frames"], len(line["bins"])) == (0.0, 79 / FPS, 80, 80)
    assert line["bins"] == [1.0 if c else 0.0 for c in expected]


def test_timeline_bins_smooth_long_sources():
    count = 2 * cov.TIMELINE_BINS
    real = walk(count)
    index = one_source(count)
    result = cov.coverage(real, real[: count // 4], index, WINDOW)
    (line,) = cov.timeline(result, *cov.frame_times(index, count)[:2], ["take.mp4"])
    expected = [float(np.mean(result.covered[2 * b:2 * b + 2])) for b in range(cov.TIMELINE_BINS)]
    assert line["bins"] == pytest.approx(expected)


def test_identical_fakes_have_diversity_zero_and_a_copy_has_one():
    real = walk(30)
    assert diversity.mean_pairwise_distance(torch.from_numpy(np.repeat(real[:1], 30, 0))) == 0
    assert diversity.mean_pairwise_distance(torch.from_numpy(real)) == pytest.approx(ssd.pdist(real).mean())
    fake = np.random.default_rng(3).normal(size=(20, 8))
    inputs = cov.Inputs(real=torch.from_numpy(real).float(), fake=torch.from_numpy(fake).float(), real_stats=None,
                        dataset=None, index=one_source(30), copy_window_s=WINDOW, copy_percentile=5.0)
    ((name, value, details),) = diversity.compute(inputs)
    picked = real[np.unique(np.linspace(0, 29, 20).round().astype(int))]
    assert name == "diversity" and details["count"] == 20
    assert value == pytest.approx(ssd.pdist(fake).mean() / ssd.pdist(picked).mean(), rel=1e-5)
    same = cov.Inputs(**{**inputs.__dict__, "fake": inputs.fake[:1].repeat(20, 1)})
    assert diversity.compute(same)[0][1] == 0


def map_inputs(n_real: int, n_fake: int) -> cov.Inputs:
    real, fake = walk(n_real), walk(n_fake, seed=5)
    return cov.Inputs(real=torch.from_numpy(real).float(), fake=torch.from_numpy(fake).float(), real_stats=None,
                      dataset=None, index=one_source(n_real), copy_window_s=WINDOW, copy_percentile=5.0)


def test_a_small_map_is_pca_of_the_features():
    inputs = map_inputs(30, 10)
    ((_, value, details),) = sitting_map.compute(inputs)
    points = np.concatenate([inputs.real.double().numpy(), inputs.fake.double().numpy()])
    centred = points - points.mean(0)
    eigenvalues, vectors = np.linalg.eigh(centred.T @ centred)  # independent of the SVD used by the code
    expected = centred @ vectors[:, ::-1][:, :2]
    got = np.array([p[:2] for p in details["real"]] + details["fake"])
    for axis in range(2):
        e = (expected[:, axis] - expected[:, axis].min()) / np.ptp(expected[:, axis])
        assert np.allclose(got[:, axis], e, atol=2e-4) or np.allclose(got[:, axis], 1 - e, atol=2e-4)
    assert value == 40 and details["method"] == "pca" and "fewer than" in details["note"]
    assert [p[3] for p in details["real"]] == list(np.arange(30) / FPS)


def test_a_larger_map_is_tsne_and_says_so_when_scikit_learn_is_absent(monkeypatch):
    pytest.importorskip("sklearn")
    inputs = map_inputs(200, 40)
    ((_, value, details),) = sitting_map.compute(inputs)
    assert details["method"] == "tsne" and "note" not in details and value == 240
    coords = np.array([p[:2] for p in details["real"]] + details["fake"])
    assert coords.min() == 0 and coords.max() == 1
    monkeypatch.setitem(sys.modules, "sklearn", None)  # as if it were not installed
    monkeypatch.setitem(sys.modules, "sklearn.manifold", None)
    ((_, _, details),) = sitting_map.compute(inputs)
    assert details["method"] == "pca" and "scikit-learn is not installed" in details["note"]


def test_the_timeline_fills_bins_without_frames_from_their_nearest_neighbour():
    from evaluation.sitting_charts import smoothed

    assert smoothed([None, 1.0, None, None, 0.0, None]) == [1.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    assert smoothed([None, None]) == [None, None]
