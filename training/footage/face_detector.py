"""Finding the sitter's face and eyes in a picture: dlib's HOG face detector and its 5-point landmark model.

Chosen because its model ships inside installable packages (the detector is compiled into `dlib-bin`; the
landmark model is the 9 MB `shape_predictor_5_face_landmarks.dat` in `face_recognition_models`), so nothing is
downloaded at run time, and both install next to the torch and numpy this project needs (MediaPipe's wheels
with bundled models pin numpy<2; facenet-pytorch pins torch<2.3; OpenCV's cascades give no landmarks).
An optional extra: `pip install 'likeness[face]'`.

Detection runs on a copy of the picture scaled so its short side is `DETECT_SIDE` pixels; HOG finds faces from
about 80 px, so the face must be at least ~15% of the picture's height. Landmarks are then placed on a crop
around the face at full resolution.
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import PIL.Image

from training.errors import UsageError

DETECT_SIDE = 540
MIN_SCORE = 0.0  # dlib's own decision threshold
FACE_EXTRA_MISSING = ("--fit face needs the face detector, an optional extra: pip install 'likeness[face]' "
                      "(dlib-bin and face_recognition_models)")
LANDMARK_FILE = "shape_predictor_5_face_landmarks.dat"
# The 5-point model's face height (about dlib's box: brows to chin) from eye spacing and eye-to-nose distance,
# calibrated on frontal faces; taking the larger term keeps it steady when the head turns or nods.
HEIGHT_PER_EYE_SPACING = 2.0
EYE_NOSE_TO_EYE_SPACING = 1.35


@dataclass(frozen=True)
class Face:
    """One detected face in picture pixels: the detector's box and score, and the eyes and nose base."""

    box: tuple[float, float, float, float]  # left, top, right, bottom
    score: float
    left_eye: tuple[float, float]  # the eye on the picture's left (the sitter's right eye)
    right_eye: tuple[float, float]
    nose: tuple[float, float]

    @property
    def center(self) -> tuple[float, float]:
        """Mean of the five landmarks: between the eyes and the nose, steadier than the box."""
        return ((self.left_eye[0] * 2 + self.right_eye[0] * 2 + self.nose[0]) / 5,
                (self.left_eye[1] * 2 + self.right_eye[1] * 2 + self.nose[1]) / 5)

    @property
    def eye_angle(self) -> float:
        """Degrees the line from the left to the right eye turns clockwise on screen (0: eyes level)."""
        return math.degrees(math.atan2(self.right_eye[1] - self.left_eye[1], self.right_eye[0] - self.left_eye[0]))

    @property
    def height(self) -> float:
        """Face height in pixels, from the landmarks (dlib's box size moves in 17% steps of its image pyramid)."""
        eye_spacing = math.dist(self.left_eye, self.right_eye)
        eye_mid = ((self.left_eye[0] + self.right_eye[0]) / 2, (self.left_eye[1] + self.right_eye[1]) / 2)
        eye_nose = math.dist(eye_mid, self.nose)
        return HEIGHT_PER_EYE_SPACING * max(eye_spacing, EYE_NOSE_TO_EYE_SPACING * eye_nose)


def _landmark_path() -> Path:
    """The model file inside face_recognition_models, found without importing it (its __init__ needs
    pkg_resources, which current setuptools no longer provides)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise UsageError(FACE_EXTRA_MISSING)
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / LANDMARK_FILE
    if not path.is_file():
        raise UsageError(f"{path} is missing; reinstall the extra: pip install --force-reinstall 'likeness[face]'")
    return path


def detector_description() -> dict:
    """What the provenance records about the detector: names and versions of the packages that hold it."""
    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "unknown"

    return {"name": "dlib HOG frontal face detector + 5-point landmarks", "dlib": version("dlib-bin"),
            "face_recognition_models": version("face_recognition_models"), "landmarks": LANDMARK_FILE,
            "detect_side": DETECT_SIDE}


class FaceDetector:
    """Faces in RGB pictures, largest first. Not thread-safe: one per thread."""

    def __init__(self) -> None:
        try:
            import dlib
        except ImportError:
            raise UsageError(FACE_EXTRA_MISSING) from None
        self._dlib = dlib
        self._detector = dlib.get_frontal_face_detector()
        self._landmarks = dlib.shape_predictor(str(_landmark_path()))

    def detect(self, image: PIL.Image.Image) -> list[Face]:
        width, height = image.size
        scale = min(1.0, DETECT_SIDE / min(width, height))
        small = image
        factor = int(1 / scale + 1e-9)
        if factor >= 2:  # a box-filter reduction by a whole factor first (1080p: exactly 2) is the cheap part
            small = small.reduce(factor)
        target = (max(1, round(width * scale)), max(1, round(height * scale)))
        if small.size != target:
            small = small.resize(target, PIL.Image.Resampling.BILINEAR)
        small = small.convert("RGB")  # after shrinking: converting the full picture costs more than the resize
        rects, scores, _ = self._detector.run(np.asarray(small), 0, MIN_SCORE)
        faces = [self._place(image, rect, score, scale) for rect, score in zip(rects, scores)]
        return sorted(faces, key=lambda f: f.height, reverse=True)

    def _place(self, image: PIL.Image.Image, rect, score: float, scale: float) -> Face:
        """Landmarks at full resolution, on a region twice the detected box (scaled back up) around the face."""
        box = (rect.left() / scale, rect.top() / scale, rect.right() / scale, rect.bottom() / scale)
        side = max(box[2] - box[0], box[3] - box[1])
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        x0, y0 = max(0, int(cx - side)), max(0, int(cy - side))
        x1, y1 = min(image.width, int(cx + side) + 1), min(image.height, int(cy + side) + 1)
        # Landmarks do not need more than ~200 px of face; a 4K face region is reduced first.
        shrink = max(1, int(side // 200))
        region = image.crop((x0, y0, x1, y1)).convert("RGB")
        if shrink > 1:
            region = region.reduce(shrink)
        s = 1.0 / shrink
        local = self._dlib.rectangle(int((box[0] - x0) * s), int((box[1] - y0) * s),
                                     int((box[2] - x0) * s), int((box[3] - y0) * s))
        shape = self._landmarks(np.asarray(region), local)
        pts = [((shape.part(i).x + 0.5) * shrink - 0.5 + x0, (shape.part(i).y + 0.5) * shrink - 0.5 + y0)
               for i in range(5)]
        # Points 0-1 are the corners of the eye on the picture's right, 2-3 the other eye's, 4 the nose base.
        right = ((pts[0][0] + pts[1][0]) / 2, (pts[0][1] + pts[1][1]) / 2)
        left = ((pts[2][0] + pts[3][0]) / 2, (pts[2][1] + pts[3][1]) / 2)
        return Face(box, float(score), left, right, pts[4])
