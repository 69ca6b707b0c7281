"""Test footage of a real face with known motion: scikit-image's public-domain astronaut portrait (Eileen
Collins, NASA) moved, scaled and turned over a grey background, so the true position of every point of the
photograph is known in every frame."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import PIL.Image

from tests.footage import cfr_video

WIDTH, HEIGHT = 640, 480


def astronaut() -> PIL.Image.Image:
    from skimage import data

    return PIL.Image.fromarray(data.astronaut())


@dataclass(frozen=True)
class Pose:
    """Where the photograph is in a frame: its centre at `at`, scaled by `scale`, turned `angle` degrees clockwise."""

    at: tuple[float, float]
    scale: float
    angle: float

    def place(self, point: tuple[float, float], photo_size: tuple[int, int]) -> tuple[float, float]:
        """A point of the photograph (pixels) to the frame."""
        cos, sin = math.cos(math.radians(self.angle)), math.sin(math.radians(self.angle))
        dx, dy = point[0] - photo_size[0] / 2, point[1] - photo_size[1] / 2
        return (self.at[0] + self.scale * (dx * cos - dy * sin), self.at[1] + self.scale * (dx * sin + dy * cos))


def render(photo: PIL.Image.Image, pose: Pose, size: tuple[int, int] = (WIDTH, HEIGHT)) -> np.ndarray:
    """The frame: each frame pixel looks up the photograph point that `pose` puts there (bicubic)."""
    cos, sin = math.cos(math.radians(pose.angle)), math.sin(math.radians(pose.angle))
    s = pose.scale
    # inverse of place(): p = c + R(-angle) (q - at) / s
    a, b = cos / s, sin / s
    d, e = -sin / s, cos / s
    c = photo.width / 2 - a * pose.at[0] - b * pose.at[1]
    f = photo.height / 2 - d * pose.at[0] - e * pose.at[1]
    out = photo.transform(size, PIL.Image.Transform.AFFINE, (a, b, c, d, e, f),
                          resample=PIL.Image.Resampling.BICUBIC, fillcolor=(128, 128, 128))
    return np.asarray(out)


def drifting_poses(count: int) -> list[Pose]:
    """A sitter who drifts right and down, leans in and tilts the head, smoothly."""
    poses = []
    for i in range(count):
        u = i / max(1, count - 1)
        poses.append(Pose((300 + 80 * u, 410 - 30 * math.sin(math.pi * u)), 1.25 + 0.15 * u, -8 + 16 * u))
    return poses


def face_video(path: Path, poses: list[Pose | None], rate: Fraction = Fraction(12)) -> Path:
    """One frame per pose; None gives an empty grey frame (no face)."""
    photo = astronaut()
    blank = np.full((HEIGHT, WIDTH, 3), 128, np.uint8)

    def picture(i: int) -> np.ndarray:
        return blank if poses[i] is None else render(photo, poses[i])

    return cfr_video(path, len(poses), rate, width=WIDTH, height=HEIGHT, picture=picture)
