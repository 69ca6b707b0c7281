"""`likeness training-film RUN -o film.mp4 --rate 6`: the command line over installation/training_film.py."""

from __future__ import annotations

import argparse

from training import cli_common as cc

DESCRIPTION = """\
Make a film of a model learning: the run's fakes grids (the same seeds at every snapshot), one frame each, in the
order training wrote them (fakes_init.png first, then log.jsonl's order), each labelled with its kimg in a bar
under the grid. The last grid is held for --hold-last seconds. Frames are scaled to fit --size (even sides, the
aspect kept); without it a grid larger than 1920x1080 is scaled down into it, a smaller one kept as it is.

Codecs: h264 (.mp4/.mov/.mkv, for sharing), hevc (same containers, smaller), prores (ProRes 422 HQ in .mov, for
editing), png (a folder of frame-NNNNNN.png). Video is BT.709, limited range. The film is written under a
temporary name and renamed when complete; a sidecar FILM.json (film.mp4 -> film.mp4.json) records the run, its
dataset (sha256, consent note), the grids and the render settings. See docs/export.md.
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = cc.add_command(subparsers, "training-film", run, help="a training run's fakes grids as a film, labelled "
                       "with kimg", description=DESCRIPTION)
    p.add_argument("run", metavar="RUN", help="the run folder (runs/<person>/<NNNNN>-...)")
    cc.add_output_flag(p, required=True, metavar="FILM", old_names=(),
                       help="film to write: film.mp4, film.mov, film.mkv, or a folder for --codec png")
    p.add_argument("--rate", type=cc.rate, default="6", metavar="FPS",
                   help="grids per second: a number or a ratio such as 30000/1001 (default: 6)")
    p.add_argument("--codec", choices=("h264", "hevc", "prores", "png"), default="h264",
                   help="h264 (default), hevc, prores or png")
    p.add_argument("--crf", type=cc.int_between(1, 51), metavar="N",
                   help="quality for h264 and hevc: lower is better and larger (default: 18)")
    p.add_argument("--size", type=cc.size_wh, metavar="WxH",
                   help="fit the frames into WIDTHxHEIGHT, e.g. 1920x1080 (default: the grid's own size, scaled down "
                   "into 1920x1080 if larger)")
    p.add_argument("--hold-last", type=cc.float_between(0, 3600), default=2.0, metavar="SECONDS",
                   help="how long the last grid stays on screen after its own frame (default: 2)")
    cc.add_force_flag(p, help="replace FILM (and its sidecar) if they exist")
    cc.add_quiet_flag(p)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from installation.training_film import TrainingFilmOptions, describe, make_training_film

    out = make_training_film(TrainingFilmOptions(
        run=Path(args.run), out=Path(args.out), rate=args.rate, codec=args.codec, crf=args.crf, size=args.size,
        hold_last=args.hold_last, force=args.force, progress=cc.shows_progress(args)))
    print(describe(out))
    return 0
