"""`render(state, t)` for a show: the frame at show time t under a control state, the same live and in export.

From the checked show (installation/show.py) and the control state (installation/control.py) this works out which
scene is playing, how far into it, whether a transition is under way, which person each window shows and where on
its walk, and draws it with the renderer. Nothing here reads a clock or the network: live, the show loop passes the
wall clock's show time and the state folded from OSC and keys; export passes k / rate and the state a performance
log gives at that time. So the same (state, t) draws the same pixels.

Transitions take the first `seconds` of the scene they lead into: a crossfade is (1 - u) x the scene before +
u x the new one, exactly (both frames drawn whole); a fade goes through black, the scene before fading out over
the first half and the new one in over the second; the first scene's fade comes in from black. A looping show
starts over at its period: scene 0 and the walks' clock back at zero, so frame N is frame 0 again.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from fractions import Fraction

from installation import control
from installation.directions import DEFAULT_COUNT
from installation.layouts import FilmstripLayout, GridLayout, Layout, SingleLayout, arrange
from installation.renderer import FrameRequest, Renderer, windows_for
from installation.show import Filmstrip, Grid, Scene, Show
from installation.walks import WalkSpec


def limits_for(show: Show) -> control.ControlLimits:
    """What the control state may do in this show: its scenes (for next/prev/goto), windows and people."""
    scenes = tuple(control.SceneSpec(s.name, duration, s.walk.truncation)
                   for s, duration in zip(show.scenes, played_durations(show)))
    windows = max(s.layout.windows for s in show.scenes)
    return control.ControlLimits(scenes=scenes, loop=show.loop, windows=windows, people=show.people,
                                 directions=DEFAULT_COUNT)


def played_durations(show: Show) -> list[Fraction | None]:
    """The scenes' durations as played: a looping show's last scene takes what makes the period a whole number of
    frames (N / rate, the rule in installation/show.py), so live and exported loops wrap on the same frame."""
    durations = [s.duration for s in show.scenes]
    count = show.frame_count()
    if show.loop and count is not None:
        last = Fraction(count) / Fraction(show.rate) - sum(durations[:-1], Fraction(0))
        if last > 0:
            durations[-1] = last
    return durations


@dataclass(frozen=True)
class Picture:
    """What to draw: one frame request, or a crossfade of two (`under` at 1 - weight, `over` at weight)."""

    over: FrameRequest
    under: FrameRequest | None = None
    weight: float = 1.0


class ShowFrames:
    """The frames of one show at one output size."""

    def __init__(self, show: Show, size: tuple[int, int] | None = None):
        self.show = show
        self.size = size or (show.width, show.height)
        self.scale = min(self.size[0] / show.width, self.size[1] / show.height)
        self.limits = limits_for(show)
        self._walks = {i: WalkSpec(**{k: v for k, v in dataclasses.asdict(s.walk).items() if k != "directions"})
                       for i, s in enumerate(show.scenes)}

    def picture(self, state: control.ControlState, t: float) -> Picture:
        settled = control.settle(state, t, self.limits)
        fade = control.fade_at(settled, t)
        if settled.ended:
            return Picture(FrameRequest([], background=self.show.background, fade=0.0))
        anchor = settled.scene
        elapsed = control.scene_elapsed(settled, t, self.limits)
        scene = self.show.scenes[anchor.index]
        now = self.request(settled, anchor.index, t, fade)
        transition = scene.transition
        seconds = float(transition.seconds)
        if transition.kind == "cut" or seconds <= 0 or elapsed >= seconds:
            return Picture(now)
        u = elapsed / seconds
        before = anchor.came_from
        if transition.kind == "crossfade" and before is not None:
            return Picture(now, self.request(settled, before, t, fade), u)
        if transition.kind == "fade" and before is not None and u < 0.5:
            return Picture(self.request(settled, before, t, fade * (1 - 2 * u)))
        if transition.kind == "fade" and before is not None:
            return Picture(dataclasses.replace(now, fade=fade * (2 * u - 1)))
        return Picture(dataclasses.replace(now, fade=fade * u))  # the first scene comes in from black

    def request(self, state: control.ControlState, index: int, t: float, fade: float) -> FrameRequest:
        """Scene `index` as it stands at show time t under the state's overrides."""
        scene = self.show.scenes[index]
        walk_time = control.walk_time(state, t)
        layout = self.layout(scene, state, t)
        scroll_time = walk_time  # film moves with the walk clock: paused or frozen, it stands still too
        arrangement = arrange(layout, *self.size, t=scroll_time)
        walk = self._walks[index]
        truncation = control.truncation_at(state, t, self.limits) if state.truncation is not None else walk.truncation
        if truncation != walk.truncation:
            walk = dataclasses.replace(walk, truncation=truncation)
        pinned = dict(scene.windows)
        pinned.update(dict(state.people))
        background = scene.layout.background if isinstance(scene.layout, Grid) else self.show.background
        windows = windows_for(arrangement, list(scene.people), walk, walk_time, assignments=pinned)
        directions = dict(scene.walk.directions)  # the scene's own, with what OSC sent added to them
        for k, glide in state.directions:
            directions[k] = directions.get(k, 0.0) + control.value_at(glide, t)
        return FrameRequest(windows, list(arrangement.solids), background, fade, directions)

    def layout(self, scene: Scene, state: control.ControlState, t: float) -> Layout:
        s, source = self.scale, scene.layout
        if isinstance(source, Grid):
            return GridLayout(state.grid_rows or source.rows, state.grid_cols or source.cols, source.gap * s,
                              source.margin * s)
        if isinstance(source, Filmstrip):
            speed = (control.value_at(state.filmstrip_speed, t) if state.filmstrip_speed is not None
                     else source.speed)
            return FilmstripLayout(state.filmstrip_frames or source.frames, source.orientation, speed, source.step,
                                   source.gap * s, source.frame_lines, source.sprockets)
        return SingleLayout()


def draw_picture(renderer: Renderer, picture: Picture, reseed: int = 0) -> None:
    renderer.reseed = reseed
    if picture.under is None:
        renderer.draw(picture.over)
    else:
        renderer.draw_blend(picture.under, picture.over, picture.weight)


def render(frames: ShowFrames, renderer: Renderer, state: control.ControlState, t: float) -> None:
    """The show's frame at show time t under `state`, into the renderer's output."""
    draw_picture(renderer, frames.picture(state, t), state.reseed)
