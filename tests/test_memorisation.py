"""The memorisation check on constructed features whose near-copies are known, against brute-force float64."""

import numpy as np
import pytest
import torch

from evaluation.memorisation import FrameIndex, closest_pairs, memorisation, nearest

FPS = 10
FRAMES_PER_SOURCE = 20
STEP = 0.5  # feature distance between consecutive frames: a slow head turn


def filmed_features(seed=0):
    """3 sources x 20 frames at 10 fps: each a slow drift (consecutive frames 0.5 apart), sources far apart."""
    rng = np.random.default_rng(seed)
    dim = 16
    real, sources, times = [], [], []
    for s in range(3):
        base = rng.normal(0, 10, dim)
        direction = rng.normal(0, 1, dim)
        direction /= np.linalg.norm(direction)
        for k in range(FRAMES_PER_SOURCE):
            real.append(base + direction * STEP * k)
            sources.append(s)
            times.append(k / FPS)
    return np.array(real), np.array(sources), np.array(times), rng


def index_of(sources, times, timed=True):
    labels = [f"take{s}.mp4 {t:.1f}" for s, t in zip(sources, times)]
    if not timed:
        return FrameIndex(None, None, labels, "no index")
    return FrameIndex(sources, times, labels, "left out")


def fakes_with_copies(real, rng):
    """5 near-copies (1.0 from a known frame, square to the drift so that frame stays the nearest) and 15 new
    images 8 away from any frame."""
    copies_of = [3, 17, 25, 41, 58]
    fakes = []
    for j in copies_of:
        drift = real[j] - real[j - 1]
        drift /= np.linalg.norm(drift)
        offset = rng.normal(0, 1, real.shape[1])
        offset -= (offset @ drift) * drift
        fakes.append(real[j] + offset / np.linalg.norm(offset) * 1.0)
    for j in rng.choice(len(real), 15, replace=False):
        offset = rng.normal(0, 1, real.shape[1])
        fakes.append(real[j] + offset / np.linalg.norm(offset) * 8.0)
    return np.array(fakes), copies_of


def brute_force_reference(real, sources, times, window):
    out = []
    for i in range(len(real)):
        d = [np.linalg.norm(real[i] - real[j]) for j in range(len(real))
             if j != i and not (sources[i] == sources[j] and abs(times[i] - times[j]) <= window + 1e-9)]
        out.append(min(d) if d else np.inf)
    return np.array(out)


def test_near_copies_are_found_and_named():
    real, sources, times, rng = filmed_features()
    fake, copies_of = fakes_with_copies(real, rng)
    index = index_of(sources, times)
    result = memorisation(real, fake, index, percentile=5, window_s=1.0)

    expected_reference = brute_force_reference(real, sources, times, 1.0)
    expected_reference = expected_reference[np.isfinite(expected_reference)]
    np.testing.assert_allclose(np.sort(result.reference), np.sort(expected_reference), rtol=1e-5)
    assert result.threshold == pytest.approx(np.percentile(expected_reference, 5), rel=1e-5)
    assert result.threshold > 1.0  # the nearest non-adjacent frame is 11 frames (5.5) away
    assert result.count == 5 and result.share == 0.25
    pairs = closest_pairs(result, index, [f"frame{i}" for i in range(len(real))], count=7)
    assert sorted(p["seed"] for p in pairs[:5]) == [0, 1, 2, 3, 4]
    assert {p["seed"]: p["frame"] for p in pairs[:5]} == dict(enumerate(copies_of))
    assert all(p["near_copy"] for p in pairs[:5]) and not any(p["near_copy"] for p in pairs[5:])
    assert pairs[0]["distance"] == pytest.approx(1.0, abs=1e-5)
    assert pairs[0]["from"] == f"take{sources[pairs[0]['frame']]}.mp4 {times[pairs[0]['frame']]:.1f}"


def test_without_the_frame_index_adjacent_frames_hide_the_copies():
    """Consecutive frames 0.5 apart become the reference: the same copies no longer count. Why the index matters."""
    real, sources, times, rng = filmed_features()
    fake, _ = fakes_with_copies(real, rng)
    result = memorisation(real, fake, index_of(sources, times, timed=False))
    assert result.threshold == pytest.approx(STEP, rel=1e-4) and result.count == 0


def test_nearest_in_blocks_matches_brute_force_and_masks():
    rng = np.random.default_rng(1)
    q, r = rng.normal(size=(37, 8)), rng.normal(size=(53, 8))
    d2 = ((q[:, None] - r[None]) ** 2).sum(-1)
    dist, idx = nearest(torch.tensor(q, dtype=torch.float32), torch.tensor(r, dtype=torch.float32), row_batch=8,
                        col_batch=16)
    np.testing.assert_array_equal(idx.numpy(), d2.argmin(1))
    np.testing.assert_allclose(dist.numpy(), np.sqrt(d2.min(1)), rtol=1e-6)
    # excluding even columns finds the nearest odd one
    dist, idx = nearest(torch.tensor(q, dtype=torch.float32), torch.tensor(r, dtype=torch.float32),
                        exclude=lambda rows, cols: (cols[None, :] % 2 == 0).expand(len(rows), -1), col_batch=16)
    d2[:, ::2] = np.inf
    np.testing.assert_array_equal(idx.numpy(), d2.argmin(1))


def test_no_reference_when_every_frame_is_adjacent():
    real, sources, times, rng = filmed_features()
    keep = times < 0.5  # half a second of each source: every frame is within 1 s of every other of its source
    single = keep & (sources == 0)
    result = memorisation(real[single], real[single][:3], index_of(sources[single], times[single]))
    assert result.share is None and result.threshold is None and "no real frame has a neighbour" in result.note
