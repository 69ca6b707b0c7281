"""`likeness demo`: the command line over installation/demo.py."""

from __future__ import annotations

import argparse

DESCRIPTION = """\
Run the first step of the pipeline on a bundled default: render a synthetic sitter clip (a drawn, face-like
subject that blinks, talks, turns and drifts under changing light; H.264, 640x360, 30 fps), prepare the two
datasets an artist makes from a session (1 fps to pre-train, 10 fps to add detail) and print `likeness dataset
info` for both. Files that already exist in --outdir are kept (and said so) unless --force is given.
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("demo", help="the pipeline's first step on a synthetic sitter (no footage needed)",
                              description=DESCRIPTION)
    p.add_argument("--outdir", default="likeness-demo", help="where to write (default: likeness-demo/)")
    p.add_argument("--size", default="256", metavar="N",
                   help="side of the dataset frames, a power of two (default: 256)")
    p.add_argument("--duration", type=float, default=30.0, metavar="SECONDS",
                   help="length of the synthetic clip (default: 30)")
    p.add_argument("--seed", type=int, default=0, help="which synthetic sitter (default: 0)")
    p.add_argument("--force", action="store_true", help="make every output again, even if it exists")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from installation.demo import DemoSettings, run_demo
    from training.errors import UsageError
    from training.footage.framing import check_size

    try:
        size = int(args.size)
        check_size(size)
    except ValueError as err:
        raise UsageError(f"--size {args.size}: {err}" if str(args.size).isdigit() else
                         f"--size {args.size!r} is not a whole number; use e.g. 256") from None
    run_demo(DemoSettings(Path(args.outdir), size=size, duration=args.duration, seed=args.seed, force=args.force,
                          progress=not args.quiet))
    return 0
