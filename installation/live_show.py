"""`likeness show show.yaml`: the show played live, steered by keys and OSC, every control logged for replay.

Each frame: take the controls that arrived (OSC, keys), fold them into the control state at the frame's show time,
draw `render(state, t)` and present it. Show time follows the wall clock, so a slow frame is dropped, never turned
into slow motion (`--clock frames` steps exactly one frame per drawn frame instead: for tests and for offscreen
runs that must line up with an export). Bad controls are logged and ignored; nothing stops the show but q, Esc,
closing the window or the offscreen frame count. With `watch`, an edit of the show file or its includes that
passes the check takes over at the next scene boundary (installation/show_watch.py); one that fails is logged with
its FILE:LINE:COLUMN problems and the show plays on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from installation import control
from installation.frame_stats import FrameStats
from installation.show_frame import ShowFrames, render

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
    stats: bool = False
    device: str = "cpu"
    allow_unapproved: bool = False
    watch: bool = False  # re-check the show file and its includes when they change; switch at a scene boundary


def run_show(options: LiveOptions, osc_settings, say=print) -> FrameStats:
    from installation.model_pool import ModelPool
    from installation.osc_server import Status
    from installation.osc_session import open_session
    from installation.outputs import OffscreenOutput, WindowOutput
    from installation.renderer import Renderer
    from installation.show_check import check_show
    from installation.show_log import setup_logging
    from installation.show_watch import ShowWatcher, carry_over
    from installation.text_overlay import text_image

    setup_logging()
    show = check_show(options.show, registry=options.registry)
    width, height = options.size or (show.width, show.height)
    frames = ShowFrames(show, (width, height))
    pool = ModelPool.from_registry(show.registry, device=options.device, allow_unapproved=options.allow_unapproved,
                                   people=list(show.people))
    rate = Fraction(show.rate)
    stats = FrameStats(float(rate), count_dropped=options.clock == "wall")
    if options.save_frames is not None:
        options.save_frames.mkdir(parents=True, exist_ok=True)
    output = (OffscreenOutput(width, height) if options.offscreen else
              WindowOutput(width, height, title=f"likeness: {show.title}", monitor=options.monitor,
                           fullscreen=options.fullscreen, hide_cursor=options.fullscreen))
    state = control.initial_state(0.0)
    start = time.perf_counter()
    frame = 0
    current = (show, frames)  # rebound as one, so the OSC thread's status never sees a half-switched show
    log = setup_logging()

    def prepare(new_show):
        """The pool an edited show needs: the running one when it has everyone, else a new one (loaded here, in
        the watcher's thread, so the switch itself is instant)."""
        known = set(pool.models) | set(pool.refused)
        if new_show.registry == show.registry and set(new_show.people) <= known:
            return None
        return ModelPool.from_registry(new_show.registry, device=options.device,
                                       allow_unapproved=options.allow_unapproved, people=list(new_show.people))

    watcher = ShowWatcher(options.show, options.registry, prepare=prepare) if options.watch else None
    last_scene = None

    def show_time() -> float:
        return float(Fraction(frame) / rate) if options.clock == "frames" else time.perf_counter() - start

    def status() -> Status:
        playing, playing_frames = current
        anchor = control.scene_at(state, show_time(), playing_frames.limits)
        return Status(anchor.index, playing.scenes[anchor.index].name, show_time(), stats.summary()["fps"],
                      stats.dropped)

    warnings = [f"UNAPPROVED: {name} (--allow-unapproved)" for name in pool.unapproved]
    show_stats = options.stats
    try:
        renderer = Renderer(pool, output)
        renderer.prepare_directions()

        def values() -> dict[str, list]:
            from installation.osc_publish import current_values

            return current_values(state, show_time(), current[1].limits)

        with open_session(osc_settings, frames.limits, clock=show_time, status=status, values=values) as osc:
            say(f"playing '{show.title}' at {width}x{height}, {rate} frames/s; {osc.summary()}"
                + (f"; watching {len(watcher.files)} file(s)" if watcher is not None else ""))
            if watcher is not None:
                watcher.start()
            while options.frames is None or frame < options.frames:
                t0 = time.perf_counter()
                t = show_time()
                events = osc.drain(t)
                if not options.offscreen:
                    if output.should_close():
                        break
                    keys, quit_now, toggle_stats = _key_controls(output, t)
                    if quit_now:
                        break
                    show_stats ^= toggle_stats
                    for event in keys:
                        if osc.log is not None:
                            osc.log.write(event)
                    events += keys
                for event in events:
                    state = control.apply(state, event, frames.limits)
                if watcher is not None:
                    settled = control.settle(state, t, frames.limits)
                    edit = watcher.take()
                    if edit is not None and (settled.ended or settled.scene != last_scene):
                        watcher.clear(edit)
                        old, (show, new_pool) = show, edit
                        frames = ShowFrames(show, (width, height))
                        state = carry_over(settled, t, old, show)
                        current = (show, frames)
                        osc.server.set_limits(frames.limits)
                        if new_pool is not None:
                            pool = new_pool
                            renderer.use_pool(pool)
                            renderer.prepare_directions()
                            warnings = [f"UNAPPROVED: {name} (--allow-unapproved)" for name in pool.unapproved]
                        log.info("switched to the edited %s at %.3f s: scene %d %r", options.show.name, t,
                                 state.scene.index, show.scenes[state.scene.index].name)
                        if show.rate != rate or (options.size is None and (show.width, show.height) != (width, height)):
                            log.info("the edit changes the rate or size; the running show keeps %dx%d at %s "
                                     "frames/s until it is started again", width, height, rate)
                        settled = control.settle(state, t, frames.limits)
                    last_scene = settled.scene
                before = renderer.images_drawn
                render(frames, renderer, state, t)
                lines = warnings + (stats.lines() if show_stats else [])
                if lines:
                    renderer.compositor.draw_overlay(text_image(lines), 8, 8, output.size)
                if options.save_frames is not None:
                    from PIL import Image

                    index = round(t * rate)
                    Image.fromarray(output.read_rgb()).save(options.save_frames / f"{index:06d}.png")
                output.finish()
                stats.add(time.perf_counter() - t0, renderer.images_drawn - before, t)
                frame += 1
    finally:
        if watcher is not None:
            watcher.stop()
        output.release()
    say("  ".join(stats.lines()))
    return stats


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
