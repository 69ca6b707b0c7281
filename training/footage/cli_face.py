"""The `--fit face` flags of `likeness prepare` (kept apart from cli_prepare.py; see docs/face-framing.md)."""

from __future__ import annotations

import argparse

from training.footage.face_options import FaceOptions

_DEFAULTS = FaceOptions()


def add_face_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("face framing (--fit face)")
    g.add_argument("--face-scale", type=float, default=_DEFAULTS.scale, metavar="K",
                   help=f"side of the crop in face heights (brows to chin); {_DEFAULTS.scale:g} keeps hair and "
                        "shoulders in (default: %(default)s)")
    g.add_argument("--align", choices=("eyes",),
                   help="eyes: turn each crop so the eyes are level (default: crops stay upright)")
    g.add_argument("--face-smooth", type=float, default=_DEFAULTS.smooth, metavar="SECONDS",
                   help="width (sigma) of the filter that steadies the crop over time, in seconds of footage; "
                        "0 follows every detection as it is (default: %(default)s)")
    g.add_argument("--max-face-fraction", type=float, metavar="F",
                   help="flag frames whose face covers more than F of the picture (e.g. 0.4); off by default")
    g.add_argument("--drop-faceless", action="store_true",
                   help="leave out frames with no face, several faces, or a face above --max-face-fraction "
                        "(default: keep them with the last good crop; either way they are listed)")
    g.add_argument("--preview", type=int, default=0, metavar="N",
                   help="only write OUT.preview.png: N evenly spaced frames with their crops drawn, to check the "
                        "framing before the full run")


def face_options_from_args(args) -> FaceOptions | None:
    """FaceOptions for --fit face; also when a face flag is given without it, so that prepare can refuse it."""
    options = FaceOptions(scale=args.face_scale, align=args.align, smooth=args.face_smooth,
                          max_face_fraction=args.max_face_fraction, drop_faceless=args.drop_faceless)
    if args.fit == "face" or options != _DEFAULTS or args.preview:
        return options
    return None
