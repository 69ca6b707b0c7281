"""Can a simple classifier tell the fakes from the real frames? Cross-validated accuracy of a logistic-regression probe
on Inception features: 50% means it cannot (as good as a coin), 100% means every fake gives itself away.

FID summarises two clouds of features by their means and covariances; the probe asks a sharper question of the
same features, one a viewer's eye also asks. Balanced sets (the same number of real and fake features, at most
`max_per_class` each, drawn with a fixed seed), standardised with the training fold's mean and deviation,
L2-regularised logistic regression with scikit-learn's default strength (C = 1: the penalty |w|^2 / 2 against the
summed log-loss), fitted to convergence with L-BFGS in float64, k-fold cross-validation with both classes split
evenly over the folds. The result is the mean test accuracy over the folds and its standard deviation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

FOLDS = 5
MAX_PER_CLASS = 10_000
SEED = 0


@dataclass
class ProbeResult:
    accuracy: float  # mean test accuracy over the folds
    std: float  # standard deviation over the folds
    fold_accuracies: list[float]
    per_class: int  # real (and fake) samples used


def fit_logistic(x: torch.Tensor, y: torch.Tensor, l2: float, max_iter: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
    """Weights and bias minimising mean log-loss + l2/2 |w|^2 (the bias is not penalised), by L-BFGS."""
    w = torch.zeros(x.shape[1], dtype=x.dtype, device=x.device, requires_grad=True)
    b = torch.zeros((), dtype=x.dtype, device=x.device, requires_grad=True)
    optimizer = torch.optim.LBFGS([w, b], lr=1, max_iter=max_iter, tolerance_grad=1e-10, tolerance_change=1e-14,
                                  history_size=20, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = logistic_objective(x, y, w, b, l2)
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(closure)
    return w.detach(), b.detach()


def logistic_objective(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor, b: torch.Tensor, l2: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(x @ w + b, y) + 0.5 * l2 * (w * w).sum()


def stratified_folds(n: int, folds: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Indices 0..n-1 shuffled and split into `folds` parts whose sizes differ by at most one."""
    return np.array_split(rng.permutation(n), folds)


def probe_accuracy(real, fake, *, folds: int = FOLDS, max_per_class: int = MAX_PER_CLASS, seed: int = SEED,
                   device: torch.device | str | None = None) -> ProbeResult | None:
    """k-fold accuracy of telling [N, D] real from [M, D] fake features; None when there are fewer than `folds`
    samples of either (each fold needs one of each)."""
    real_t = torch.as_tensor(np.asarray(real) if not isinstance(real, torch.Tensor) else real)
    fake_t = torch.as_tensor(np.asarray(fake) if not isinstance(fake, torch.Tensor) else fake)
    device = device or real_t.device
    per_class = min(real_t.shape[0], fake_t.shape[0], max_per_class)
    if per_class < folds:
        return None
    rng = np.random.default_rng(seed)
    real_t = real_t[torch.from_numpy(np.sort(rng.choice(real_t.shape[0], per_class, replace=False)))]
    fake_t = fake_t[torch.from_numpy(np.sort(rng.choice(fake_t.shape[0], per_class, replace=False)))]
    x = torch.cat([real_t, fake_t]).to(device=device, dtype=torch.float64)
    y = torch.cat([torch.ones(per_class), torch.zeros(per_class)]).to(device=device, dtype=torch.float64)
    real_parts = stratified_folds(per_class, folds, rng)
    fake_parts = stratified_folds(per_class, folds, rng)
    accuracies = []
    for k in range(folds):
        test = np.concatenate([real_parts[k], per_class + fake_parts[k]])
        train = np.setdiff1d(np.arange(2 * per_class), test)
        test_t, train_t = torch.from_numpy(test).to(device), torch.from_numpy(train).to(device)
        mean = x[train_t].mean(0)
        std = x[train_t].std(0, correction=0)
        std = torch.where(std > 0, std, torch.ones_like(std))  # a constant feature carries nothing
        x_train, x_test = (x[train_t] - mean) / std, (x[test_t] - mean) / std
        w, b = fit_logistic(x_train, y[train_t], l2=1.0 / len(train))
        predicted = (x_test @ w + b) > 0
        accuracies.append(float((predicted == (y[test_t] > 0.5)).double().mean()))
    return ProbeResult(float(np.mean(accuracies)), float(np.std(accuracies)), accuracies, per_class)
