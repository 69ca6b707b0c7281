"""k-NN precision and recall on point sets whose answer is known by hand, and against a full-matrix reference."""

import numpy as np
import pytest
import torch

from evaluation.precision_recall import kth_neighbour_radii, precision_recall


def on_a_line(xs):
    points = np.zeros((len(xs), 3))
    points[:, 0] = xs
    return points


def test_hand_computed_sets():
    """Reals at 0..9, fakes at 0, 0.5, ..., 4.5 (k = 3).

    Every fake lies within 2 of a real point whose 3rd-neighbour radius is at least 2: precision 1.
    The fakes' radii are 1.0 inside their run and 1.5 at its ends (0 and 4.5). Reals 0..4 sit on fakes, 5 is 0.5
    from 4.5, 6 is exactly 1.5 from 4.5 (on the boundary, which counts), 7, 8, 9 are outside: recall 0.7.
    """
    real = on_a_line(np.arange(10.0))
    fake = on_a_line(np.arange(10) * 0.5)
    assert precision_recall(real, fake) == (1.0, pytest.approx(0.7))
    assert precision_recall(fake, real) == (pytest.approx(0.7), 1.0)  # the roles swap


def test_radii_of_a_line():
    radii = kth_neighbour_radii(torch.from_numpy(on_a_line(np.arange(10.0))), k=3)
    # squared distance to the 3rd other point: 3 at the ends, 2 everywhere else
    assert radii.tolist() == [9.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 9.0]


def reference_precision_recall(real, fake, k):
    def radii(points):
        d = np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(-1))
        return np.sort(d, axis=1)[:, k]  # column 0 is the point itself

    def inside(manifold, probes):
        d = np.sqrt(((probes[:, None, :] - manifold[None, :, :]) ** 2).sum(-1))
        return float((d <= radii(manifold)[None, :]).any(axis=1).mean())

    return inside(real, fake), inside(fake, real)


def test_blocked_computation_matches_full_matrices():
    rng = np.random.default_rng(0)
    real = rng.standard_normal((300, 8))
    fake = 0.8 * rng.standard_normal((250, 8)) + 0.8  # narrower and shifted: precision 0.85, recall 0.34
    expected = reference_precision_recall(real, fake, k=3)
    assert 0.05 < expected[0] < 0.95 and 0.05 < expected[1] < 0.95  # neither answer is trivial
    ours = precision_recall(real, fake, dtype=torch.float64, row_batch=37, col_batch=50)
    assert ours == pytest.approx(expected, abs=1e-12)
    assert precision_recall(real, fake) == pytest.approx(expected, abs=2 / 300)  # float32, default blocks


def test_shapes_are_checked():
    with pytest.raises(ValueError, match="one dimension"):
        precision_recall(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="more than 3 points"):
        precision_recall(np.zeros((3, 3)), np.ones((5, 3)))
