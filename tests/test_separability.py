"""The real-vs-fake probe: ~100% on separable sets, ~50% on identical ones; the solver against Newton's method."""

import numpy as np
import pytest
import torch

from evaluation.separability import fit_logistic, logistic_objective, probe_accuracy


def test_separable_sets_are_told_apart():
    rng = np.random.default_rng(0)
    real = rng.normal(0, 1, (200, 32))
    fake = rng.normal(0, 1, (200, 32)) + 1.5
    result = probe_accuracy(real, fake)
    assert result.accuracy > 0.97 and result.per_class == 200 and len(result.fold_accuracies) == 5


def test_identical_distributions_are_a_coin_toss():
    rng = np.random.default_rng(1)
    accuracies = [probe_accuracy(rng.normal(0, 1, (200, 32)), rng.normal(0, 1, (200, 32)), seed=s).accuracy
                  for s in range(3)]
    assert 0.4 < np.mean(accuracies) < 0.6, accuracies


def test_sets_are_balanced_and_small_sets_refused():
    rng = np.random.default_rng(2)
    assert probe_accuracy(rng.normal(size=(300, 4)), rng.normal(size=(50, 4))).per_class == 50
    assert probe_accuracy(rng.normal(size=(300, 4)), rng.normal(size=(4, 4))) is None
    assert probe_accuracy(rng.normal(size=(300, 4)), rng.normal(size=(50, 4)), max_per_class=20).per_class == 20


def test_the_fit_is_the_penalised_optimum():
    """Against Newton's method written out in float64 numpy: the same weights."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(60, 5))
    y = (x @ np.array([1.0, -2.0, 0.5, 0.0, 3.0]) + rng.normal(0, 2, 60) > 0).astype(np.float64)
    l2 = 1 / 60
    w, b = fit_logistic(torch.tensor(x), torch.tensor(y), l2)

    X = np.hstack([x, np.ones((60, 1))])
    theta = np.zeros(6)
    penalty = np.diag([l2] * 5 + [0.0])
    for _ in range(50):
        p = 1 / (1 + np.exp(-X @ theta))
        grad = X.T @ (p - y) / 60 + penalty @ theta
        hess = X.T @ (X * (p * (1 - p))[:, None]) / 60 + penalty
        theta -= np.linalg.solve(hess, grad)
    np.testing.assert_allclose(w.numpy(), theta[:5], atol=1e-6)
    assert float(b) == pytest.approx(theta[5], abs=1e-6)
    w_t, b_t = w.clone().requires_grad_(), b.clone().requires_grad_()
    logistic_objective(torch.tensor(x), torch.tensor(y), w_t, b_t, l2).backward()
    assert float(w_t.grad.abs().max()) < 1e-7
