"""The fixed OSC address space under /likeness/: one table that checks, documents and publishes every control.

Each `Address` row gives the arguments (type, range, optional), whether a trailing glide time is accepted, and the
help text. `check_message` validates what arrives against it (types, counts, ranges that depend on the running
show via `ControlLimits`); `osc_publish.py` turns the same table into the `## OSC address space` section of
shows/README.md and into OSCQuery JSON. Nothing received names a file or text to evaluate: arguments are numbers,
0/1 flags, scene names and registry person names, each checked against the show.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from installation.control import PREFIX, ControlLimits

MAX_GLIDE_SECONDS = 600.0
MAX_FADE_SECONDS = 600.0
MAX_SPEED = 16.0
MAX_TRUNCATION = 2.0
MAX_DIRECTION = 20.0
MAX_RESEED = 2 ** 31 - 1

Bound = float | Callable[[ControlLimits], float]


class Refused(ValueError):
    """A message the show ignores; `kind` groups refusals for the rate-limited log."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message if len(message) <= 200 else message[:197] + "...")
        self.kind = kind


@dataclass(frozen=True)
class Param:
    """One argument: kind is int, float, flag (0/1), scene (index or name), person (a registry name) or str."""

    name: str
    kind: str
    lo: Bound | None = None
    hi: Bound | None = None
    range_doc: str = ""
    optional: bool = False

    def bounds(self, limits: ControlLimits | None) -> tuple[float | None, float | None]:
        def resolve(bound: Bound | None) -> float | None:
            if callable(bound):
                return bound(limits) if limits is not None else None
            return bound

        return resolve(self.lo), resolve(self.hi)


@dataclass(frozen=True)
class Address:
    """One control: its path under /likeness/, arguments, whether a glide time may follow, and what it does."""

    path: str
    params: tuple[Param, ...]
    help: str
    glide: bool = False
    replies: bool = False

    @property
    def full(self) -> str:
        return PREFIX + self.path

    def all_params(self) -> tuple[Param, ...]:
        if not self.glide:
            return self.params
        return self.params + (Param("glide", "float", 0.0, MAX_GLIDE_SECONDS, "0 .. 600 s", optional=True),)


def _last_scene(limits: ControlLimits) -> float:
    return len(limits.scenes) - 1


def _last_window(limits: ControlLimits) -> float:
    return limits.windows - 1


def _last_direction(limits: ControlLimits) -> float:
    return limits.directions - 1


def _max_grid(limits: ControlLimits) -> float:
    return limits.max_grid


def _max_frames(limits: ControlLimits) -> float:
    return limits.max_filmstrip_frames


SECONDS = Param("seconds", "float", 0.0, MAX_FADE_SECONDS, "0 .. 600 s")

ADDRESSES: tuple[Address, ...] = (
    Address("go", (), "Fire the next cue: in a hold scene, go to the next scene now; in a timed scene, let the next "
            "hold scene pass as soon as it is reached."),
    Address("scene/next", (), "Go to the next scene now (the first again in a looping show)."),
    Address("scene/prev", (), "Go to the previous scene now (restarts the first)."),
    Address("scene/goto", (Param("scene", "scene", 0, _last_scene, "0 .. scenes-1"),),
            "Go to a scene by index or by name."),
    Address("pause", (Param("on", "flag", range_doc="none: toggle", optional=True),),
            "Pause (1) or resume (0) scene timing and the walk; with no argument, toggle."),
    Address("freeze", (Param("on", "flag"),),
            "Hold the picture still (1) while scene timing runs on; 0 lets it move again."),
    Address("speed", (Param("speed", "float", 0.0, MAX_SPEED, "0 .. 16 (1 = as written)"),),
            "Walk speed, a multiple of the show's speed.", glide=True),
    Address("truncation", (Param("psi", "float", 0.0, MAX_TRUNCATION, "0 .. 2"),),
            "Truncation psi for every window (0 = the average face, 1 = untruncated).", glide=True),
    Address("grid/rows", (Param("rows", "int", 1, _max_grid, "1 .. 16"),), "Rows of a window grid."),
    Address("grid/cols", (Param("cols", "int", 1, _max_grid, "1 .. 16"),), "Columns of a window grid."),
    Address("filmstrip/frames", (Param("frames", "int", 1, _max_frames, "1 .. 64"),),
            "Frames shown side by side in a filmstrip."),
    Address("filmstrip/speed", (Param("speed", "float", 0.0, MAX_SPEED, "0 .. 16"),),
            "How fast a filmstrip scrolls, a multiple of the show's speed.", glide=True),
    Address("window/person", (Param("window", "int", 0, _last_window, "window 0 .. windows-1"),
                              Param("person", "person", range_doc="a person approved in the registry")),
            "Show another approved person in one window."),
    Address("fade", (SECONDS,), "Fade to black over SECONDS."),
    Address("fade/in", (SECONDS,), "Fade back from black over SECONDS."),
    Address("blackout", (Param("on", "flag"),), "Black at once (1), or the picture back (0)."),
    Address("reseed", (Param("offset", "int", 0, MAX_RESEED, "0 .. 2^31-1; none: one more", optional=True),),
            "New walks: add OFFSET to every seed (no argument: the next offset)."),
    Address("direction/K", (Param("value", "float", -MAX_DIRECTION, MAX_DIRECTION, "-20 .. 20"),),
            "Move along latent direction K (0 .. directions-1, SeFa order: 0 is the strongest), added to "
            "the scene's own walk directions.", glide=True),
    Address("status", (), "Reply to the sender with /likeness/status: scene index, scene name, show time (s), "
            "frames presented per second (over the last 240), dropped frames.", replies=True),
)

