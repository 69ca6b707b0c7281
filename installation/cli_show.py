"""`likeness show show.yaml`: play a show live, in a window or offscreen, steered by keys and OSC."""

from __future__ import annotations

import argparse

from training import cli_common as cc

DESCRIPTION = """\
Play a show live. The show file is checked first (as `likeness check`). Keys: space pauses, left/right arrows go to
the previous/next scene, g is GO (leaves a hold scene), s toggles the stats overlay, f toggles fullscreen, q or Esc
quits (so do Ctrl-C and SIGTERM; the last line printed is the command that films the performance). OSC controls
arrive on 127.0.0.1:9000 by default (the address space: shows/README.md); every control applied, from keys or OSC,
is logged with its show time in performances/<UTC time>.jsonl, so `likeness export SHOW --replay LOG` renders the
same performance again, at any size. Frames are drawn at the show's rate, as the clock reaches them, and are the
export's frames: a slow frame is dropped, never slowed down, and an early one waits (no spinning without vsync).
--watch takes over edits of the show file at the next scene boundary.
"""

EPILOG = """\
examples:
  likeness show shows/grid.yaml
  likeness show shows/grid.yaml --monitor 1 --fullscreen
  likeness show shows/grid.yaml --osc 0.0.0.0:9000 --osc-allow 192.168.1.0/24
  likeness show shows/grid.yaml --offscreen --frames 300 --clock frames     # headless rehearsal
  likeness show shows/grid.yaml --watch              # edit the file while it plays: it switches between scenes
  likeness osc /likeness/scene/next                                           # from another terminal"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from installation.cli_osc_flags import add_osc_flags
    from installation.cli_window_flags import add_window_flags

    p = cc.add_command(subparsers, "show", run, help="play a show live (window or offscreen), steered by keys and "
                       "OSC", description=DESCRIPTION, epilog=EPILOG)
    p.add_argument("show", metavar="SHOW", help="the show file (.yaml)")
    p.add_argument("--registry", metavar="REGISTRY", help="another registry than the show names")
    p.add_argument("--size", type=cc.size_wh, metavar="WxH", help="output size (default: the show's)")
    add_window_flags(p)
    p.add_argument("--stats", action="store_true", help="overlay fps, frame times, busy share, images/s, memory, "
                   "dropped frames")
    p.add_argument("--offscreen", action="store_true", help="no window: draw through EGL (headless; needs --frames)")
    p.add_argument("--frames", type=cc.positive_int, metavar="N", help="stop after N frames")
    p.add_argument("--clock", choices=("wall", "frames"), default="wall",
                   help="wall: frames at the show's rate as the clock reaches them, late ones dropped (default); "
                   "frames: exactly one frame per frame drawn, none dropped")
    p.add_argument("--save-frames", metavar="DIR", help="also write each frame as DIR/NNNNNN.png (NNNNNN: its frame "
                   "number at the show's rate), to compare with an export")
    p.add_argument("--watch", action="store_true", help="re-check the show file and its includes when they change: "
                   "an edit that passes takes over at the next scene boundary, one that fails is logged "
                   "(FILE:LINE:COLUMN) and the show plays on")
    p.add_argument("--allow-unapproved", action="store_true", help="also draw excluded or changed models, with a "
                   "warning on screen")
    cc.add_device_flag(p)
    g = p.add_argument_group("OSC")
    add_osc_flags(g)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from installation.cli_osc_flags import settings_from
    from installation.cli_window_flags import window_options
    from installation.live_show import LiveOptions, run_show
    from training.errors import UsageError

    if args.offscreen and args.frames is None:
        raise UsageError("--offscreen has no window to close: give --frames N")
    run_show(LiveOptions(Path(args.show), registry=Path(args.registry) if args.registry else None,
                         offscreen=args.offscreen, frames=args.frames, clock=args.clock,
                         save_frames=Path(args.save_frames) if args.save_frames else None, size=args.size,
                         stats=args.stats,
                         device=str(cc.resolve_device(args.device)), allow_unapproved=args.allow_unapproved,
                         watch=args.watch, **window_options(args)),
             settings_from(args))
    return 0
