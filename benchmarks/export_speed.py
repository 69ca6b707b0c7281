#!/usr/bin/env python3
"""Export speed, encoding half: frames/s that FilmWriter encodes 1920x1080 frames at 30 fps, H.264 and ProRes.

What an export pays after rendering: the RGB -> BT.709 YUV conversion (swscale), the encoder and the muxer, all
through `installation.film_writer.FilmWriter` exactly as `likeness export` calls it. Frames are synthetic and
moving (a 4x3 grid of smooth, textured cells, each with a drifting light disc: structured like generator output,
neither flat nor noise), made before timing: one second of them, played in a loop (an encoder looks a few frames
back, never a second). Reported per codec: frames/s of wall time from opening the film to closing it, CPU ms per
frame (all threads, from getrusage: independent of other tenants), multiple of real time, file size and bitrate.
One JSON line per codec. The rendering half (a 4x3 grid show through the renderer) is added with the renderer.

    PYTHONPATH=. python benchmarks/export_speed.py                       # 300 frames, h264 and prores
    PYTHONPATH=. python benchmarks/export_speed.py --codecs h264 --preset veryfast
    PYTHONPATH=. python benchmarks/export_speed.py --tiny                # smoke run: 128x72, 10 frames
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import resource
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from json_lines import emit  # noqa: E402 (benchmarks/, the script's own folder, is on the path)

SUFFIX = {"h264": ".mp4", "hevc": ".mp4", "prores": ".mov", "png": ""}


class MovingGrid:
    """Synthetic frames: 4x3 cells of smooth colour with fine texture, a light disc drifting in each."""

    def __init__(self, width: int, height: int, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.width, self.height = width, height
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        cells = (xx * 4 // width + 4 * (yy * 3 // height)).astype(int)
        hues = rng.uniform(0.2, 0.8, (12, 3)).astype(np.float32)
        texture = rng.normal(0, 0.03, (height // 4 + 1, width // 4 + 1, 1)).astype(np.float32)
        texture = texture.repeat(4, 0).repeat(4, 1)[:height, :width]
        self.base = hues[cells] * (0.7 + 0.3 * np.sin(xx / 37.0)[..., None] * np.cos(yy / 23.0)[..., None])
        self.base += texture
        self.xx, self.yy = xx, yy
        self.cell_w, self.cell_h = width / 4, height / 3

    def frame(self, i: int) -> np.ndarray:
        t = i / 30.0
        cx = (self.xx % self.cell_w) / self.cell_w - 0.5 - 0.25 * np.sin(t)
        cy = (self.yy % self.cell_h) / self.cell_h - 0.5 - 0.15 * np.cos(1.3 * t)
        disc = np.exp(-(cx * cx + cy * cy) * 20.0)[..., None]
        rgb = np.roll(self.base, i * 2, axis=1) + 0.5 * disc
        return (rgb.clip(0, 1) * 255).astype(np.uint8)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def encode_speed(codec: str, args: argparse.Namespace, frames: list[np.ndarray], folder: Path) -> dict:
    """Encode args.frames frames (the pool played in a loop) and time all of FilmWriter's work, open to close."""
    from installation.film_writer import FilmWriter

    path = folder / f"bench-{codec}{SUFFIX[codec]}"
    width, height = args.size
    crf = args.crf if codec in ("h264", "hevc") else None
    preset = args.preset if codec in ("h264", "hevc") else None
    t0, c0 = time.perf_counter(), cpu_seconds()
    with FilmWriter(path, width=width, height=height, rate=args.rate, codec=codec, crf=crf, preset=preset,
                    total_frames=args.frames, force=True) as film:
        for i in range(args.frames):
            film.write(frames[i % len(frames)])
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    size = sum(p.stat().st_size for p in path.rglob("*")) if path.is_dir() else path.stat().st_size
    seconds = args.frames / args.rate
    fps = args.frames / wall
    return dict(benchmark="export_speed", half="encode", codec=codec, width=width, height=height,
                rate=str(args.rate), frames=args.frames, crf=crf, preset=preset or ("default" if crf else None),
                wall_s=round(wall, 3), frames_per_s=round(fps, 2), realtime=round(fps / float(args.rate), 2),
                cpu_ms_per_frame=round(1000 * cpu / args.frames, 1), mbytes=round(size / 1e6, 2),
                mbit_per_s=round(size * 8 / float(seconds) / 1e6, 1), tiny=args.tiny)


def main(argv: list[str] | None = None) -> int:
    from training import cli_common as cc

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--codecs", nargs="+", default=["h264", "prores"], choices=sorted(SUFFIX))
    parser.add_argument("--frames", type=cc.positive_int, default=300, help="frames per codec (default 300: 10 s)")
    parser.add_argument("--size", type=cc.size_wh, default=(1920, 1080), metavar="WxH")
    parser.add_argument("--rate", type=cc.rate, default=Fraction(30))
    parser.add_argument("--crf", type=cc.int_between(1, 51), default=18)
    parser.add_argument("--preset", default=None, help="x264/x265 preset (default: the encoder's, medium)")
    parser.add_argument("--tiny", action="store_true", help="128x72, 10 frames: checks the script, not a figure")
    parser.add_argument("--out", type=Path, help="append the JSON lines to this file too")
    args = parser.parse_args(argv)
    if args.tiny:
        args.size, args.frames = (128, 72), 10

    source = MovingGrid(*args.size)
    pool = [source.frame(i) for i in range(min(args.frames, int(round(args.rate))))]
    now = datetime.datetime.now(datetime.timezone.utc)
    command = " ".join(["benchmarks/export_speed.py", *(sys.argv[1:] if argv is None else argv)])
    machine = dict(cpus=len(os.sched_getaffinity(0)), cpu=platform.processor() or platform.machine(),
                   load_before=round(os.getloadavg()[0], 2), date=now.strftime("%Y-%m-%d %H:%M UTC"), command=command)
    with tempfile.TemporaryDirectory(prefix="likeness-bench-") as tmp:
        for codec in args.codecs:
            emit({**encode_speed(codec, args, pool, Path(tmp)), **machine,
                  "load_after": round(os.getloadavg()[0], 2)}, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
