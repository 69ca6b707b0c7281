"""A map of the sitting: real frames and fakes embedded together in 2-D, the reals coloured by their time.

t-SNE (scikit-learn's, an optional dependency: `pip install 'likeness[map]'`) when there are at least TSNE_MIN
points, PCA (float64 SVD) for smaller sets or when scikit-learn is absent, with a note saying so. At most MAX_REALS
real frames (evenly spaced through the dataset) and MAX_FAKES fakes (the first seeds) are embedded, so the map costs
seconds, not the minutes of t-SNE on 100,000 points. The coordinates are scaled into [0, 1] and kept in the
details, so the report draws the map without measuring again. The value is the number of points embedded.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from evaluation.measures.base import Inputs, Measured, Metric
from evaluation.measures.coverage import frame_times
from evaluation.measures.diversity import evenly_spaced

MAX_REALS = 1500
MAX_FAKES = 500
TSNE_MIN = 200
NO_SKLEARN = ("scikit-learn is not installed, so this map is PCA, not t-SNE (PCA keeps the two widest directions "
              "and flattens clusters); `pip install 'likeness[map]'` and run `likeness evaluate --force --metrics "
              "map` for t-SNE")


def pca_2d(points: np.ndarray) -> np.ndarray:
    """The projection on the two principal directions (float64 SVD of the centred points)."""
    centred = points - points.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ vt[:2].T


def tsne_2d(points: np.ndarray) -> np.ndarray:
    from sklearn.manifold import TSNE

    perplexity = min(30.0, (points.shape[0] - 1) / 3)
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=0).fit_transform(points)


def embed(points: np.ndarray) -> tuple[np.ndarray, str, str | None]:
    """(coordinates [N, 2], method, note)."""
    if points.shape[0] < TSNE_MIN:
        return pca_2d(points), "pca", f"PCA: fewer than {TSNE_MIN} points, too few for t-SNE"
    try:
        return tsne_2d(points), "tsne", None
    except ImportError:
        return pca_2d(points), "pca", NO_SKLEARN


def unit_square(coords: np.ndarray) -> np.ndarray:
    low, span = coords.min(0), np.ptp(coords, axis=0)
    return (coords - low) / np.where(span > 0, span, 1.0)


def compute(inputs: Inputs) -> list[Measured]:
    n_real, n_fake = inputs.real.shape[0], inputs.fake.shape[0]
    if n_real + n_fake < 3:
        return [("map", None, {"note": "needs at least 3 points"})]
    reals = evenly_spaced(min(n_real, MAX_REALS), n_real)
    fakes = np.arange(min(n_fake, MAX_FAKES))
    points = np.concatenate([inputs.real[reals].double().cpu().numpy(), inputs.fake[fakes].double().cpu().numpy()])
    coords, method, note = embed(points)
    coords = np.round(unit_square(coords), 4)
    sources, times, unit = frame_times(inputs.index, n_real)
    details: dict[str, Any] = {
        "method": method, "unit": unit, "real_frames": reals.tolist(),
        "real": [[float(x), float(y), int(sources[i]), float(times[i])] for (x, y), i in zip(coords[:len(reals)], reals)],
        "fake": [[float(x), float(y)] for x, y in coords[len(reals):]]}
    if note:
        details["note"] = note
    return [("map", float(len(points)), details)]


METRIC = Metric(
    name="map", records=("map",), compute=compute,
    help="a 2-D map (t-SNE; PCA for small sets) of real frames coloured by time with the fakes on top,\n"
         f"for the report (at most {MAX_REALS} reals and {MAX_FAKES} fakes; value: points embedded)")