BY_PATH: dict[str, Address] = {a.path: a for a in ADDRESSES}
_DIRECTION = re.compile(r"direction/(0|[1-9][0-9]{0,3})")


def lookup(address: str) -> tuple[Address, int | None]:
    """The table row for a full address, and K for direction/K; Refused('unknown address') if there is none."""
    path = address[len(PREFIX):] if address.startswith(PREFIX) else None
    if path is not None:
        if path in BY_PATH and path != "direction/K":
            return BY_PATH[path], None
        match = _DIRECTION.fullmatch(path)
        if match:
            return BY_PATH["direction/K"], int(match.group(1))
    raise Refused("unknown address", f"unknown address {address[:80]!r}; see shows/README.md, 'OSC address space'")


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _convert(param: Param, value: object, limits: ControlLimits | None, address: str) -> object:
    """One argument in its checked form, or Refused naming what was wrong."""
    where = f"{address} {param.name}"
    if param.kind == "flag":
        number = _number(value) if not isinstance(value, bool) else float(value)
        if number not in (0.0, 1.0):
            raise Refused("wrong arguments", f"{where}: expected 0 or 1, got {value!r}")
        return int(number)
    if param.kind in ("person", "str") or (param.kind == "scene" and isinstance(value, str)):
        if not isinstance(value, str):
            raise Refused("wrong arguments", f"{where}: expected a name, got {value!r}")
        if limits is not None and param.kind == "person" and value not in limits.people:
            raise Refused("out of range", f"{where}: {value[:40]!r} is not an approved person in this show")
        if limits is not None and param.kind == "scene" and limits.scene_index(value) is None:
            raise Refused("out of range", f"{where}: no scene named {value[:40]!r}")
        return value
    number = _number(value)
    if number is None or not math.isfinite(number):
        raise Refused("wrong arguments", f"{where}: expected a number, got {value!r}")
    if param.kind in ("int", "scene"):
        if number != int(number):
            raise Refused("wrong arguments", f"{where}: expected a whole number, got {value!r}")
        number = int(number)
    lo, hi = param.bounds(limits)
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        raise Refused("out of range", f"{where}: {value!r} is outside {param.range_doc or 'its range'}")
    return number


def check_message(address: str, args: tuple, limits: ControlLimits | None) -> tuple:
    """The checked arguments of one message (limits None: only what does not depend on the show is checked)."""
    row, k = lookup(address)
    if k is not None and limits is not None and k > _last_direction(limits):
        raise Refused("out of range", f"{address}: this show has {limits.directions} directions (0 .. "
                      f"{limits.directions - 1})")
    params = row.all_params()
    required = sum(1 for p in params if not p.optional)
    if not required <= len(args) <= len(params):
        want = str(required) if required == len(params) else f"{required} to {len(params)}"
        noun = "argument" if want == "1" else "arguments"
        raise Refused("wrong arguments", f"{address}: expected {want} {noun}, got {len(args)}")
    return tuple(_convert(p, v, limits, address) for p, v in zip(params, args))


def usage(row: Address) -> str:
    """`/likeness/speed SPEED [GLIDE]`, as the docs and `likeness osc --help` write it."""
    words = [row.full]
    for p in row.all_params():
        words.append(f"[{p.name.upper()}]" if p.optional else p.name.upper())
    return " ".join(words)
