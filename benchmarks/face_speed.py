"""How fast, and how closely, `likeness prepare --fit face` frames 1080p footage of a real face.

Builds (or reuses) a 1920x1080 H.264 30 fps source from scikit-image's public-domain astronaut portrait,
moved, scaled and turned with known motion (tests/face_footage.py), with sensor grain so the encoder and
decoder work as on real footage. Runs prepare at 10 fps to 1024x1024 PNG with --fit face --align eyes, then the
same with the plain centred crop, and prints output frames/s of both, the detector's own time per frame, and
how far the crops are from the true face position, size and eye angle.

    PYTHONPATH=. python benchmarks/face_speed.py                        # 20 s source
    PYTHONPATH=. python benchmarks/face_speed.py --source /tmp/face1080.mp4 --seconds 60
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import tempfile
import time
import zipfile
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.face_footage import Pose, astronaut, render  # noqa: E402 - after the path is set

WIDTH, HEIGHT, RATE = 1920, 1080, 30


def pose_at(t: float, seconds: float) -> Pose:
    """The sitter sways side to side, leans in and out and tilts the head; the face stays in the picture."""
    u = t / seconds
    return Pose((960 + 260 * math.sin(2 * math.pi * u), 930 + 60 * math.sin(4 * math.pi * u)),
                2.3 + 0.3 * math.sin(2 * math.pi * u + 1), 10 * math.sin(6 * math.pi * u))


def build_source(path: Path, seconds: float) -> None:
    import av

    photo = astronaut()
    rng = np.random.default_rng(1)
    started = time.monotonic()
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=RATE, options={"crf": "18", "preset": "veryfast"})
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        for i in range(round(seconds * RATE)):
            picture = render(photo, pose_at(i / RATE, seconds), (WIDTH, HEIGHT)).astype(np.int16)
            picture += rng.integers(-4, 5, picture.shape[:2], dtype=np.int16)[..., None]
            frame = av.VideoFrame.from_ndarray(np.clip(picture, 0, 255).astype(np.uint8), format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    print(f"built {path} ({seconds:g} s) in {time.monotonic() - started:.0f} s", flush=True)


def truth(seconds: float, times: list[float]) -> np.ndarray:
    """The photograph's face (as the detector sees it in the untouched photo at 2x) in each output frame."""
    import PIL.Image

    from training.footage.face_detector import FaceDetector

    photo = astronaut()
    face = FaceDetector().detect(photo.resize((1024, 1024), PIL.Image.Resampling.LANCZOS))[0]
    center = ((face.center[0] + 0.5) / 2 - 0.5, (face.center[1] + 0.5) / 2 - 0.5)
    rows = []
    for t in times:
        pose = pose_at(t, seconds)
        x, y = pose.place(center, photo.size)
        rows.append([x, y, 2.5 * face.height / 2 * pose.scale, face.eye_angle + pose.angle])
    return np.array(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the generated source (default 20)")
    parser.add_argument("--source", type=Path, help="reuse this source (it is built here if missing)")
    parser.add_argument("--fps", default="10")
    parser.add_argument("--size", type=int, default=1024)
    args = parser.parse_args()

    from training.footage.face_framing import BOXES_NAME, FaceOptions
    from training.footage.prepare import PrepareOptions, available_cores, prepare

    with tempfile.TemporaryDirectory(prefix="likeness-face-bench-") as tmp:
        source = args.source or Path(tmp) / "face-1080p30.mp4"
        if not source.exists():
            build_source(source, args.seconds)
        results, cpu = {}, {}
        load_before = os.getloadavg()
        for fit in ("face", "crop"):
            out = Path(tmp) / f"{fit}.zip"
            before = resource.getrusage(resource.RUSAGE_SELF)
            results[fit] = prepare(PrepareOptions(
                inputs=[str(source)], output=str(out), person="benchmark", consent="public-domain photograph",
                fps=Fraction(args.fps), size=args.size, fit=fit, progress=sys.stderr.isatty(),
                face=FaceOptions(align="eyes") if fit == "face" else None))
            after = resource.getrusage(resource.RUSAGE_SELF)
            cpu[fit] = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        load_after = os.getloadavg()
        face = results["face"]
        with zipfile.ZipFile(Path(tmp) / "face.zip") as z:
            boxes = np.array(json.loads(z.read(BOXES_NAME))["frames"])
        times = [pos for _, pos in face.provenance["frames"]]
        seconds = float(face.sources[0].duration)
        error = np.abs(boxes - truth(seconds, times))
        detect_ms = time_detector(source)
        print(f"source    {WIDTH}x{HEIGHT} H.264 {RATE} fps, {seconds:.0f} s; face about "
              f"{np.median(boxes[:, 2]) / 2.5:.0f} px high")
        print(f"machine   {available_cores()} cores available, load average {load_before[0]:.2f} before, "
              f"{load_after[0]:.2f} after")
        print(f"settings  --fps {args.fps} --size {args.size} --fit face --align eyes (defaults otherwise)")
        for fit, result in results.items():
            print(f"{fit:9} {result.frames} frames in {result.elapsed:.1f} s: {result.frames / result.elapsed:.2f} "
                  f"output frames/s, {1000 * cpu[fit] / result.frames:.0f} CPU ms per output frame (bound with "
                  f"{available_cores()} idle cores: {available_cores() * result.frames / cpu[fit]:.1f} frames/s)")
        print(f"detector  {detect_ms:.0f} ms per 1080p frame (detection at {540} px short side + landmarks, one core)")
        rules = face.provenance["framing"]["rules"]
        print(f"found     a single face in {face.frames - sum(rules.values())} of {face.frames} frames; rules: {rules}")
        print(f"accuracy  crop centre {error[:, :2].max():.1f} px max ({np.sqrt((error[:, :2] ** 2).sum(1)).mean():.2f} "
              f"mean distance), side {100 * (error[:, 2] / boxes[:, 2]).max():.1f}% max, eye angle "
              f"{error[:, 3].max():.2f} deg max")
    return 0


def time_detector(source: Path, count: int = 30) -> float:
    """Milliseconds per frame for detection and landmarks alone, on decoded 1080p pictures."""
    import av

    from training.footage.face_detector import FaceDetector

    detector = FaceDetector()
    with av.open(str(source)) as container:
        pictures = [f.to_image() for _, f in zip(range(count), container.decode(video=0))]
    started = time.perf_counter()
    for picture in pictures:
        detector.detect(picture)
    return 1000 * (time.perf_counter() - started) / len(pictures)


if __name__ == "__main__":
    raise SystemExit(main())
