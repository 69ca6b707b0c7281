"""Where windows go on the output: grids (a building's windows), filmstrips (frames scrolling through a gate), single.

Pure geometry in output pixels, origin top left, y down. Every window holds a square portrait letterboxed inside it
(never stretched). A filmstrip's slots are frames of film: frame n shows the walk at `n * step` seconds and keeps
that picture while it travels across the screen, as a frame of real film does; `speed` frames pass per second.
Lengths (gap, margin) are given in the show's pixels and scaled by the caller to the output size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

LAYOUTS = ("grid", "filmstrip", "single")
MIN_WINDOW = 8  # px: below this a portrait is not a portrait any more

Rect = tuple[float, float, float, float]  # x, y, width, height
RGBA = tuple[float, float, float, float]


@dataclass(frozen=True)
class GridLayout:
    rows: int = 2
    cols: int = 2
    gap: float = 8.0
    margin: float = 16.0


@dataclass(frozen=True)
class FilmstripLayout:
    frames: int = 5
    orientation: str = "horizontal"
    speed: float = 0.25  # frames through the gate per second
    step: float = 1.0  # seconds of walk between neighbouring frames
    gap: float = 12.0
    frame_lines: bool = True
    sprockets: bool = True


@dataclass(frozen=True)
class SingleLayout:
    margin: float = 0.0


Layout = GridLayout | FilmstripLayout | SingleLayout


@dataclass(frozen=True)
class Slot:
    """One window on screen: `index` picks the person and the phase (grid cell, or the film frame's number);
    `moment` is added to the walk time (a film frame's fixed moment; 0 for grids)."""

    index: int
    image: Rect
    moment: float = 0.0
    fixed: bool = False  # True: the slot shows `moment` alone, not the walk clock (film frames)


@dataclass(frozen=True)
class Arrangement:
    slots: tuple[Slot, ...]
    solids: tuple[tuple[Rect, RGBA], ...] = ()  # film base, sprocket holes: drawn under the images


FILM_BASE: RGBA = (0.06, 0.05, 0.04, 1.0)
SPROCKET: RGBA = (0.85, 0.84, 0.80, 1.0)


def letterbox(x: float, y: float, w: float, h: float) -> Rect:
    """The largest centred square inside a window."""
    side = min(w, h)
    return (x + (w - side) / 2, y + (h - side) / 2, side, side)


def scaled(layout: Layout, factor: float) -> Layout:
    """The same layout for an output `factor` times the show's size (lengths scale, counts do not)."""
    if isinstance(layout, GridLayout):
        return GridLayout(layout.rows, layout.cols, layout.gap * factor, layout.margin * factor)
    if isinstance(layout, FilmstripLayout):
        return FilmstripLayout(layout.frames, layout.orientation, layout.speed, layout.step, layout.gap * factor,
                               layout.frame_lines, layout.sprockets)
    return SingleLayout(layout.margin * factor)


def arrange(layout: Layout, width: int, height: int, t: float = 0.0) -> Arrangement:
    """The windows of a layout on a width x height output at show time t (only filmstrips move with t)."""
    if isinstance(layout, GridLayout):
        return grid(layout, width, height)
    if isinstance(layout, FilmstripLayout):
        return filmstrip(layout, width, height, t)
    side = min(width, height) - 2 * layout.margin
    _check_side(side, "the single window")
    return Arrangement((Slot(0, letterbox(layout.margin, layout.margin, width - 2 * layout.margin,
                                          height - 2 * layout.margin)),))


def grid(layout: GridLayout, width: int, height: int) -> Arrangement:
    cell_w = (width - 2 * layout.margin - (layout.cols - 1) * layout.gap) / layout.cols
    cell_h = (height - 2 * layout.margin - (layout.rows - 1) * layout.gap) / layout.rows
    _check_side(min(cell_w, cell_h), f"a {layout.rows}x{layout.cols} grid's windows on {width}x{height}")
    slots = []
    for r in range(layout.rows):
        for c in range(layout.cols):
            x = layout.margin + c * (cell_w + layout.gap)
            y = layout.margin + r * (cell_h + layout.gap)
            slots.append(Slot(r * layout.cols + c, letterbox(x, y, cell_w, cell_h)))
    return Arrangement(tuple(slots))


def filmstrip(layout: FilmstripLayout, width: int, height: int, t: float) -> Arrangement:
    """Frames along the strip, scrolled by speed * t frames; the strip is transposed for vertical orientation."""
    vertical = layout.orientation == "vertical"
    along, across = (height, width) if vertical else (width, height)
    band = 0.14 if layout.sprockets else (0.04 if layout.frame_lines else 0.0)
    side = min(along / layout.frames - layout.gap, across / (1 + 2 * band))
    _check_side(side, f"a filmstrip of {layout.frames} frames on {width}x{height}")
    pitch = side + layout.gap
    strip = side * (1 + 2 * band)
    strip0 = (across - strip) / 2
    scroll = layout.speed * t
    first = math.floor(scroll)
    shift = (scroll - first) * pitch
    count = math.ceil(along / pitch) + 1
    solids: list[tuple[Rect, RGBA]] = []
    if layout.frame_lines or layout.sprockets:
        solids.append((_orient(0, strip0, along, strip, vertical), FILM_BASE))
    slots = []
    for k in range(count):
        n = first + k
        start = k * pitch - shift + layout.gap / 2
        slots.append(Slot(n, _orient(start, strip0 + side * band, side, side, vertical), moment=n * layout.step,
                          fixed=True))
        if layout.sprockets:
            solids.extend(_sprockets(start - layout.gap / 2, pitch, strip0, side * band, side, vertical))
    return Arrangement(tuple(slots), tuple(solids))


def _sprockets(start: float, pitch: float, strip0: float, band: float, side: float, vertical: bool
               ) -> list[tuple[Rect, RGBA]]:
    """Four holes per frame pitch in each edge band of the film, moving with it."""
    holes = []
    hole_along, hole_across = pitch / 8, band * 0.5
    for i in range(4):
        a = start + (i + 0.5) * pitch / 4 - hole_along / 2
        for edge in (strip0 + band * 0.25, strip0 + band + side + band * 0.25):
            holes.append((_orient(a, edge, hole_along, hole_across, vertical), SPROCKET))
    return holes


def _orient(a: float, b: float, len_a: float, len_b: float, vertical: bool) -> Rect:
    """A rect given along/across the strip, as x, y, w, h on screen."""
    return (b, a, len_b, len_a) if vertical else (a, b, len_a, len_b)


def _check_side(side: float, what: str) -> None:
    if not side >= MIN_WINDOW:
        raise ValueError(f"{what} would be {max(side, 0):.0f} px; each window needs at least {MIN_WINDOW} px: "
                         "fewer windows, a smaller gap or margin, or a larger output")


def level_of_detail(side_px: float, img_resolution: int) -> int:
    """The smallest synthesis level (power of two) at least as large as the window, at most the model's."""
    level = 4
    while level < side_px and level < img_resolution:
        level *= 2
    return min(level, img_resolution)
