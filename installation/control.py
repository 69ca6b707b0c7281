"""The live show's control state: a pure fold of timestamped control events.

Everything a performer can change (scene, pause, speed, fades, layout overrides, people, directions) lives in one
frozen `ControlState`. `apply(state, event, limits)` returns the next state and never looks at a clock, so the
same events applied in the same order give the same show, live or replayed from a performance log at export.
Values that glide (a fader move eased, not stepped) are `Glide`s evaluated at any show time with `value_at`; the
walk clock (where each latent walk is) is the integral of speed, in closed form, so `walk_time(state, t)` is pure.

Arguments arrive already checked by the address space (`installation/osc_space.py`); `apply` trusts their types
and ranges. Scenes are given as names plus durations (`SceneSpec`), so this module needs nothing from the show
file: the show builds `ControlLimits` from its scenes.

Time semantics: `t` is show-clock seconds (the clock the show runs on). While paused, scenes do not advance and
the walk stands still; while frozen, the walk stands still but scenes keep their timing. A `go` in a hold scene
moves to the next scene at once; a `go` in a timed scene is kept (`pending_go`) and lets the next hold scene pass
as soon as it is reached, so a performer may press GO a little early.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from fractions import Fraction

# -- glides --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Glide:
    """A value moving from `start` to `target` over `seconds` from show time `t0`, eased by smoothstep."""

    start: float
    target: float
    t0: float
    seconds: float = 0.0

    @staticmethod
    def constant(value: float, t0: float = 0.0) -> "Glide":
        return Glide(float(value), float(value), t0, 0.0)


def smoothstep(u: float) -> float:
    """3u^2 - 2u^3 on [0, 1], clamped outside: zero slope at both ends, so a fader move starts and lands softly."""
    u = min(1.0, max(0.0, u))
    return u * u * (3.0 - 2.0 * u)


def value_at(glide: Glide, t: float) -> float:
    """The glide's value at show time t (start before t0, target after t0 + seconds)."""
    if glide.seconds <= 0.0 or t >= glide.t0 + glide.seconds:
        return glide.target if t >= glide.t0 else glide.start
    if t <= glide.t0:
        return glide.start
    return glide.start + (glide.target - glide.start) * smoothstep((t - glide.t0) / glide.seconds)


def _primitive(glide: Glide, t: float) -> float:
    """The integral of the glide's value from t0 to t (negative for t < t0); smoothstep integrates to u^3 - u^4/2."""
    if t <= glide.t0:
        return glide.start * (t - glide.t0)
    if glide.seconds <= 0.0:
        return glide.target * (t - glide.t0)
    span = glide.target - glide.start
    if t >= glide.t0 + glide.seconds:
        return (glide.start + 0.5 * span) * glide.seconds + glide.target * (t - glide.t0 - glide.seconds)
    u = (t - glide.t0) / glide.seconds
    return glide.start * (t - glide.t0) + span * glide.seconds * (u ** 3 - 0.5 * u ** 4)


def integral(glide: Glide, a: float, b: float) -> float:
    """The integral of the glide's value over show time [a, b], exactly (no stepping)."""
    return _primitive(glide, b) - _primitive(glide, a)


def glide_from(current: Glide | None, base: float, target: float, t: float, seconds: float) -> Glide:
    """A new glide toward `target` that starts where the value is now (or at `base` when nothing was set)."""
    start = value_at(current, t) if current is not None else base
    return Glide(start, float(target), t, float(seconds))


# -- what the show tells the fold ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SceneSpec:
    """One scene as navigation needs it: a name and a duration in seconds (None: hold until GO)."""

    name: str
    duration: Fraction | None
    truncation: float = 1.0


