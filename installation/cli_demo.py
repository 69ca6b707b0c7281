"""`likeness demo`: the command line over installation/demo.py."""

from __future__ import annotations

import argparse

from training import cli_common as cc

DESCRIPTION = """\
Run the first step of the pipeline on a bundled default: render a synthetic sitter clip (a drawn, face-like
subject that blinks, talks, turns and drifts under changing light; H.264, 640x360, 30 fps), prepare the two
datasets an artist makes from a session (1 fps to pre-train, 10 fps to add detail) and print `likeness dataset
info` for both. Files that already exist in --out are kept (and said so) unless --force is given.
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = cc.add_command(subparsers, "demo", run, help="the pipeline's first step on a synthetic sitter (no footage "
                       "needed)", description=DESCRIPTION)
    cc.add_output_flag(p, default="likeness-demo", metavar="DIR", help="where to write (default: likeness-demo/)")
    p.add_argument("--size", type=cc.power_of_two(4, 2048), default="256", metavar="N",
                   help="side of the dataset frames, a power of two (default: 256)")
    p.add_argument("--duration", type=cc.positive_float, default=30.0, metavar="SECONDS",
                   help="length of the synthetic clip (default: 30)")
    p.add_argument("--seed", type=cc.SEED, default=0, metavar="N", help="which synthetic sitter (default: 0)")
    cc.add_force_flag(p, help="make every output again, even if it exists")
    cc.add_quiet_flag(p, help="no progress bars")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from installation.demo import DemoSettings, run_demo

    run_demo(DemoSettings(Path(args.out), size=args.size, duration=args.duration, seed=args.seed, force=args.force,
                          progress=cc.shows_progress(args)))
    return 0
