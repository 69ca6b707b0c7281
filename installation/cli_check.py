"""`likeness check SHOW.yaml`: the command line over installation/show_check.py."""

from __future__ import annotations

import argparse

from training import cli_common as cc

DESCRIPTION = """\
Check a show file without a GPU: unknown keys (with a did-you-mean), wrong types, values out of range, rates that
are not exact, people missing from the registry or not approved by the gate, layouts whose windows would be too
small, includes that are missing or loop. Every problem is listed at once, each as FILE:LINE:COLUMN. A valid show
prints a short summary: title, size, rate, scenes with their times, the length and frame count, the people.
`likeness show` and `likeness export` run the same check first. --storyboard sheet.png draws a few moments
of every scene offscreen, labelled with scene name and show time. The format: shows/README.md.
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = cc.add_command(subparsers, "check", run, help="check a show file (and say what it plays)",
                       description=DESCRIPTION)
    p.add_argument("show", metavar="SHOW", help="the show file (.yaml)")
    p.add_argument("--registry", metavar="REGISTRY",
                   help="check against this registry.yaml instead of the one the show names")
    p.add_argument("--storyboard", metavar="PNG", help="also draw a contact sheet of a few moments of every scene, "
                   "labelled with scene and show time (offscreen; needs the models)")
    p.add_argument("--per-scene", type=cc.int_between(1, 12), default=3, metavar="N",
                   help="moments per scene on the storyboard (default: 3)")
    cc.add_force_flag(p, help="replace the storyboard if it exists")


def run(args: argparse.Namespace) -> int:
    from installation.show_check import check_show
    from installation.show_summary import summary_lines

    show = check_show(args.show, registry=args.registry)
    print("\n".join(summary_lines(show)))
    if args.storyboard:
        from pathlib import Path

        from installation.show_log import setup_logging
        from installation.storyboard import write_storyboard

        setup_logging()
        sheet = write_storyboard(show, Path(args.storyboard), per_scene=args.per_scene, force=args.force)
        print(f"wrote {sheet}: {args.per_scene} moments of each scene")
    return 0
