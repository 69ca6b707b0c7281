#!/usr/bin/env python3
"""Export speed: frames/s of `likeness export` of a 4x3 grid show at 1920x1080, 30 fps, H.264 and ProRes.

Two measurements (`--mode`, default both), one JSON line per codec each:

  encode  the encoding half alone: FilmWriter encodes synthetic moving 1920x1080 frames (a 4x3 grid of smooth,
          textured cells, each with a drifting light disc: structured like generator output, neither flat nor
          noise), made before timing: one second of them, played in a loop (an encoder looks a few frames back,
          never a second). What an export pays after rendering: RGB -> BT.709 YUV (swscale), encoder, muxer.
  export  the whole export: a show of one 4x3 grid scene of 12 different models (config F, 1024 px, random
          weights, written as real checkpoints with a registry.yaml in a temporary folder) exported by
          `installation.export.export_show`, the function `likeness export` runs (show check, model loading,
          offscreen rendering through show_frame + renderer, FilmWriter, sidecar), timed end to end. Light
          wrappers around `show_frame.render`, `OffscreenOutput.read_rgb` and `FilmWriter.write`/close (nothing
          in installation/ changes) split the time into setup (check, load, open the film: up to the first frame),
          render (draw + read back) and encode (time spent inside the writer; x264/prores_ks threads may work on
          in the background while the next frame renders, so this is the time the export waits on the encoder).

Reported: frames/s of wall time, multiple of real time (frames/s / rate), CPU ms per frame (all threads, from
getrusage: independent of other tenants), file size and bitrate; for exports also the split above.

    PYTHONPATH=. python benchmarks/export_speed.py                       # on a GPU: 300 frames, h264 and prores
    PYTHONPATH=. python benchmarks/export_speed.py --mode encode --codecs h264 --preset veryfast
    PYTHONPATH=. python benchmarks/export_speed.py --tiny                # CPU smoke run (see --tiny)
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
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from json_lines import emit  # noqa: E402 (benchmarks/, the script's own folder, is on the path)

SUFFIX = {"h264": ".mp4", "hevc": ".mp4", "prores": ".mov", "png": ""}
MODELS = 12
# Generator sizes: config F at 1024 px (what render_speed.py draws on a GPU), and render_speed --tiny's 32 px nets.
CONFIG_F = dict(img_resolution=1024, z_dim=512, w_dim=512, mapping_layers=8, channel_base=32768, channel_max=512,
                num_fp16_res=4, conv_clamp=256)
TINY_NET = dict(img_resolution=32, z_dim=32, w_dim=32, mapping_layers=2, channel_base=512, channel_max=32,
                num_fp16_res=0, conv_clamp=256)
SHOW = """\
title: Export benchmark, 4x3 grid of {models} models
size: 1920x1080
rate: {rate}
registry: {registry}
scenes:
  - name: grid
    duration: {seconds}
    layout: {{type: grid, rows: 3, cols: 4, gap: 8, margin: 16}}
    people: all
    walk: {{seeds: [0, 1, 2, 3], seconds: 2, phase: 0.37}}
"""


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


def film_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*")) if path.is_dir() else path.stat().st_size


def encode_speed(codec: str, args: argparse.Namespace, frames: list[np.ndarray], folder: Path) -> dict:
    """Encode args.frames frames (the pool played in a loop) and time all of FilmWriter's work, open to close."""
    from installation.film_writer import FilmWriter

    path = folder / f"bench-{codec}{SUFFIX[codec]}"
    width, height = args.encode_size
    crf = args.crf if codec in ("h264", "hevc") else None
    preset = args.preset if codec in ("h264", "hevc") else None
    t0, c0 = time.perf_counter(), cpu_seconds()
    with FilmWriter(path, width=width, height=height, rate=args.rate, codec=codec, crf=crf, preset=preset,
                    total_frames=args.encode_frames, force=True) as film:
        for i in range(args.encode_frames):
            film.write(frames[i % len(frames)])
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    size = film_bytes(path)
    seconds = args.encode_frames / args.rate
    fps = args.encode_frames / wall
    return dict(benchmark="export_speed", half="encode", codec=codec, width=width, height=height,
                rate=str(args.rate), frames=args.encode_frames, crf=crf,
                preset=preset or ("default" if crf else None), wall_s=round(wall, 3), frames_per_s=round(fps, 2),
                realtime=round(fps / float(args.rate), 2), cpu_ms_per_frame=round(1000 * cpu / args.encode_frames, 1),
                mbytes=round(size / 1e6, 2), mbit_per_s=round(size * 8 / float(seconds) / 1e6, 1), tiny=args.tiny)


# -- the whole export --------------------------------------------------------------------------------------------

