"""A steady camera path from per-frame face measurements: centre, size and eye angle filtered over time.

Each frame's crop is a Gaussian-weighted *linear* fit of the measurements within three sigma either side of it
(a local regression): steady motion passes through without lag, also at the ends of the clip and across
frames without a face, while detector jitter averages out. The window looks ahead, so frames are held until
the measurements they need have arrived.
"""

from __future__ import annotations

import numpy as np


def smooth_at(t: float, times: np.ndarray, values: np.ndarray, sigma: float) -> np.ndarray:
    """The local linear fit at `t` of `values` (rows, one per time) under Gaussian weights of width `sigma`.

    With one measurement, or sigma 0, it returns the nearest measurement as it is.
    """
    times = np.asarray(times, np.float64)
    values = np.asarray(values, np.float64)
    if sigma <= 0 or len(times) == 1:
        return values[int(np.argmin(np.abs(times - t)))].copy()
    dt = times - t
    w = np.exp(-0.5 * (dt / sigma) ** 2)
    s0, s1, s2 = w.sum(), (w * dt).sum(), (w * dt * dt).sum()
    det = s0 * s2 - s1 * s1
    m0 = w @ values
    if det <= 1e-12 * max(s0 * s2, 1e-300):  # measurements all at one time: the weighted mean
        return m0 / s0
    m1 = (w * dt) @ values
    return (s2 * m0 - s1 * m1) / det  # intercept of the weighted line through (dt, value)


class PathSmoother:
    """Measurements in time order in, smoothed values out once the look-ahead is covered."""

    def __init__(self, sigma: float):
        self.sigma = max(0.0, sigma)
        self.reach = 3.0 * self.sigma
        self._times: list[float] = []
        self._values: list[np.ndarray] = []

    def add(self, t: float, value) -> None:
        self._times.append(t)
        self._values.append(np.asarray(value, np.float64))

    def ready(self, t: float, newest: float) -> bool:
        """Whether the value at `t` can be given: everything within reach after it has been seen."""
        return newest - t >= self.reach

    def value(self, t: float) -> np.ndarray | None:
        """The smoothed value at `t` from measurements within reach, or None when there are none."""
        self._forget(t - self.reach)
        near = [i for i, s in enumerate(self._times) if abs(s - t) <= self.reach + 1e-9]
        if not near:
            return None
        return smooth_at(t, np.array([self._times[i] for i in near]), np.stack([self._values[i] for i in near]),
                         self.sigma)

    def _forget(self, before: float) -> None:
        while self._times and self._times[0] < before - 1e-9:
            self._times.pop(0)
            self._values.pop(0)
