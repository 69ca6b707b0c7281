"""`likeness prepare`: the command line over training/footage/prepare.py."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from training import cli_common as cc
from training.errors import UsageError
from training.footage.cli_face import add_face_arguments, face_options_from_args

DESCRIPTION = """\
Turn footage of one sitter into a training dataset: a zip of square PNG frames in the layout of NVIDIA's
dataset_tool.py (it trains in their code too), with a `likeness` provenance block in dataset.json: the person,
the consent note, every source's sha256, duration, frame rate and size, and where each frame came from.

Frames are sampled at an exact rate: output frame k is the first decoded frame whose time from the start is at
least k/FPS minus half a source frame (right for 29.97 fps and for variable-frame-rate phone footage). Nothing
is mirrored, augmented or dropped unless you ask (--drop-blur). Several videos are joined end to end into one
timeline; --start/--end apply to that timeline. Rotation flags of phone videos (and EXIF orientation of images)
are honoured.
"""

EPILOG = """\
examples:
  likeness prepare sitter.mp4 --person "Ada" --consent "signed release 2026-11-02" --fps 1 -o ada-1fps.zip
  likeness prepare part1.mov part2.mov --person Ada --consent-file consent.txt --fps 10 --size 512 \\
      --fit letterbox --start 0:30 --end 25:00 -o ada-10fps.zip
  likeness prepare stills/ --person Ada --consent "none recorded" --size 256 -o ada-stills.zip
  likeness prepare sitter.mp4 --person Ada --consent-file consent.txt --fps 10 --fit face --align eyes \\
      -o ada-face.zip          (pip install 'likeness[face]'; add --preview 16 to check the crops first)

exit status: 0 done; 2 bad command line, missing input or output in the way; 1 unusable footage (not a video,
no video stream, no frames, undecodable frame, images of different sizes, empty folder).
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = cc.add_command(subparsers, "prepare", run, help="footage of one sitter -> dataset zip (1 fps, 10 fps, ...)",
                       description=DESCRIPTION, epilog=EPILOG)
    p.add_argument("sources", nargs="+", metavar="SOURCE",
                   help="video files (anything FFmpeg decodes: mp4, mov, mkv, webm; H.264, HEVC, ProRes...), "
                        "joined in the order given; or one folder of images (natural order, one image per frame)")
    cc.add_output_flag(p, required=True, metavar="ZIP", old_names=(),
                       help="the dataset to write, a name ending in .zip (written whole or not at all)")
    p.add_argument("--person", required=True, metavar="NAME", help="who the footage shows (stored in the dataset)")
    consent = p.add_mutually_exclusive_group()
    consent.add_argument("--consent", metavar="TEXT",
                         help="the consent note stored with the dataset (required: who agreed to what, when; "
                              "'none recorded' is accepted if that is the truth)")
    consent.add_argument("--consent-file", metavar="FILE", help="read the consent note from a UTF-8 text file")
    p.add_argument("--fps", type=cc.rate, metavar="R",
                   help="frames per second of footage to keep (required for videos): 1 to pre-train, 10 or 12 to "
                        "add detail; any rate above zero: 0.5, 29.97, 30000/1001")
    p.add_argument("--size", type=cc.power_of_two(4, 2048), default="1024", metavar="N",
                   help="side of the square output frames, a power of two from 4 to 2048 (default: 1024)")
    p.add_argument("--fit", default="crop", choices=("crop", "letterbox", "face"),
                   help="crop: the largest centred square (see --crop-center); letterbox: the whole picture "
                        "scaled to fit, padded with black bars; face: a square that follows the sitter's face "
                        "(needs pip install 'likeness[face]'; see --face-scale) (default: crop)")
    p.add_argument("--crop-center", type=cc.from_parser(_center, "e.g. 0.5,0.4"), default="0.5,0.5",
                   metavar="X,Y", help="centre of the crop as fractions of the displayed picture's width and "
                   "height, 0,0 = top left (default: 0.5,0.5); the square is kept inside the picture")
    add_face_arguments(p)
    p.add_argument("--start", type=cc.from_parser(_time, "e.g. 90 or 1:30"), metavar="TIME",
                   help="begin this far into the (joined) footage: seconds (90, 4.5) or [HH:]MM:SS[.fff]")
    p.add_argument("--end", type=cc.from_parser(_time, "e.g. 600 or 10:00"), metavar="TIME",
                   help="stop before this time of the (joined) footage, same forms")
    p.add_argument("--png-level", type=cc.int_between(0, 9), default="1", metavar="L",
                   help="PNG zlib level 0-9 (default: 1: fast, and on footage a quarter to a half of the size of "
                        "0; NVIDIA's dataset_tool writes 0, uncompressed, which makes 30 minutes at 10 fps and "
                        "1024 px about 57 GB); higher levels save little more and cost much more time")
    p.add_argument("--report-blur", nargs="?", const=10, default=0, type=cc.non_negative_int, metavar="N",
                   help="measure sharpness (variance of the Laplacian of each output frame) and list the N "
                        "blurriest frames (default N: 10); nothing is removed")
    p.add_argument("--drop-blur", type=cc.non_negative_float, metavar="THRESHOLD",
                   help="leave out frames whose variance of the Laplacian is below THRESHOLD (they are listed "
                        "in the summary and in the dataset's provenance); off by default")
    p.add_argument("--skip-bad-frames", action="store_true",
                   help="go on past frames that fail to decode and list their times (default: stop with an "
                        "error naming the file and time)")
    p.add_argument("--strict", action="store_true",
                   help="refuse footage whose frames end more than a frame before the duration its container "
                        "claims (a file cut short in copying); by default the summary and the dataset say so")
    p.add_argument("--jobs", type=cc.positive_int, metavar="N",
                   help="threads that resize and encode frames (default: one per available core)")
    cc.add_force_flag(p, help="replace the output zip if it exists")
    cc.add_quiet_flag(p)