def make_models(folder: Path, net: dict, count: int = MODELS) -> Path:
    """`count` random-weight generators (seeds 0..count-1) saved as likeness checkpoints, and a registry.yaml
    approving them all: the only way models reach `likeness export`."""
    import torch

    from evaluation.registry import render_registry
    from training.checkpoint import save_checkpoint
    from training.hashing import file_sha256
    from training.networks import Generator

    folder.mkdir(parents=True, exist_ok=True)
    persons = {}
    for i in range(count):
        torch.manual_seed(i)
        G = Generator(**net).eval().requires_grad_(False)
        path = folder / f"model{i:02d}.pt"
        save_checkpoint(path, {"G_kwargs": dict(G.init_kwargs), "G_ema": G.state_dict()})
        persons[f"model{i:02d}"] = {"status": "approved", "decided": "auto", "reason": "benchmark: random weights",
                                    "snapshot": path.name, "sha256": file_sha256(path, use_cache=False), "fid": 0.0}
        del G
    registry = folder / "registry.yaml"
    registry.write_bytes(render_registry(persons))
    return registry


def write_show(folder: Path, registry: Path, rate: Fraction, frames: int) -> Path:
    """One grid scene of everyone in the registry, at least `frames` / rate long (the export stops at that)."""
    seconds = int(Fraction(frames) / rate) + 1
    show = folder / "show.yaml"
    show.write_text(SHOW.format(models=MODELS, rate=rate, registry=registry.name, seconds=seconds))
    return show


class ExportClock:
    """Where an export's time goes, from wrappers around the functions export_show calls every frame."""

    def __init__(self):
        self.t0 = self.c0 = 0.0
        self.first = self.first_cpu = None  # perf_counter / CPU seconds at the first frame's render
        self.first_frame = 0.0  # seconds of frame 0's render and read-back (warm-up: kernels, allocations)
        self.render = self.encode = 0.0
        self.closed = self.closed_cpu = None
        self.renders = self.reads = self.writes = 0

    @contextmanager
    def timing(self, kind: str) -> Iterator[None]:
        start = time.perf_counter()
        if kind == "render" and self.first is None:
            self.first, self.first_cpu = start, cpu_seconds()
        try:
            yield
        finally:
            spent = time.perf_counter() - start
            if kind == "encode":
                self.encode += spent
            else:
                self.render += spent
                if self.renders + self.reads < 2:
                    self.first_frame += spent


@contextmanager
def clocked_export(clock: ExportClock) -> Iterator[None]:
    """Time render (show_frame.render + read_rgb) and encode (FilmWriter.write + close) inside export_show."""
    from installation import outputs, show_frame
    from installation.film_writer import FilmWriter

    render, read_rgb = show_frame.render, outputs.OffscreenOutput.read_rgb
    write, close = FilmWriter.write, FilmWriter.__exit__

    def timed_render(*a, **k):
        with clock.timing("render"):
            render(*a, **k)
        clock.renders += 1

    def timed_read(self):
        with clock.timing("render"):
            rgb = read_rgb(self)
        clock.reads += 1
        return rgb

    def timed_write(self, rgb):
        with clock.timing("encode"):
            write(self, rgb)
        clock.writes += 1

    def timed_close(self, *exc):
        try:
            with clock.timing("encode"):
                return close(self, *exc)
        finally:
            clock.closed, clock.closed_cpu = time.perf_counter(), cpu_seconds()

    show_frame.render, outputs.OffscreenOutput.read_rgb = timed_render, timed_read
    FilmWriter.write, FilmWriter.__exit__ = timed_write, timed_close
    try:
        yield
    finally:
        show_frame.render, outputs.OffscreenOutput.read_rgb = render, read_rgb
        FilmWriter.write, FilmWriter.__exit__ = write, close


