"""A checked show: what `likeness check` accepts and the renderer, `show` and `export` consume.

Everything here has passed `installation.show_file.check_show`: people exist and are approved, layouts fit, times
are exact fractions. Sizes are in the show's own pixels (`Show.width` x `Show.height`); a renderer drawing at
another output size scales them by the same factor.

Show time and frames (the rule the renderer and export follow):

- Scenes play one after another; scene i starts at the sum of the durations before it. A transition takes the
  first `Transition.seconds` of the scene it leads into (it adds no time).
- Frame k of a show is drawn at show time k / rate.
- A finite show (`loop: false`) has ceil(length x rate) frames: every frame whose time is before the end.
- A looping show has round(length x rate) frames (halves rounded up, at least 1): its period is a whole number of
  frames, N / rate seconds, so the last scene is at most half a frame longer or shorter than written. Frame N would
  be frame 0 again, so it is not part of the show (a film of one period loops seamlessly).
- A show with a hold scene (`duration: None`, waiting for GO) has no fixed length: `frame_count()` is None.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

RGB = tuple[float, float, float]


@dataclass(frozen=True)
class Grid:
    """Windows in rows x cols, `gap` px between them, `margin` px around, `background` behind them."""

    rows: int
    cols: int
    gap: int
    margin: int
    background: RGB

    @property
    def windows(self) -> int:
        return self.rows * self.cols


@dataclass(frozen=True)
class Filmstrip:
    """`frames` windows in a strip moving `speed` frames/s; neighbouring frames are `step` seconds apart on the walk."""

    frames: int
    orientation: Literal["horizontal", "vertical"]
    speed: float
    step: float
    gap: int
    frame_lines: bool
    sprockets: bool

    @property
    def windows(self) -> int:
        return self.frames


@dataclass(frozen=True)
class Single:
    """One window filling the picture."""

    @property
    def windows(self) -> int:
        return 1


Layout = Grid | Filmstrip | Single


@dataclass(frozen=True)
class Walk:
    """How each window moves through latent space.

    keyframes: through `seeds` (or the rows of `latents`, an .npy of z or w vectors), `seconds` per keyframe,
    interpolated by `interpolation`, back to the first after the last. noise: a smooth loop of period `seconds`
    drawn from `seed`. `speed` multiplies time, `phase` offsets window i by i x phase seconds. `directions`:
    (SeFa direction K, distance along it), sorted by K, moving every window of the scene (OSC values add to them)."""

    mode: Literal["keyframes", "noise"]
    seeds: tuple[int, ...]
    latents: Path | None
    space: Literal["z", "w"]
    interpolation: Literal["slerp", "linear", "cubic"]
    seconds: float
    speed: float
    truncation: float
    phase: float
    seed: int
    directions: tuple[tuple[int, float], ...] = ()


@dataclass(frozen=True)
class Transition:
    """How a scene comes in: a cut, a crossfade from the scene before, or a fade through black; over `seconds`."""

    kind: Literal["cut", "crossfade", "fade"]
    seconds: Fraction


@dataclass(frozen=True)
class Scene:
    """One cue. `people` are cycled over the windows; `windows` pins (window index, person) over that."""

    name: str
    duration: Fraction | None  # None: hold until GO
    layout: Layout
    people: tuple[str, ...]
    windows: tuple[tuple[int, str], ...]
    walk: Walk
    transition: Transition

    @property
    def hold(self) -> bool:
        return self.duration is None

    def person_in_window(self, index: int) -> str:
        """Who window `index` shows: its pinned person, else the people cycled over the windows."""
        pinned = dict(self.windows)
        return pinned.get(index, self.people[index % len(self.people)])


@dataclass(frozen=True)
class Show:
    title: str
    width: int
    height: int
    rate: Fraction
    background: RGB
    registry: Path
    scenes: tuple[Scene, ...]
    loop: bool
    source_text: str  # the show file as written (includes are not inlined), for provenance
    path: Path
    # (path relative to the show file's folder, text) of every file `include:` read: with source_text, the whole show
    included: tuple[tuple[str, str], ...] = ()

    @property
    def length(self) -> Fraction | None:
        """Seconds as written (the sum of the scene durations); None with a hold scene."""
        if any(scene.hold for scene in self.scenes):
            return None
        return sum((scene.duration for scene in self.scenes), Fraction(0))

    def frame_count(self) -> int | None:
        """Frames of the whole show at its rate, by the rule in the module docstring; None with a hold scene."""
        return frame_count(self.length, self.rate, self.loop)

    def scene_starts(self) -> tuple[Fraction, ...] | None:
        """Show time at which each scene starts; None with a hold scene."""
        if self.length is None:
            return None
        starts, t = [], Fraction(0)
        for scene in self.scenes:
            starts.append(t)
            t += scene.duration
        return tuple(starts)

    @property
    def people(self) -> tuple[str, ...]:
        """Everyone who appears, in order of first appearance."""
        seen: dict[str, None] = {}
        for scene in self.scenes:
            for name in (*scene.people, *(p for _, p in scene.windows)):
                seen.setdefault(name)
        return tuple(seen)


def frame_count(length: Fraction | None, rate: Fraction, loop: bool) -> int | None:
    """ceil(length x rate) for a finite show; round(length x rate), halves up, at least 1, for a looping one."""
    if length is None:
        return None
    exact = Fraction(length) * Fraction(rate)
    if loop:
        return max(1, math.floor(exact + Fraction(1, 2)))
    return math.ceil(exact)
