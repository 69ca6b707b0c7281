"""The window flags shared by `likeness show` and `likeness preview`: --monitor, --fullscreen, --no-vsync.

Only the parser and `window_options(args)`, the keyword arguments `outputs.WindowOutput` takes from them.
"""

from __future__ import annotations

import argparse

from training import cli_common as cc


def add_window_flags(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument("--monitor", type=cc.non_negative_int, metavar="N", help="which monitor (default: the first)")
    parser.add_argument("--fullscreen", action="store_true",
                        help="fill the monitor (cursor hidden; a monitor of another size shows the frame scaled to "
                             "fit)")
    parser.add_argument("--no-vsync", action="store_true",
                        help="present frames as soon as they are drawn, not at the monitor's refresh (tearing; for "
                             "measuring how fast frames can be drawn)")


def window_options(args: argparse.Namespace) -> dict:
    return {"monitor": args.monitor, "fullscreen": args.fullscreen, "vsync": not args.no_vsync}
