"""A square crop anywhere in the picture, at any size and angle: the output side of `--fit face`.

Works in display coordinates (the picture as it is shown: rotation flags applied, square pixels); see
`display_image`. Downscaling goes through a box-filter reduction by a whole factor first, so the final bicubic
resample never shrinks by more than 2x and does not alias.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import PIL.Image

from training.footage.framing import _TRANSPOSE


def display_image(image: PIL.Image.Image, rotation: int, sample_aspect: Fraction = Fraction(1)) -> PIL.Image.Image:
    """A decoded picture as shown: turned by `rotation` (counter-clockwise degrees), with square pixels."""
    if sample_aspect and sample_aspect > 0 and sample_aspect != 1:
        width = max(1, round(image.width * float(sample_aspect)))
        image = image.resize((width, image.height), PIL.Image.Resampling.LANCZOS)
    if rotation:
        image = image.transpose(_TRANSPOSE[rotation])
    return image


@dataclass(frozen=True)
class SquareCrop:
    """The square of side `side` centred on `center`, turned `angle` degrees clockwise, resized to `size`."""

    size: int
    center: tuple[float, float]
    side: float
    angle: float = 0.0

    @property
    def content(self) -> tuple[int, int, int, int]:
        return (0, 0, self.size, self.size)  # where the picture lands in the output (for the sharpness measure)

    @property
    def upscale(self) -> bool:
        return self.size > self.side * 1.0001

    def corners(self) -> list[tuple[float, float]]:
        """Top-left, top-right, bottom-right, bottom-left of the crop in the picture (clockwise on screen)."""
        h = self.side / 2
        cos, sin = math.cos(math.radians(self.angle)), math.sin(math.radians(self.angle))
        cx, cy = self.center
        return [(cx + dx * cos - dy * sin, cy + dx * sin + dy * cos) for dx, dy in ((-h, -h), (h, -h), (h, h), (-h, h))]

    def box(self) -> list[float]:
        """[centre x, centre y, side, angle] rounded for the provenance side file."""
        return [round(self.center[0], 2), round(self.center[1], 2), round(self.side, 2), round(self.angle, 3)]

    def apply(self, image: PIL.Image.Image) -> PIL.Image.Image:
        if abs(self.angle) < 1e-6:
            cx, cy = self.center
            h = self.side / 2
            inside = cx - h >= 0 and cy - h >= 0 and cx + h <= image.width and cy + h <= image.height
            if inside:
                return image.resize((self.size, self.size), PIL.Image.Resampling.LANCZOS,
                                    box=(cx - h, cy - h, cx + h, cy + h))
        return self._rotated(image)

    def _rotated(self, image: PIL.Image.Image) -> PIL.Image.Image:
        corners = self.corners()
        xs, ys = [c[0] for c in corners], [c[1] for c in corners]
        left, top = max(0, math.floor(min(xs)) - 2), max(0, math.floor(min(ys)) - 2)
        right, bottom = min(image.width, math.ceil(max(xs)) + 2), min(image.height, math.ceil(max(ys)) + 2)
        factor = max(1, int(self.side / self.size / 2))  # after this the resample shrinks by at most 2x
        if right <= left or bottom <= top:
            return PIL.Image.new(image.mode, (self.size, self.size), 0)
        region = image.crop((left, top, right, bottom))
        if factor > 1:
            region = region.reduce(factor)
        # Output point (u, v) -> picture point -> the reduced region's coordinates (continuous, pixel i is [i, i+1)).
        step = self.side / self.size
        cos, sin = math.cos(math.radians(self.angle)), math.sin(math.radians(self.angle))
        x0, y0 = corners[0]
        a, b = step * cos / factor, -step * sin / factor
        d, e = step * sin / factor, step * cos / factor
        c, f = (x0 - left) / factor, (y0 - top) / factor  # PIL samples at pixel centres itself
        return region.transform((self.size, self.size), PIL.Image.Transform.AFFINE, (a, b, c, d, e, f),
                                resample=PIL.Image.Resampling.BICUBIC, fillcolor=0)
