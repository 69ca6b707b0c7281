"""`likeness export show.yaml -o FILM`: the show as a film, offscreen and deterministic."""

from __future__ import annotations

import argparse

from training import cli_common as cc

DESCRIPTION = """\
Render a show offscreen into a film: frame k is the show at show time k / rate, exactly as the live show draws
that moment, at any size. --replay PERFORMANCE.jsonl (written by `likeness show` under performances/) renders a
recorded live performance again, with every control at the show time it happened. The show is checked first
(as `likeness check`). The film is written under a temporary name and renamed when complete; FILM.json beside it
(film.mp4 -> film.mp4.json) holds the show text and the text of every file it includes, the snapshots with their
sha256, FID and consent notes, and the render settings; the film's comment tag names the same snapshots as JSON.
Codecs: h264 (High, yuv420p, --crf; for sharing), hevc (smaller), prores (422 HQ, 10-bit, in
.mov; for editing and gallery players), png (a folder of frames); all BT.709, limited range for video.
"""

EPILOG = """\
examples:
  likeness export shows/grid.yaml -o grid.mp4
  likeness export shows/grid.yaml -o grid-4k.mov --size 3840x2160 --codec prores
  likeness export shows/grid.yaml -o take1.mp4 --replay performances/20261202T201500Z.jsonl
  likeness export shows/filmstrip.yaml -o frames --codec png --from 10 --to 20"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = cc.add_command(subparsers, "export", run, help="render a show into a film (H.264, HEVC, ProRes, PNG)",
                       description=DESCRIPTION, epilog=EPILOG)
    p.add_argument("show", metavar="SHOW", help="the show file (.yaml)")
    cc.add_output_flag(p, required=True, metavar="FILM", old_names=(),
                       help="the film: .mp4/.mov/.mkv (h264, hevc), .mov (prores), a new folder (png)")
    p.add_argument("--size", type=cc.size_wh, metavar="WxH", help="output size (default: the show's)")
    p.add_argument("--rate", type=cc.rate, metavar="FPS", help="frame rate, exactly: 25, 24000/1001 ... "
                   "(default: the show's)")
    p.add_argument("--codec", choices=("h264", "hevc", "prores", "png"), default="h264", help="default: h264")
    p.add_argument("--crf", type=cc.int_between(1, 51), metavar="N", help="h264/hevc quality, lower is better "
                   "(default: 18)")
    p.add_argument("--from", dest="start", type=cc.non_negative_float, default=0.0, metavar="SECONDS",
                   help="first show time to export (default: 0)")
    p.add_argument("--to", dest="end", type=cc.positive_float, metavar="SECONDS",
                   help="show time to stop before (default: the show's end; needed for shows that hold for GO)")
    p.add_argument("--replay", metavar="PERFORMANCE", help="a performance log to play the controls from")
    p.add_argument("--registry", metavar="REGISTRY", help="another registry than the show names")
    p.add_argument("--allow-unapproved", action="store_true", help="also draw excluded or changed models")
    cc.add_device_flag(p)
    cc.add_force_flag(p, help="replace FILM and its sidecar if they exist")
    cc.add_quiet_flag(p)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from installation.export import ExportOptions, export_show
    from training.errors import UsageError

    if args.end is not None and args.end <= args.start:
        raise UsageError(f"--to {args.end:g} must be after --from {args.start:g}")
    export_show(ExportOptions(Path(args.show), Path(args.out), size=args.size, rate=args.rate, codec=args.codec,
                              crf=args.crf, start=args.start, end=args.end,
                              replay=Path(args.replay) if args.replay else None,
                              registry=Path(args.registry) if args.registry else None, force=args.force,
                              progress=cc.shows_progress(args), device=str(cc.resolve_device(args.device)),
                              allow_unapproved=args.allow_unapproved))
    return 0
