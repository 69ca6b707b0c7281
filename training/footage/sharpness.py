"""Sharpness of a frame as the variance of its Laplacian: low values mean motion blur or lost focus.

The measure is taken on the output frame (at --size, inside the letterbox bars), so thresholds keep their
meaning whatever the source resolution was.
"""

from __future__ import annotations

import numpy as np
import PIL.Image


def laplacian_variance(image: PIL.Image.Image, box: tuple[int, int, int, int] | None = None) -> float:
    """Variance of the 4-neighbour Laplacian of the grey picture (0..255 scale), borders excluded."""
    if box is not None:
        image = image.crop(box)
    grey = np.asarray(image.convert("L"), dtype=np.float32)
    if grey.shape[0] < 3 or grey.shape[1] < 3:
        return 0.0
    centre = grey[1:-1, 1:-1]
    lap = grey[:-2, 1:-1] + grey[2:, 1:-1] + grey[1:-1, :-2] + grey[1:-1, 2:] - 4.0 * centre
    return float(lap.var(dtype=np.float64))