def _center(text: str) -> tuple[float, float]:
    from training.footage.framing import parse_center  # imported when used: framing loads PIL

    return parse_center(text)


def _time(text: str):
    from training.footage.timecode import parse_time

    return parse_time(text)


def _read_consent(args) -> str:
    if args.consent_file is None:
        return args.consent or ""
    path = Path(args.consent_file)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"--consent-file {path} does not exist; check the path") from None
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"--consent-file {path} cannot be read as UTF-8 text ({err})") from None


def options_from_args(args: argparse.Namespace):
    """The parsed command line as the library's PrepareOptions (values are already checked by their `type=`)."""
    from training.footage.prepare import PrepareOptions

    return PrepareOptions(
        inputs=list(args.sources),
        output=args.out,
        person=args.person,
        consent=_read_consent(args).strip(),
        fps=args.fps,
        size=args.size,
        fit=args.fit,
        crop_center=args.crop_center,
        start=args.start,
        end=args.end,
        png_level=args.png_level,
        report_blur=args.report_blur,
        drop_blur=args.drop_blur,
        skip_bad_frames=args.skip_bad_frames,
        strict=args.strict,
        force=args.force,
        jobs=args.jobs or 0,
        progress=cc.shows_progress(args),
        face=face_options_from_args(args),
    )


def run(args) -> int:
    from training.footage.prepare import prepare
    from training.footage.prepare_report import report_lines

    options = options_from_args(args)
    if args.preview:
        from training.footage.face_prepare import write_preview

        sheet, shown = write_preview(options, args.preview)
        print(f"wrote {sheet}: {shown} frames with their crops; no dataset written (leave out --preview)")
        return 0
    result = prepare(options, warn=lambda message: print(f"likeness prepare: warning: {message}",
                                                         file=sys.stderr, flush=True))
    for line in report_lines(result, options):
        print(line)
    return 0
