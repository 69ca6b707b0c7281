"""`likeness demo`: the command line over installation/demo.py."""

from __future__ import annotations

import argparse

from training import cli_common as cc

DESCRIPTION = """\
The whole path, small, on three invented sitters (drawn faces that blink, talk, turn and nod under drifting light;
no real person), ending in a film. Each step is printed as the `likeness` command it runs:

  film       12 s of footage per sitter (training/footage/demo_clip.py stands in for the camera)
  prepare    a 1 fps and a 10 fps dataset per sitter; Chiara's 4:3 footage letterboxed, the others cropped
  train      Ada and Bruno: pre-train on 1 fps from the bundled demo model, fine-tune on 10 fps with --init;
             Chiara: a moment from scratch, deliberately under-trained
  evaluate   a quick FID estimate per sitter (64 fakes on the CPU: far higher than a real evaluation reads)
  gate       approve or exclude each sitter by the FID rule (Chiara is excluded, with the reason) -> registry.yaml
  show       check the demo show (a window grid, then a filmstrip) and export it to film.mp4

About four minutes on two CPU cores (benchmarks/RESULTS.md); with a GPU it trains and measures longer in about
the same time. What exists in --out is kept (a second run takes seconds); --force makes everything again.
"""

EPILOG = """\
examples:
  likeness demo                          everything in likeness-demo/
  likeness show likeness-demo/show.yaml  then play the demo show live
  likeness demo --force                  make everything again
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = cc.add_command(subparsers, "demo", run, help="the whole path on three invented sitters, ending in a film",
                       description=DESCRIPTION, epilog=EPILOG)
    cc.add_output_flag(p, default="likeness-demo", metavar="DIR", help="where to write (default: likeness-demo/)")
    p.add_argument("--duration", type=cc.positive_float, default=12.0, metavar="SECONDS",
                   help="seconds of footage per sitter (default: 12)")
    cc.add_device_flag(p)
    cc.add_force_flag(p, help="make every output again, even if it exists")
    cc.add_quiet_flag(p, help="no progress bars")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from installation.demo import DemoSettings, run_demo

    run_demo(DemoSettings(Path(args.out), duration=args.duration, device=args.device, force=args.force,
                          progress=cc.shows_progress(args)))
    return 0
