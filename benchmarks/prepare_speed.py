"""How fast `likeness prepare` turns 1080p footage into a 1024 px dataset.

Builds (or reuses) a 1920x1080 H.264 30 fps source from the synthetic sitter (textured wall, moving subject,
changing light, sensor grain: structured like real footage, neither flat nor noise), runs prepare on it at
10 fps to 1024x1024 PNG and prints source frames decoded per second, output frames per second, the CPU count
and the load on the machine before and after (others may share it).

    PYTHONPATH=. python benchmarks/prepare_speed.py                      # 60 s source, defaults
    PYTHONPATH=. python benchmarks/prepare_speed.py --source /tmp/src.mp4 --png-level 0 --jobs 2
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def build_source(path: Path, seconds: float) -> None:
    from training.footage.demo_clip import write_demo_clip

    started = time.monotonic()
    # grain 3 at crf 16 gives about 14 Mbit/s, the bitrate of 1080p30 phone footage; the decoder's cost grows
    # with the bitrate, so a cleaner (cheaper) source would flatter the figure
    write_demo_clip(path, duration=seconds, width=1920, height=1080, fps=30, seed=1, crf=16, preset="veryfast",
                    grain=3, progress=sys.stderr.isatty())
    print(f"built {path} ({seconds:g} s) in {time.monotonic() - started:.0f} s", flush=True)


def describe_source(path: Path) -> str:
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        seconds = float(s.duration * s.time_base)
        mbit = path.stat().st_size * 8 / seconds / 1e6
        return f"{s.codec_context.name} {s.width}x{s.height} {s.average_rate} fps, {seconds:.0f} s, {mbit:.1f} Mbit/s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the generated source (default 60)")
    parser.add_argument("--source", type=Path, help="reuse this source (it is built here if missing)")
    parser.add_argument("--fps", default="10")
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--png-level", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=0, help="prepare's worker threads (default: one per core)")
    args = parser.parse_args()

    from training.footage.prepare import PrepareOptions, available_cores, prepare

    with tempfile.TemporaryDirectory(prefix="likeness-bench-") as tmp:
        source = args.source or Path(tmp) / "source-1080p30.mp4"
        if not source.exists():
            build_source(source, args.seconds)
        out = Path(tmp) / "dataset.zip"
        load_before = os.getloadavg()
        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        result = prepare(PrepareOptions(inputs=[str(source)], output=str(out), person="benchmark",
                                        consent="synthetic subject", fps=Fraction(args.fps), size=args.size,
                                        png_level=args.png_level, jobs=args.jobs, progress=sys.stderr.isatty()))
        load_after = os.getloadavg()
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
        print(f"source    {describe_source(source)}")
        print(f"machine   {available_cores()} cores available (os.cpu_count {os.cpu_count()}), load average "
              f"{load_before[0]:.2f} before, {load_after[0]:.2f} after")
        print(f"settings  --fps {args.fps} --size {args.size} --png-level {args.png_level} "
              f"--jobs {args.jobs or available_cores()}")
        print(f"result    {result.frames} frames, {result.bytes / 1e6:.0f} MB ({result.bytes / result.frames / 1e6:.2f} "
              f"MB/frame) in {result.elapsed:.1f} s")
        print(f"speed     {result.decoded / result.elapsed:.1f} source frames decoded/s, "
              f"{result.frames / result.elapsed:.2f} output frames/s")
        # CPU time (all threads) is what the run costs whatever else the machine is doing; with N idle cores
        # the wall-clock rate cannot beat N / (CPU seconds per frame)
        print(f"cpu       {cpu:.1f} CPU s, {1000 * cpu / result.frames:.0f} CPU ms per output frame "
              f"(bound with {available_cores()} idle cores: {available_cores() * result.frames / cpu:.1f} frames/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
