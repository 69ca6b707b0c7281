"""`f` in a show's window: a real GLFW window under Xvfb goes fullscreen on the monitor (its size becomes the
monitor's video mode, the only one Xvfb has) and back to its window size and place; the key reaches the toggle
through the live show's key handling, as do space, arrows, g, s, q and Escape. Fullscreen, the frame is scaled to fit the monitor with black bars."""

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

SCRIPT = """
import time
import glfw
import numpy as np
from installation.live_show import _key_controls
from installation.outputs import WindowOutput

def settle(window, want):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        glfw.poll_events()
        if glfw.get_window_size(window.window) == want:
            return want
        time.sleep(0.05)
    return glfw.get_window_size(window.window)

window = WindowOutput(160, 90, vsync=False)
mode = glfw.get_video_mode(glfw.get_monitors()[0])
monitor = (mode.size.width, mode.size.height)
assert monitor != (160, 90), monitor
assert not window.fullscreen
# the other keys, as the key callback records presses: controls for the show (logged like OSC), stats, quit
from installation import control
window.keys.extend([glfw.KEY_SPACE, glfw.KEY_RIGHT, glfw.KEY_S, glfw.KEY_RIGHT, glfw.KEY_LEFT, glfw.KEY_G])
events, quit_now, stats = _key_controls(window, 1.5)
assert [e.address for e in events] == ["/likeness/pause", "/likeness/scene/next", "/likeness/scene/next",
                                       "/likeness/scene/prev", "/likeness/go"], events
assert stats and not quit_now and window.keys == [] and all(e.t == 1.5 for e in events)
limits = control.ControlLimits(scenes=(control.SceneSpec("a", 5.0), control.SceneSpec("b", None),
                                       control.SceneSpec("c", 5.0)))
state = control.initial_state(0.0)
for event in events[:4]:
    state = control.apply(state, event, limits)
assert state.paused and state.scene.index == 1  # paused; next, next, prev: scene b (a hold)
state = control.apply(state, events[4], limits)
assert state.scene.index == 2  # GO leaves the hold
window.keys.extend([glfw.KEY_S, glfw.KEY_S, glfw.KEY_ESCAPE])
events, quit_now, stats = _key_controls(window, 2.0)
assert events == [] and quit_now and not stats
window.keys.append(glfw.KEY_Q)
assert _key_controls(window, 2.0)[1]
window.keys.append(glfw.KEY_F)                     # as the key callback records a press
events, quit_now, stats = _key_controls(window, 0.0)
assert events == [] and not quit_now and not stats and window.keys == []
assert window.fullscreen
assert settle(window, monitor) == monitor, (glfw.get_window_size(window.window), monitor)
# the 160x90 frame is shown scaled to fit the monitor, its aspect kept, black around it (from the next frame on:
# the drawable takes its new size at a swap)
window.finish()
quadrants = {(0, 0): (255, 0, 0), (80, 0): (0, 255, 0), (0, 45): (0, 0, 255), (80, 45): (255, 255, 0)}
window.begin()
for (x, y), rgb in quadrants.items():  # (x, y) from the top left; GL counts rows from the bottom
    window.fbo.clear(*(c / 255 for c in rgb), 1.0, viewport=(x, 90 - y - 45, 80, 45))
window.present()
shown = window.read_screen().astype(int)
assert shown.shape == (monitor[1], monitor[0], 3), shown.shape
scale = min(monitor[0] / 160, monitor[1] / 90)
want_w, want_h = 160 * scale, 90 * scale
rows, cols = np.nonzero(shown.sum(axis=2))
assert abs(cols.max() + 1 - cols.min() - want_w) <= 1 and abs(rows.max() + 1 - rows.min() - want_h) <= 1
assert abs(cols.min() - (monitor[0] - want_w) / 2) <= 1 and abs(rows.min() - (monitor[1] - want_h) / 2) <= 1
for (x, y), rgb in quadrants.items():
    cx, cy = cols.min() + (x + 40) * scale, rows.min() + (y + 22) * scale
    assert tuple(shown[int(cy), int(cx)]) == rgb, ((x, y), shown[int(cy), int(cx)], rgb)
assert window.toggle_fullscreen() is False and not window.fullscreen
assert settle(window, (160, 90)) == (160, 90)
window.monitor_index = 7                           # a monitor the display does not have: logged, nothing changes
assert window.toggle_fullscreen() is False and not window.fullscreen
window.finish()
window.release()
print("ok")
"""


@pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="needs a display (the test command runs under xvfb-run)")
def test_f_fills_the_monitor_and_comes_back():
    # A GLX window cannot share a process with EGL under Mesa: the window runs in a child process.
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr
    assert "the display reports no monitor 7 to fill" in done.stderr


def test_fit_inside_keeps_the_aspect_and_centres():
    from installation.outputs import fit_inside

    assert fit_inside((1920, 1200), (1920, 1080)) == (0, 60, 1920, 1080)  # bars above and below
    assert fit_inside((1280, 1024), (1920, 1080)) == (0, 152, 1280, 720)
    assert fit_inside((1440, 1080), (1080, 1080)) == (180, 0, 1080, 1080)  # bars at the sides
    assert fit_inside((3840, 2160), (1920, 1080)) == (0, 0, 3840, 2160)  # scaled up, exactly
    for screen, picture in (((641, 479), (160, 90)), ((1366, 768), (1024, 1024)), ((800, 600), (7, 3))):
        x, y, w, h = fit_inside(screen, picture)
        assert 0 <= x and 0 <= y and x + w <= screen[0] and y + h <= screen[1]
        assert abs(w / h - picture[0] / picture[1]) < 2 / min(w, h)  # the aspect, within a pixel's rounding
        assert w == screen[0] or h == screen[1]  # as large as fits
        assert abs(x - (screen[0] - x - w)) <= 1 and abs(y - (screen[1] - y - h)) <= 1  # centred


@pytest.mark.parametrize("command", [["show", "s.yaml"], ["preview", "registry.yaml"]])
def test_show_and_preview_share_the_window_flags(command):
    from installation.cli_window_flags import window_options
    from likeness.cli import build_parser

    parser = build_parser()
    assert window_options(parser.parse_args(command)) == {"monitor": None, "fullscreen": False, "vsync": True}
    chosen = parser.parse_args([*command, "--monitor", "1", "--fullscreen", "--no-vsync"])
    assert window_options(chosen) == {"monitor": 1, "fullscreen": True, "vsync": False}
