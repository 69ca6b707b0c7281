"""`likeness show show.yaml`: the show played live, steered by keys and OSC, every control logged for replay.

Each frame: take the controls that arrived (OSC, keys), fold them into the control state at the frame's show time,
draw `render(state, t)` and present it. The frames are the export's (frame k at show time k / rate), handed out as
the wall clock reaches them (installation/frame_pacer.py): an early frame waits, a slow one is dropped, never turned
into slow motion (`--clock frames` steps exactly one frame per drawn frame instead, never dropping one: for tests
and for offscreen runs that must hold every frame). Bad controls are logged and ignored; nothing stops the show but
q, Esc, closing the window, the offscreen frame count, Ctrl-C or SIGTERM (each an orderly end: the log is whole).
With `watch`, an edit of the show file or its includes that passes the check takes over at the next scene boundary
(installation/show_watch.py); one that fails is logged with its FILE:LINE:COLUMN problems and the show plays on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from installation import control
from installation.frame_pacer import FramePacer
from installation.frame_stats import FrameStats
from installation.show_frame import ShowFrames, render
from training.atomic import terminate_as_interrupt

KEY_CONTROLS = {"space": "/likeness/pause", "left": "/likeness/scene/prev", "right": "/likeness/scene/next",
                "g": "/likeness/go"}


@dataclass
class LiveOptions:
    show: Path
    registry: Path | None = None
    offscreen: bool = False
    frames: int | None = None  # offscreen: stop after this many frames
    clock: str = "wall"  # wall | frames
    save_frames: Path | None = None  # offscreen: each drawn frame as NNNNNN.png (its frame number at the show rate)
    size: tuple[int, int] | None = None
    monitor: int | None = None
    fullscreen: bool = False
    vsync: bool = True
    stats: bool = False
    device: str = "cpu"
    allow_unapproved: bool = False
    watch: bool = False  # re-check the show file and its includes when they change; switch at a scene boundary


def run_show(options: LiveOptions, osc_settings, say=print) -> FrameStats:
    from installation.osc_session import open_session
    from installation.show_check import check_show
    from installation.show_log import setup_logging

    setup_logging()
    live = LiveShow(options, check_show(options.show, registry=options.registry))
    try:
        with open_session(osc_settings, live.frames.limits, clock=live.show_time, status=live.status,
                          values=live.values) as osc:
            say(f"playing '{live.show.title}' at {live.width}x{live.height}, {live.rate} frames/s; {osc.summary()}"
                + (f"; watching {len(live.watcher.files)} file(s)" if live.watcher is not None else ""))
            log_path = osc.log.path if osc.log is not None else None
            with terminate_as_interrupt():
                try:
                    live.play(osc)
                except KeyboardInterrupt:  # Ctrl-C at the console, or a scheduler's stop: end as q does
                    say("stopped (Ctrl-C or SIGTERM)")
    finally:
        live.close()
    say("  ".join(live.stats.lines()))
    say(closing_line(options.show, live.stats, live.show_time(), log_path))
    return live.stats


class LiveShow:
    """One live run: the show playing (swapped whole when an edit takes over), its models, output and clock."""

    def __init__(self, options: LiveOptions, show) -> None:
        from installation.model_pool import ModelPool
        from installation.outputs import OffscreenOutput, WindowOutput
        from installation.renderer import Renderer
        from installation.show_log import setup_logging
        from installation.show_watch import ShowWatcher

        self.options = options
        self.log = setup_logging()
        self.width, self.height = options.size or (show.width, show.height)
        # the show playing and its frames, rebound as one, so the OSC thread's status never sees a half-switch
        self.current = (show, ShowFrames(show, (self.width, self.height)))
        self.pool = ModelPool.from_registry(show.registry, device=options.device,
                                            allow_unapproved=options.allow_unapproved, people=list(show.people))
        self.rate = Fraction(show.rate)
        self.stats = FrameStats(float(self.rate), count_dropped=options.clock == "wall")
        if options.save_frames is not None:
            options.save_frames.mkdir(parents=True, exist_ok=True)
        self.output = (OffscreenOutput(self.width, self.height) if options.offscreen else
                       WindowOutput(self.width, self.height, title=f"likeness: {show.title}", monitor=options.monitor,
                                    fullscreen=options.fullscreen, vsync=options.vsync,
                                    hide_cursor=options.fullscreen))
        self.state = control.initial_state(0.0)
        self.pacer = FramePacer(self.rate)
        self.frame = 0  # frames drawn
        self.slot = 0  # the frame of the show's rate being drawn (frame k of an export)
        self.show_stats = options.stats
        self.last_scene = None
        self.watcher = (ShowWatcher(options.show, options.registry, prepare=self._prepare_pool)
                        if options.watch else None)
        try:
            self.renderer = Renderer(self.pool, self.output)
            self.renderer.prepare_directions()
        except BaseException:
            self.output.release()
            raise
        self.pacer.restart()  # the show starts now, not before the models loaded: no frame is late at the start

    @property
    def show(self):
        return self.current[0]

    @property
    def frames(self) -> ShowFrames:
        return self.current[1]

    @property
    def warnings(self) -> list[str]:
        return [f"UNAPPROVED: {name} (--allow-unapproved)" for name in self.pool.unapproved]

    def show_time(self) -> float:
        if self.options.clock == "frames":
            return self.pacer.time_of(self.frame)
        return self.pacer.elapsed()

    def _next_time(self) -> float:
        """Show time of the next frame: one per frame drawn (`--clock frames`), else the next one the wall clock
        reaches at the show's rate."""
        self.slot = self.frame if self.options.clock == "frames" else self.pacer.next_frame()
        return self.pacer.time_of(self.slot)

    def status(self):
        from installation.osc_server import Status

        playing, frames = self.current
        anchor = control.scene_at(self.state, self.show_time(), frames.limits)
        return Status(anchor.index, playing.scenes[anchor.index].name, self.show_time(),
                      self.stats.summary()["fps"], self.stats.dropped)

    def values(self) -> dict[str, list]:
        from installation.osc_publish import current_values

        return current_values(self.state, self.show_time(), self.frames.limits)

    def play(self, osc) -> None:
        """Frames until q, Esc, a closed window or the frame count."""
        if self.watcher is not None:
            self.watcher.start()
        while self.options.frames is None or self.frame < self.options.frames:
            t = self._next_time()
            t0 = time.perf_counter()
            events = osc.drain(t)
            if not self.options.offscreen:
                keys, quit_now = self._keys(t)
                if quit_now:
                    return
                for event in keys:
                    if osc.log is not None:
                        osc.log.write(event)
                events += keys
            for event in events:
                self.state = control.apply(self.state, event, self.frames.limits)
            if self.watcher is not None:
                self._take_edit(t, osc)
            before = self.renderer.images_drawn
            self._draw(t)
            self.stats.add(time.perf_counter() - t0, self.renderer.images_drawn - before, t)
            self.frame += 1

    def _keys(self, t: float) -> tuple[list[control.ControlEvent], bool]:
        if self.output.should_close():
            return [], True
        keys, quit_now, toggle_stats = _key_controls(self.output, t)
        self.show_stats ^= toggle_stats
        return keys, quit_now

    def _draw(self, t: float) -> None:
        from installation.text_overlay import text_image

        render(self.frames, self.renderer, self.state, t)
        lines = self.warnings + (self.stats.lines() if self.show_stats else [])
        if lines:
            self.renderer.compositor.draw_overlay(text_image(lines), 8, 8, self.output.size)
        if self.options.save_frames is not None:
            from PIL import Image

            Image.fromarray(self.output.read_rgb()).save(self.options.save_frames / f"{self.slot:06d}.png")
        self.output.finish()

    def _prepare_pool(self, new_show):
        """The pool an edited show needs: None when the running one has everyone, else a new one (loaded here, in
        the watcher's thread, so the switch itself is instant)."""
        from installation.model_pool import ModelPool

        known = set(self.pool.models) | set(self.pool.refused)
        if new_show.registry == self.show.registry and set(new_show.people) <= known:
            return None
        return ModelPool.from_registry(new_show.registry, device=self.options.device,
                                       allow_unapproved=self.options.allow_unapproved, people=list(new_show.people))

    def _take_edit(self, t: float, osc) -> None:
        """Switch to an edited show that passed its check, at a scene boundary (or once the show has ended)."""
        from installation.show_watch import carry_over

        settled = control.settle(self.state, t, self.frames.limits)
        edit = self.watcher.take()
        if edit is not None and (settled.ended or settled.scene != self.last_scene):
            self.watcher.clear(edit)
            new_show, new_pool = edit
            frames = ShowFrames(new_show, (self.width, self.height))
            self.state = carry_over(settled, t, self.show, new_show)
            self.current = (new_show, frames)
            osc.server.set_limits(self.frames.limits)
            if new_pool is not None:
                self.pool = new_pool
                self.renderer.use_pool(new_pool)
                self.renderer.prepare_directions()
            self.log.info("switched to the edited %s at %.3f s: scene %d %r", self.options.show.name, t,
                          self.state.scene.index, self.show.scenes[self.state.scene.index].name)
            same_size = self.options.size is not None or (self.show.width, self.show.height) == (self.width,
                                                                                                   self.height)
            if self.show.rate != self.rate or not same_size:
                self.log.info("the edit changes the rate or size; the running show keeps %dx%d at %s frames/s "
                              "until it is started again", self.width, self.height, self.rate)
            settled = control.settle(self.state, t, self.frames.limits)
        self.last_scene = settled.scene

    def close(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        self.output.release()


def closing_line(show_file: Path, stats: FrameStats, t: float, log_path: Path | None) -> str:
    """Where the show ended, and the command that screens this performance again."""
    line = f"played {stats.frames} frames to show time {t:.3f} s, {stats.dropped} dropped"
    if log_path is not None:
        line += f"; to film this performance: likeness export {show_file} --replay {log_path} -o film.mp4"
    return line


def _key_controls(output, t: float) -> tuple[list[control.ControlEvent], bool, bool]:
    """The window's key presses since the last frame as control events, and whether to quit / toggle stats (f
    toggles fullscreen here and now)."""
    import glfw

    names = {glfw.KEY_SPACE: "space", glfw.KEY_LEFT: "left", glfw.KEY_RIGHT: "right", glfw.KEY_G: "g"}
    events, quit_now, toggle = [], False, False
    for key in output.keys:
        if key in (glfw.KEY_Q, glfw.KEY_ESCAPE):
            quit_now = True
        elif key == glfw.KEY_S:
            toggle = not toggle
        elif key == glfw.KEY_F:
            output.toggle_fullscreen()   # the window, not the show: not a control, so not in the performance log
        elif key in names:
            events.append(control.ControlEvent(t, KEY_CONTROLS[names[key]], ()))
    output.keys.clear()
    return events, quit_now, toggle