@dataclass(frozen=True)
class ControlLimits:
    """What the running show allows: its scenes, windows, people and directions (ranges for the address space)."""

    scenes: tuple[SceneSpec, ...]
    loop: bool = False
    windows: int = 1
    people: tuple[str, ...] = ()
    directions: int = 0
    max_grid: int = 16
    max_filmstrip_frames: int = 64

    def __post_init__(self) -> None:
        if not self.scenes:
            raise ValueError("a show needs at least one scene")
        if any(s.duration is not None and s.duration <= 0 for s in self.scenes):
            raise ValueError("a scene's duration must be above zero (or None for a hold)")

    def scene_index(self, name: str) -> int | None:
        for index, scene in enumerate(self.scenes):
            if scene.name == name:
                return index
        return None


# -- the state -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SceneAnchor:
    """The current scene, the show time it began (shifted by pauses) and the scene it came from (for transitions)."""

    index: int = 0
    start: float = 0.0
    came_from: int | None = None


@dataclass(frozen=True)
class ControlEvent:
    """One control as received: show time, full OSC address, checked arguments."""

    t: float
    address: str
    args: tuple = ()


@dataclass(frozen=True)
class ControlState:
    """Everything a performer has changed, as of the last applied event (see the module docstring)."""

    scene: SceneAnchor = field(default_factory=SceneAnchor)
    ended: bool = False                          # a show that does not loop stays on its last scene, ended
    paused: bool = False
    paused_at: float = 0.0                       # show time the pause began (scenes and walk stand still from here)
    frozen: bool = False
    speed: Glide = field(default_factory=lambda: Glide.constant(1.0))
    walk_anchor: tuple[float, float] = (0.0, 0.0)  # (show time, walk time there); the walk integrates speed from it
    truncation: Glide | None = None              # None: the scene's own truncation
    grid_rows: int | None = None
    grid_cols: int | None = None
    filmstrip_frames: int | None = None
    filmstrip_speed: Glide | None = None         # None: the scene's own speed (1)
    people: tuple[tuple[int, str], ...] = ()     # (window index, person name), sorted by window
    fade: Glide = field(default_factory=lambda: Glide.constant(1.0))  # 1 = picture, 0 = black
    blackout: bool = False
    reseed: int = 0
    directions: tuple[tuple[int, Glide], ...] = ()  # (direction K, value), sorted by K
    pending_go: bool = False
    last_t: float = 0.0


def initial_state(t: float = 0.0) -> ControlState:
    """The state at the start of a show: first scene from t, nothing overridden."""
    return ControlState(scene=SceneAnchor(0, t, None), walk_anchor=(t, 0.0), speed=Glide.constant(1.0, t),
                        fade=Glide.constant(1.0, t), last_t=t)


# -- reading the state ---------------------------------------------------------------------------------------------


def _halted(state: ControlState) -> bool:
    return state.paused or state.frozen


def walk_time(state: ControlState, t: float) -> float:
    """Where the latent walks are at show time t: the integral of speed since the anchor, zero while halted."""
    anchor_t, anchor_walk = state.walk_anchor
    if _halted(state) or t <= anchor_t:
        return anchor_walk
    return anchor_walk + integral(state.speed, anchor_t, t)


def _scene_clock(state: ControlState, t: float) -> float:
    """Show time as the scene timer sees it: stopped at the pause."""
    return min(t, state.paused_at) if state.paused else t


