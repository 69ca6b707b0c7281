"""Candidate face detectors on the face benchmark's 1080p footage: found faces, eye accuracy, time per frame.

Each detector gives the two eye centres per frame; the truth is where the known motion puts the eyes that the
same detector finds in the untouched photograph (enlarged 2x), so detectors with different landmark
definitions are judged alike. Detectors that are not installed are skipped: MediaPipe 0.10.21 (the last
release whose wheel holds its models) needs numpy<2, so it runs from its own environment:

    PYTHONPATH=. python benchmarks/face_detectors.py --source /tmp/face1080.mp4            # dlib
    python -m venv /tmp/mp && /tmp/mp/bin/pip install mediapipe==0.10.21 scikit-image av
    PYTHONPATH=. /tmp/mp/bin/python benchmarks/face_detectors.py --source /tmp/face1080.mp4  # mediapipe

The source is the one benchmarks/face_speed.py builds (same --seconds).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import PIL.Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.face_speed import RATE, pose_at  # noqa: E402
from tests.face_footage import astronaut  # noqa: E402


def dlib_eyes():
    from training.footage.face_detector import FaceDetector

    detector = FaceDetector()

    def eyes(picture: PIL.Image.Image):
        faces = detector.detect(picture)
        return (faces[0].left_eye, faces[0].right_eye) if faces else None

    return eyes


def mediapipe_eyes(model: int):
    import mediapipe as mp

    detector = mp.solutions.face_detection.FaceDetection(model_selection=model, min_detection_confidence=0.5)

    def eyes(picture: PIL.Image.Image):
        found = detector.process(np.asarray(picture.convert("RGB"))).detections
        if not found:
            return None
        k = found[0].location_data.relative_keypoints  # 0: the sitter's right eye (picture left), 1: left eye
        w, h = picture.size
        return (k[0].x * w, k[0].y * h), (k[1].x * w, k[1].y * h)

    return eyes


CANDIDATES = {"dlib HOG + 5-point landmarks": dlib_eyes,
              "MediaPipe 0.10.21 BlazeFace short range": lambda: mediapipe_eyes(0),
              "MediaPipe 0.10.21 BlazeFace full range": lambda: mediapipe_eyes(1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--every", type=int, default=3, help="use every Nth source frame (default 3: 10 fps)")
    args = parser.parse_args()
    import av

    with av.open(str(args.source)) as container:
        frames = [(i, f.to_image()) for i, f in enumerate(container.decode(video=0)) if i % args.every == 0]
    photo = astronaut()
    big = photo.resize((1024, 1024), PIL.Image.Resampling.LANCZOS)
    for name, make in CANDIDATES.items():
        try:
            eyes = make()
        except Exception as err:  # noqa: BLE001 - ImportError, or likeness's message that the extra is missing
            print(f"{name}: not installed here ({err})")
            continue
        ref = eyes(big)
        ref_mid = (((ref[0][0] + ref[1][0]) / 2 + 0.5) / 2 - 0.5, ((ref[0][1] + ref[1][1]) / 2 + 0.5) / 2 - 0.5)
        ref_angle = math.degrees(math.atan2(ref[1][1] - ref[0][1], ref[1][0] - ref[0][0]))
        errors, angles, found = [], [], 0
        started = time.perf_counter()
        results = [(i, eyes(picture)) for i, picture in frames]
        ms = 1000 * (time.perf_counter() - started) / len(frames)
        for i, result in results:
            if result is None:
                continue
            found += 1
            pose = pose_at(i / RATE, args.seconds)
            tx, ty = pose.place(ref_mid, photo.size)
            (lx, ly), (rx, ry) = result
            errors.append(math.hypot((lx + rx) / 2 - tx, (ly + ry) / 2 - ty))
            angles.append(abs(math.degrees(math.atan2(ry - ly, rx - lx)) - ref_angle - pose.angle))
        print(f"{name}: face in {found}/{len(frames)} frames; eye midpoint error {np.mean(errors):.1f} px mean, "
              f"{np.max(errors):.1f} max; eye angle error {np.mean(angles):.2f} deg mean, {np.max(angles):.2f} max; "
              f"{ms:.0f} ms per 1080p frame")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