def export_speed(codec: str, args: argparse.Namespace, show: Path, folder: Path) -> dict:
    """Export the grid show with `codec` through export_show, timed end to end and split by the clock."""
    import torch

    from installation.export import ExportOptions, export_show

    frames, rate = args.frames, args.rate
    width, height = args.size
    crf = args.crf if codec in ("h264", "hevc") else None
    path = folder / f"export-{codec}{SUFFIX[codec]}"
    options = ExportOptions(show=show, out=path, size=(width, height), rate=rate, codec=codec, crf=crf,
                            end=Fraction(frames) / rate, force=True, progress=False, device=args.device)
    clock = ExportClock()
    t0, c0 = time.perf_counter(), cpu_seconds()
    with clocked_export(clock):
        export_show(options, say=lambda line: print(line, file=sys.stderr))
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    if not (clock.renders == clock.reads == clock.writes == frames) or clock.first is None:
        raise RuntimeError(f"export_show made {clock.renders} renders, {clock.reads} read-backs and {clock.writes} "
                           f"writes for {frames} frames: it no longer calls show_frame.render / read_rgb / "
                           "FilmWriter.write once a frame; update clocked_export")
    loop = clock.closed - clock.first
    size = film_bytes(path)
    fps = frames / wall
    device = torch.device(args.device)
    return dict(benchmark="export_speed", half="whole", codec=codec, width=width, height=height, rate=str(rate),
                frames=frames, crf=crf, preset="default" if crf else None, models=MODELS,
                resolution=args.net["img_resolution"], layout="grid 4x3", wall_s=round(wall, 3),
                frames_per_s=round(fps, 2), realtime=round(fps / float(rate), 2),
                setup_s=round(clock.first - t0, 3), loop_s=round(loop, 3),
                loop_frames_per_s=round(frames / loop, 2), loop_realtime=round(frames / loop / float(rate), 2),
                render_s=round(clock.render, 3), render_ms_per_frame=round(1000 * clock.render / frames, 2),
                first_frame_ms=round(1000 * clock.first_frame, 1),
                encode_s=round(clock.encode, 3), encode_ms_per_frame=round(1000 * clock.encode / frames, 2),
                cpu_ms_per_frame=round(1000 * (clock.closed_cpu - clock.first_cpu) / frames, 1),
                cpu_s_all=round(cpu, 2), mbytes=round(size / 1e6, 2),
                mbit_per_s=round(size * 8 / float(Fraction(frames) / rate) / 1e6, 1), film=str(path),
                device=str(device), torch=torch.__version__, threads=torch.get_num_threads(),
                gpu=torch.cuda.get_device_name(device) if device.type == "cuda" else None, tiny=args.tiny)


def main(argv: list[str] | None = None) -> int:
    from training import cli_common as cc

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("encode", "export", "both"), default="both",
                        help="encode: FilmWriter on synthetic frames; export: the whole `likeness export` of the "
                        "grid show; both (default)")
    parser.add_argument("--codecs", nargs="+", default=["h264", "prores"], choices=sorted(SUFFIX))
    parser.add_argument("--frames", type=cc.positive_int, default=300, help="frames per codec (default 300: 10 s)")
    parser.add_argument("--size", type=cc.size_wh, default=(1920, 1080), metavar="WxH")
    parser.add_argument("--rate", type=cc.rate, default=Fraction(30))
    parser.add_argument("--crf", type=cc.int_between(1, 51), default=18)
    parser.add_argument("--preset", default=None, help="x264/x265 preset, encode mode only (default: the "
                        "encoder's, medium; `likeness export` has no preset flag)")
    parser.add_argument("--device", default="auto", help="export mode's render device (default: cuda if there)")
    parser.add_argument("--threads", type=cc.positive_int, help="torch CPU threads (default: torch's; 1 with "
                        "--tiny on a CPU, where thread hand-offs cost more than 32 px convolutions save)")
    parser.add_argument("--films", type=Path, help="keep the exported films (and their sidecars) in this folder "
                        "(default: a temporary folder, removed)")
    parser.add_argument("--tiny", action="store_true", help="smoke run that checks the script, not a figure: "
                        "encode 128x72, 10 frames; export 320x180, 10 frames, 32 px nets")
    parser.add_argument("--out", type=Path, help="append the JSON lines to this file too")
    args = parser.parse_args(argv)
    args.encode_size, args.encode_frames = args.size, args.frames
    args.net = CONFIG_F
    if args.tiny:
        args.encode_size, args.encode_frames = (128, 72), 10
        args.size, args.frames, args.net = (320, 180), 10, TINY_NET
    if args.device == "auto":
        args.device = "cpu"
        if args.mode != "encode":
            import torch

            args.device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.threads is None and args.tiny and args.mode != "encode" and args.device == "cpu":
        args.threads = 1  # on the shared 2-core VM, 2 threads spin against other tenants: frames 10x slower
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)

    now = datetime.datetime.now(datetime.timezone.utc)
    command = " ".join(["benchmarks/export_speed.py", *(sys.argv[1:] if argv is None else argv)])
    machine = dict(cpus=len(os.sched_getaffinity(0)), cpu=platform.processor() or platform.machine(),
                   load_before=round(os.getloadavg()[0], 2), date=now.strftime("%Y-%m-%d %H:%M UTC"), command=command)
    with tempfile.TemporaryDirectory(prefix="likeness-bench-") as tmp:
        if args.mode in ("encode", "both"):
            source = MovingGrid(*args.encode_size)
            pool = [source.frame(i) for i in range(min(args.encode_frames, int(round(args.rate))))]
            for codec in args.codecs:
                emit({**encode_speed(codec, args, pool, Path(tmp)), **machine,
                      "load_after": round(os.getloadavg()[0], 2)}, args.out)
            del pool
        if args.mode in ("export", "both"):
            registry = make_models(Path(tmp) / "models", args.net)
            show = write_show(Path(tmp) / "models", registry, args.rate, args.frames)
            films = args.films or Path(tmp)
            films.mkdir(parents=True, exist_ok=True)
            for codec in args.codecs:
                emit({**export_speed(codec, args, show, films), **machine,
                      "load_after": round(os.getloadavg()[0], 2)}, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