def settle(state: ControlState, t: float, limits: ControlLimits) -> ControlState:
    """Advance the scene anchor through every timed scene that has run out by show time t (holds wait for GO). A
    timed loop that wraps back to its first scene sets the walk clock back to zero there (unless frozen)."""
    scene, ended, pending, walk_anchor = state.scene, state.ended, state.pending_go, state.walk_anchor
    clock = _scene_clock(state, t)
    count = len(limits.scenes)
    cycle = sum(float(s.duration) for s in limits.scenes if s.duration is not None)
    all_timed = all(s.duration is not None for s in limits.scenes)
    while not ended:
        spec = limits.scenes[scene.index]
        if spec.duration is None:
            if not pending:
                break
            pending, end = False, scene.start
        else:
            end = scene.start + float(spec.duration)
            if clock < end:
                break
        if scene.index + 1 < count:
            scene = SceneAnchor(scene.index + 1, end, scene.index)
        elif limits.loop:
            if all_timed and cycle > 0 and scene.index == count - 1 and clock - end >= cycle:
                end += math.floor((clock - end) / cycle) * cycle   # skip whole cycles of a long unattended loop
            scene = SceneAnchor(0, end, scene.index)
            if spec.duration is not None and not _halted(state) and end >= walk_anchor[0]:
                walk_anchor = (end, 0.0)  # the loop starts over: its walks too, so a pass repeats the last
        else:
            ended = True
    if (scene, ended, pending, walk_anchor) == (state.scene, state.ended, state.pending_go, state.walk_anchor):
        return state
    return replace(state, scene=scene, ended=ended, pending_go=pending, walk_anchor=walk_anchor)


def scene_at(state: ControlState, t: float, limits: ControlLimits) -> SceneAnchor:
    """The scene playing at show time t (after `state`'s last event; no events in between)."""
    return settle(state, t, limits).scene


def scene_elapsed(state: ControlState, t: float, limits: ControlLimits) -> float:
    """Seconds into the current scene at show time t (stopped while paused)."""
    settled = settle(state, t, limits)
    return max(0.0, _scene_clock(settled, t) - settled.scene.start)


def truncation_at(state: ControlState, t: float, limits: ControlLimits) -> float:
    if state.truncation is not None:
        return value_at(state.truncation, t)
    return limits.scenes[scene_at(state, t, limits).index].truncation


def fade_at(state: ControlState, t: float) -> float:
    """Picture level at t: 1 = picture, 0 = black (blackout wins)."""
    return 0.0 if state.blackout else value_at(state.fade, t)


def direction_at(state: ControlState, k: int, t: float) -> float:
    for key, glide in state.directions:
        if key == k:
            return value_at(glide, t)
    return 0.0


def person_for(state: ControlState, window: int) -> str | None:
    """The person a window was switched to over OSC, or None for the show file's choice."""
    return dict(state.people).get(window)


# -- the fold ------------------------------------------------------------------------------------------------------


def _reanchor_walk(state: ControlState, t: float) -> ControlState:
    """Pin the walk clock at t, so a change of speed, pause or freeze from t on leaves the past as it was."""
    return replace(state, walk_anchor=(t, walk_time(state, t)))


def _goto(state: ControlState, index: int, t: float) -> ControlState:
    clock = _scene_clock(state, t)
    return replace(state, scene=SceneAnchor(index, clock, state.scene.index), ended=False, pending_go=False)


def _set_pause(state: ControlState, paused: bool, t: float) -> ControlState:
    if paused == state.paused:
        return state
    state = _reanchor_walk(state, t)
    if paused:
        return replace(state, paused=True, paused_at=t)
    shift = t - state.paused_at   # the scene timer lost this long; move the scene's start by as much
    scene = replace(state.scene, start=state.scene.start + shift)
    return replace(state, paused=False, scene=scene, walk_anchor=(t, state.walk_anchor[1]))


def _with_keyed(pairs: tuple, key: int, value) -> tuple:
    merged = dict(pairs)
    merged[key] = value
    return tuple(sorted(merged.items()))


def _flag(args: tuple) -> bool:
    return bool(args[0])


def _glide_seconds(args: tuple, index: int = 1) -> float:
    return float(args[index]) if len(args) > index else 0.0


PREFIX = "/likeness/"


