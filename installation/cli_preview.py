"""`likeness preview registry.yaml`: every approved sitter in a grid, live or as a contact sheet."""

from __future__ import annotations

import argparse

from training import cli_common as cc

DESCRIPTION = """\
Show every approved sitter of a registry at once, each window walking through the model's latent space (seeds
drawn as `likeness generate` draws them, so seed 3 is the same face). Only models the gate approved are drawn,
each checked against the sha256 it was approved with; an excluded or changed model is left out and said so,
unless --allow-unapproved (then it is drawn with a warning on screen).

Live, in a window: show time follows the clock (a slow frame is dropped, never slowed down); q or Esc quits,
space pauses, s toggles the stats overlay. Offscreen (--offscreen): -o sheet.png writes a contact sheet of
--frames moments spread over one loop of the walk; --soak N draws N frames and reports memory at the start and
the end (it should not grow).
"""

EPILOG = """\
examples:
  likeness preview registry.yaml
  likeness preview registry.yaml --offscreen --frames 8 -o sheet.png
  likeness preview registry.yaml --layout filmstrip --seconds 2 --interpolation cubic --stats
  likeness preview registry.yaml --offscreen --soak 3000 --size 1920x1080"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from installation.cli_window_flags import add_window_flags
    from installation.layouts import LAYOUTS
    from installation.walk_kinds import INTERPOLATIONS

    p = cc.add_command(subparsers, "preview", run, help="every approved sitter in a grid, walking its latent space",
                       description=DESCRIPTION, epilog=EPILOG)
    p.add_argument("registry", metavar="REGISTRY", help="registry.yaml written by `likeness gate`")
    g = p.add_argument_group("what to show")
    g.add_argument("--layout", choices=LAYOUTS, default="grid", help="grid (default), filmstrip or single")
    g.add_argument("--rows", type=cc.positive_int, metavar="N", help="grid rows (default: fit the sitters)")
    g.add_argument("--cols", type=cc.positive_int, metavar="N", help="grid columns (default: fit the sitters)")
    g.add_argument("--strip-frames", type=cc.positive_int, default=5, metavar="N",
                   help="frames across a filmstrip (default: 5)")
    g.add_argument("--seeds", type=_seeds, default=(0, 1, 2, 3), metavar="LIST",
                   help="the walk's keyframes, e.g. 0-3,7 (default: 0-3)")
    g.add_argument("--seconds", type=cc.positive_float, default=3.0, metavar="S",
                   help="seconds per keyframe (default: 3)")
    g.add_argument("--interpolation", choices=INTERPOLATIONS, default="slerp",
                   help="slerp in Z (default), linear or cubic (Catmull-Rom) in W")
    g.add_argument("--trunc", type=cc.float_between(0.0, 2.0), default=1.0, metavar="PSI",
                   help="truncation toward the average face: 1 = none (default: 1)")
    g.add_argument("--person", action="append", metavar="NAME", help="show only these sitters (repeatable)")
    g.add_argument("--allow-unapproved", action="store_true",
                   help="also draw excluded or changed models, with a warning on screen")
    g = p.add_argument_group("where")
    g.add_argument("--size", type=cc.size_wh, default=(1280, 720), metavar="WxH", help="output size (default: "
                   "1280x720)")
    g.add_argument("--offscreen", action="store_true", help="no window: render through EGL (headless machines)")
    g.add_argument("--frames", type=cc.positive_int, default=8, metavar="N",
                   help="moments on the contact sheet (default: 8)")
    cc.add_output_flag(g, metavar="PNG", help="with --offscreen: write a contact sheet here", old_names=())
    cc.add_force_flag(g, help="replace the contact sheet if it exists")
    g.add_argument("--soak", type=cc.non_negative_int, default=0, metavar="N",
                   help="draw N frames and report memory at the start and the end")
    add_window_flags(g)
    g.add_argument("--stats", action="store_true", help="overlay fps, p50/p99 frame time, images/s, memory, "
                   "dropped frames")
    cc.add_device_flag(g)


def _seeds(text: str) -> tuple[int, ...]:
    from training.cli_generate import parse_seeds

    seeds = parse_seeds(text)
    if len(seeds) > 1000:
        raise argparse.ArgumentTypeError("more than 1000 keyframes; a walk needs a few")
    return tuple(seeds)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from installation.cli_window_flags import window_options
    from installation.preview import PreviewOptions, run_preview
    from training.atomic import check_output_free
    from training.errors import UsageError

    if args.out is not None:
        if not args.offscreen:
            raise UsageError("-o/--out writes a contact sheet, which is made offscreen: add --offscreen")
        check_output_free(Path(args.out), args.force)
    if args.offscreen and args.out is None and not args.soak:
        raise UsageError("--offscreen draws nothing to look at by itself: give -o sheet.png or --soak N")
    options = PreviewOptions(Path(args.registry), layout=args.layout, rows=args.rows, cols=args.cols,
                             strip_frames=args.strip_frames, seeds=args.seeds, seconds=args.seconds,
                             interpolation=args.interpolation, truncation=args.trunc, size=args.size,
                             offscreen=args.offscreen, frames=args.frames,
                             out=Path(args.out) if args.out else None, force=args.force, stats=args.stats,
                             soak=args.soak, allow_unapproved=args.allow_unapproved,
                             device=str(cc.resolve_device(args.device)), people=args.person,
                             **window_options(args))
    run_preview(options)
    return 0
