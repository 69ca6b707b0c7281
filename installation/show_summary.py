"""The few lines `likeness check` prints about a valid show (also useful at the start of `show` and `export`)."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

from installation.show import Filmstrip, Grid, Scene, Show
from training.errors import name_some


def clock(seconds: Fraction | float) -> str:
    """M:SS.sss (H:MM:SS.sss past an hour)."""
    total = float(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{int(hours)}:{int(minutes):02d}:{secs:06.3f}" if hours else f"{int(minutes)}:{secs:06.3f}"


def rate_text(rate: Fraction) -> str:
    """'25 fps', '30000/1001 (29.970) fps'."""
    if rate.denominator == 1:
        return f"{rate.numerator} fps"
    return f"{rate.numerator}/{rate.denominator} ({float(rate):.3f}) fps"


def layout_text(scene: Scene) -> str:
    layout = scene.layout
    if isinstance(layout, Grid):
        return f"grid {layout.rows}x{layout.cols}"
    if isinstance(layout, Filmstrip):
        return f"filmstrip of {layout.frames} ({layout.orientation})"
    return "single"


def near(path: Path) -> str:
    """A path as the person at the terminal would type it: relative when it lies below the working folder."""
    try:
        return Path(os.path.relpath(path)).as_posix() if Path(path).resolve().is_relative_to(Path.cwd()) else str(path)
    except ValueError:  # another drive (Windows)
        return str(path)


def summary_lines(show: Show) -> list[str]:
    rate = rate_text(show.rate)
    lines = [f"{near(show.path)}: ok", f"  {show.title!r}, {show.width}x{show.height}, {rate}"
             f"{', looping' if show.loop else ''}, registry {near(show.registry)}"]
    t: Fraction | None = Fraction(0)
    for i, scene in enumerate(show.scenes):
        if t is None:
            when = "after a hold"
        elif scene.hold:
            when = f"{clock(t)}, holds for GO"
        else:
            when = f"{clock(t)}-{clock(t + scene.duration)}"
        t = None if t is None or scene.hold else t + scene.duration
        into = "" if scene.transition.kind == "cut" else \
            f", {scene.transition.kind} {float(scene.transition.seconds):g} s"
        lines.append(f"  {i + 1:>2}. {scene.name}: {when}, {layout_text(scene)}{into}; {name_some(list(scene.people))}")
    frames = show.frame_count()
    if frames is None:
        lines.append(f"  length: open (waits for GO), {len(show.scenes)} scenes")
    else:
        period = " per loop" if show.loop else ""
        lines.append(f"  length: {clock(show.length)}, {frames} frames at {rate}{period}")
    lines.append(f"  people: {name_some(list(show.people), few=12)}")
    return lines