def apply(state: ControlState, event: ControlEvent, limits: ControlLimits) -> ControlState:
    """The state after `event` (pure; arguments already checked). Events must come in show-time order."""
    t = max(event.t, state.last_t)   # a late event is applied now, never in the past
    state = replace(settle(state, t, limits), last_t=t)
    name = event.address[len(PREFIX):] if event.address.startswith(PREFIX) else event.address
    args = event.args
    count = len(limits.scenes)
    if name == "go":
        if state.ended:
            return state
        if limits.scenes[state.scene.index].duration is not None:
            return replace(state, pending_go=True)
        if state.scene.index + 1 < count or limits.loop:
            return _goto(state, (state.scene.index + 1) % count, t)
        return replace(state, ended=True)
    if name == "scene/next":
        if state.scene.index + 1 < count:
            return _goto(state, state.scene.index + 1, t)
        return _goto(state, 0, t) if limits.loop else state
    if name == "scene/prev":
        return _goto(state, max(0, state.scene.index - 1), t)
    if name == "scene/goto":
        target = args[0]
        index = target if isinstance(target, int) else limits.scene_index(target)
        if index is None or not 0 <= index < count:   # a replay against a show that has changed since
            return state
        return _goto(state, index, t)
    if name == "pause":
        return _set_pause(state, (not state.paused) if not args else _flag(args), t)
    if name == "freeze":
        return replace(_reanchor_walk(state, t), frozen=_flag(args))
    if name == "speed":
        state = _reanchor_walk(state, t)
        return replace(state, speed=glide_from(state.speed, 1.0, args[0], t, _glide_seconds(args)))
    if name == "truncation":
        base = limits.scenes[state.scene.index].truncation
        return replace(state, truncation=glide_from(state.truncation, base, args[0], t, _glide_seconds(args)))
    if name == "grid/rows":
        return replace(state, grid_rows=int(args[0]))
    if name == "grid/cols":
        return replace(state, grid_cols=int(args[0]))
    if name == "filmstrip/frames":
        return replace(state, filmstrip_frames=int(args[0]))
    if name == "filmstrip/speed":
        glide = glide_from(state.filmstrip_speed, 1.0, args[0], t, _glide_seconds(args))
        return replace(state, filmstrip_speed=glide)
    if name == "window/person":
        return replace(state, people=_with_keyed(state.people, int(args[0]), str(args[1])))
    if name == "fade":
        return replace(state, fade=glide_from(state.fade, 1.0, 0.0, t, float(args[0])))
    if name == "fade/in":
        return replace(state, fade=glide_from(state.fade, 1.0, 1.0, t, float(args[0])))
    if name == "blackout":
        return replace(state, blackout=_flag(args))
    if name == "reseed":
        return replace(state, reseed=int(args[0]) if args else state.reseed + 1)
    if name.startswith("direction/"):
        k = int(name.split("/", 1)[1])
        current = dict(state.directions).get(k)
        return replace(state, directions=_with_keyed(state.directions, k,
                                                     glide_from(current, 0.0, args[0], t, _glide_seconds(args))))
    return state   # `status` and anything the address space answers itself change nothing


def fold(events, limits: ControlLimits, state: ControlState | None = None) -> ControlState:
    """Apply events in order from `state` (default: a show starting at time 0)."""
    state = initial_state() if state is None else state
    for event in events:
        state = apply(state, event, limits)
    return state


class Replay:
    """The state at increasing show times from a recorded performance, as the live loop saw it (export --replay).

    Live, the render loop applies every event due by the frame's show time before drawing it; `state_at(t)` does
    the same with the log's events, so a frame at the same show time gets the same state.
    """

    def __init__(self, events, limits: ControlLimits, state: ControlState | None = None) -> None:
        self.events = sorted(events, key=lambda e: e.t)
        self.limits = limits
        self.state = initial_state() if state is None else state
        self._next = 0

    def state_at(self, t: float) -> ControlState:
        """Apply every event with time <= t not applied yet (t must not go back) and return the state."""
        while self._next < len(self.events) and self.events[self._next].t <= t:
            self.state = apply(self.state, self.events[self._next], self.limits)
            self._next += 1
        return self.state
