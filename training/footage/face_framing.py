"""`--fit face`: every wanted frame gets a square crop centred on the sitter's face, moving smoothly.

Sits between choosing frames and rendering them: each frame is turned into its displayed picture, searched for
faces, and held until the smoothed path (training/footage/face_path.py) can say where its crop goes. Frames
with no face, several faces, or a face above --max-face-fraction are reported; they keep the last good crop
(the centred square before any face was seen) or, with --drop-faceless, are left out.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import PIL.Image

from training.footage.face_crop import SquareCrop
from training.footage.face_detector import Face, FaceDetector
from training.footage.face_options import FaceOptions
from training.footage.face_path import PathSmoother

NO_FACE, SEVERAL, TOO_LARGE = "no face", "several faces", "face too large"
RULES = (NO_FACE, SEVERAL, TOO_LARGE)
BOXES_NAME = "likeness/face_boxes.json"  # side file inside the dataset zip: one crop per output frame
SECOND_FACE_SCORE = 0.3  # dlib's score (0: its decision threshold) a second face needs to count
MAX_HELD = 48  # frames held for the look-ahead at most (memory: 48 decoded pictures, ~400 MB at 1080p)


@dataclass
class Flagged:
    """A frame a rule touched: where it is (as prepare's FrameNote places frames) and which rule."""

    source: int
    position: object
    rule: str


@dataclass
class _Held:
    job: object
    picture: PIL.Image.Image
    time: float
    rule: str | None


def rule_for(faces: list[Face], picture_size: tuple[int, int], max_fraction: float | None) -> str | None:
    """Which rule, if any, keeps this frame's faces from being followed (`faces` largest first).

    A second face counts when it is at least half as tall as the largest and the detector is fairly sure of it:
    HOG's weak hits on patterned clothes, and people far behind the sitter, are not "several faces".
    """
    if not faces:
        return NO_FACE
    if any(f.score >= SECOND_FACE_SCORE and f.height >= 0.5 * faces[0].height for f in faces[1:]):
        return SEVERAL
    if max_fraction is not None and faces[0].height ** 2 > max_fraction * picture_size[0] * picture_size[1]:
        return TOO_LARGE
    return None


def keep_inside(crop: SquareCrop, width: int, height: int) -> SquareCrop:
    """Shrink the crop to the picture and move it back inside where it sticks out (black only if it cannot)."""
    cos, sin = abs(math.cos(math.radians(crop.angle))), abs(math.sin(math.radians(crop.angle)))
    side = min(crop.side, min(width, height) / (cos + sin))
    half = side * (cos + sin) / 2  # half the extent of the turned square's bounding box
    cx = min(max(crop.center[0], half), width - half)
    cy = min(max(crop.center[1], half), height - half)
    return SquareCrop(crop.size, (cx, cy), side, crop.angle)


@dataclass
class FaceFramer:
    """Turns prepare's jobs into face-framed jobs; keeps what the report and provenance need."""

    options: FaceOptions
    size: int
    picture: Callable[[object], PIL.Image.Image]  # job -> its displayed picture
    timeline: Callable[[object], float | None]  # job -> seconds on the joined timeline (None: stills)
    detector: FaceDetector = field(default_factory=FaceDetector)
    flagged: list[Flagged] = field(default_factory=list)
    detections: int = 0

    def __post_init__(self) -> None:
        self._held: deque[_Held] = deque()
        self._last: SquareCrop | None = None

    def frame(self, jobs: Iterator) -> Iterator:
        """The jobs with their payload replaced by the displayed picture and their plan by its SquareCrop."""
        smoother = None
        for index, job in enumerate(jobs):
            picture = self.picture(job)
            job.payload = None
            when = self.timeline(job)
            if smoother is None:  # stills are unrelated pictures: no temporal filter
                smoother = PathSmoother(self.options.smooth if when is not None else 0.0)
            t = float(index) if when is None else when
            faces = self.detector.detect(picture)
            self.detections += 1
            rule = rule_for(faces, picture.size, self.options.max_face_fraction)
            if rule is None:
                face = faces[0]
                smoother.add(t, (face.center[0], face.center[1], face.height, face.eye_angle))
            self._held.append(_Held(job, picture, t, rule))
            while self._held and (smoother.ready(self._held[0].time, t) or len(self._held) > MAX_HELD):
                yield from self._emit(self._held.popleft(), smoother)
        while self._held:
            yield from self._emit(self._held.popleft(), smoother)

    def _emit(self, held: _Held, smoother: PathSmoother) -> Iterator:
        job, picture = held.job, held.picture
        if held.rule is not None:
            self.flagged.append(Flagged(job.source, job.position, held.rule))
            if self.options.drop_faceless:
                return
            crop = self._last or self._centred(picture)
        else:
            cx, cy, height, angle = smoother.value(held.time)
            crop = SquareCrop(self.size, (cx, cy), self.options.scale * height,
                              angle if self.options.align == "eyes" else 0.0)
            crop = keep_inside(crop, *picture.size)
            self._last = crop
        job.payload, job.plan = picture, crop
        yield job

    def _centred(self, picture: PIL.Image.Image) -> SquareCrop:
        width, height = picture.size
        return SquareCrop(self.size, (width / 2, height / 2), float(min(width, height)))

    def counts(self) -> dict[str, int]:
        """Frames each rule touched."""
        found = Counter(f.rule for f in self.flagged)
        return {rule: found.get(rule, 0) for rule in RULES}
