"""What `likeness prepare` tells the artist when it is done: one summary line, then anything unusual."""

from __future__ import annotations

from fractions import Fraction

from training.footage.prepare import FrameNote, PrepareOptions, PrepareResult
from training.footage.timecode import describe_rate, format_clock
from training.footage.video_source import DEPENDENT


def human_bytes(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def where(note: FrameNote, result: PrepareResult) -> str:
    """'clip2.mp4 07:30.000' or 'stills/img0042.png'."""
    name = result.sources[note.source].path.name
    if isinstance(note.position, Fraction):
        return f"{name} {format_clock(note.position)}"
    return f"{name} {note.position}"


def summary_line(result: PrepareResult, options: PrepareOptions) -> str:
    sources = result.sources
    n = len(sources)
    what = f"{n} source{'s' if n != 1 else ''}"
    if sources[0].video is not None:
        total = sum((s.duration for s in sources), Fraction(0))
        if options.start is None and options.end is None:
            what += f" ({format_clock(total)})"
        else:
            start = options.start or Fraction(0)
            end = min(options.end, total) if options.end is not None else total
            what += f" ({format_clock(start)} to {format_clock(end)} of {format_clock(total)})"
        rate = f" at {describe_rate(options.fps)} fps"
    else:
        what += f" ({len(sources[0].images)} images)"
        rate = ""
    speed = result.frames / result.elapsed if result.elapsed > 0 else 0.0
    return (f"wrote {result.output}: {result.frames} frames {options.size}x{options.size} {options.fit}{rate} "
            f"from {what} in {result.elapsed:.1f} s ({speed:.1f} frames/s), {human_bytes(result.bytes)}")


def _list(notes: list[FrameNote], result: PrepareResult, limit: int = 20) -> str:
    shown = ", ".join(where(n, result) for n in notes[:limit])
    return shown + (f", ... ({len(notes) - limit} more)" if len(notes) > limit else "")


def report_lines(result: PrepareResult, options: PrepareOptions) -> list[str]:
    lines = [summary_line(result, options)]
    for src in result.sources:
        if src.missing:
            lines.append(f"  {src.path.name} is cut short: its frames end at {format_clock(src.seen_until)} but the "
                         f"container claims {format_clock(src.duration)} ({float(src.missing):.3f} s without frames; "
                         "recorded in dataset.json; --strict refuses such footage)")
    if result.repeats:
        lines.append(f"  {result.repeats} output frames repeat the dataset frame before them (--fps above the "
                     "footage's rate, or gaps: variable-rate footage, skipped frames)")
    if result.skipped:
        broken = [n for n in result.skipped if n.reason != DEPENDENT]
        dependent = len(result.skipped) - len(broken)
        lines.append(f"  skipped {len(result.skipped)} frames (--skip-bad-frames): {len(broken)} undecodable at "
                     f"{_list(broken, result)}"
                     + (f"; and {dependent} predicted from them, up to the next keyframe" if dependent else ""))
    if result.dropped:
        lines.append(f"  dropped {len(result.dropped)} frames blurrier than --drop-blur {options.drop_blur:g}: "
                     + ", ".join(f"{where(n, result)} ({n.value:.1f})" for n in result.dropped[:20])
                     + (f", ... ({len(result.dropped) - 20} more)" if len(result.dropped) > 20 else ""))
    if result.blurriest:
        lines.append(f"  the {len(result.blurriest)} blurriest frames (variance of the Laplacian, lower is "
                     "blurrier; nothing removed):")
        for note in result.blurriest:
            lines.append(f"    frame {note.index:>6}  {note.value:10.1f}  {where(note, result)}")
    if options.fit == "face":
        from training.footage.face_prepare import face_report_lines

        lines += face_report_lines(result, where)
    return lines
