"""`likeness show --watch`: a live show (offscreen, real process, real files, real UDP status) keeps playing
through an edit that fails the check, says where each problem is, and takes over a passing edit at the next scene
boundary. Also the control state carried over a switch, against scene positions worked out by hand."""

import os
import socket
import subprocess
import sys
import threading
import time
from fractions import Fraction

from tests.conftest import ROOT
from tests.render_models import make_registry

SHOW = """\
title: Watched
size: 96x54
rate: 10
loop: true
registry: models/registry.yaml
include: [look.yaml]
scenes:
  - name: one
    duration: 1
    layout: {type: grid, rows: 1, cols: 3}
  - name: two
    duration: 1
    layout: single
"""

LOOK = """\
defaults:
  walk: {seeds: [1, 2], seconds: 0.5}
"""


def wait_for(condition, what: str, timeout: float = 180.0, log: list | None = None):
    """Poll `condition` until it gives something true; a generous timeout for a slow shared machine."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}" + (f"; stderr: {''.join(log[-20:])}" if log else ""))


def status(port: int) -> tuple:
    """The show's /likeness/status reply: (scene index, scene name, show time, fps, dropped)."""
    from pythonosc.osc_message import OscMessage
    from pythonosc.osc_message_builder import OscMessageBuilder

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(10)
        s.sendto(OscMessageBuilder("/likeness/status").build().dgram, ("127.0.0.1", port))
        return tuple(OscMessage(s.recvfrom(65536)[0]).params)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def replace_file(path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def test_a_watched_show_survives_a_broken_edit_and_switches_to_a_fixed_one(tmp_path):
    make_registry(tmp_path / "models", {"ana": 1, "bo": 2})
    show, look = tmp_path / "show.yaml", tmp_path / "look.yaml"
    show.write_text(SHOW)
    look.write_text(LOOK)
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    live = subprocess.Popen([sys.executable, "-m", "likeness", "show", "show.yaml", "--watch", "--offscreen",
                             "--frames", "10000000", "--clock", "frames", "--osc", f"127.0.0.1:{port}",
                             "--performances", "perf"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    errors: list[str] = []
    reader = threading.Thread(target=lambda: errors.extend(iter(live.stderr.readline, "")), daemon=True)
    reader.start()
    try:
        assert "watching 2 file(s)" in live.stdout.readline()
        wait_for(lambda: status(port)[1] == "two", "the show to reach its second scene")

        # an unknown key in the included file: logged at its place, once; the show plays on, as it was
        replace_file(look, LOOK.replace("seconds:", "secnds:"))
        line = LOOK.splitlines()[1]
        where = f"look.yaml:2:{line.index('seconds') + 1}: unknown key 'secnds' in walk (did you mean 'seconds'?)"
        wait_for(lambda: any(where in e for e in errors), "the problem at its FILE:LINE:COLUMN", log=errors)
        before = status(port)[2]
        wait_for(lambda: status(port)[2] > before + 2, "the show to play on")  # more than a whole loop
        names = {wait_for(lambda: status(port), "a status")[1] for _ in range(20)}
        assert names <= {"one", "two"}
        time.sleep(4 * 0.5)  # several polls of the unchanged broken file (a window to look in, not a timing check)
        assert sum(where in e for e in errors) == 1, errors  # reported once per edit, not once per poll

        # fixed, and the second scene renamed: taken over at a scene boundary
        replace_file(look, LOOK)
        replace_file(show, SHOW.replace("name: two", "name: deux"))
        wait_for(lambda: any("switching at the next scene boundary" in e for e in errors), "the edit to be taken", log=errors)
        wait_for(lambda: any("switched to the edited show.yaml" in e for e in errors), "the switch", log=errors)
        wait_for(lambda: status(port)[1] == "deux", "the renamed scene to play")
        switched = next(e for e in errors if "switched to the edited" in e)
        seconds = float(switched.split(" at ")[1].split(" s:")[0])
        assert Fraction(seconds).limit_denominator(10) % 1 == 0  # at a boundary: scenes are 1 s long, at 10 frames/s
        assert live.poll() is None, errors  # still playing
    finally:
        live.kill()
        live.wait(timeout=60)


def test_the_state_carried_over_finds_scenes_by_name_then_by_place(tmp_path):
    from installation import control
    from installation.show_check import check_show
    from installation.show_frame import limits_for
    from installation.show_watch import carry_over

    make_registry(tmp_path / "models", {"ana": 1})
    (tmp_path / "look.yaml").write_text(LOOK)
    old_path, new_path = tmp_path / "show.yaml", tmp_path / "new.yaml"
    old_path.write_text(SHOW)
    new_path.write_text(SHOW.replace("scenes:\n", "scenes:\n  - {name: zero, duration: 3}\n")
                        .replace("name: one", "name: uno"))
    old, new = check_show(old_path), check_show(new_path)
    assert [s.name for s in new.scenes] == ["zero", "uno", "two"]
    limits = limits_for(old)
    steered = control.apply(control.initial_state(0.0), control.ControlEvent(0.2, "/likeness/speed", (2.0,)), limits)
    settled = control.settle(steered, 1.05, limits)
    assert settled.scene == control.SceneAnchor(1, 1.0, 0)  # 'two', from 'one'
    carried = carry_over(settled, 1.05, old, new)
    # 'two' is found by name (index 2); 'one' is gone (renamed), so the transition comes from nothing
    assert carried.scene == control.SceneAnchor(2, 1.0, None) and carried.speed == settled.speed
    wrapped = control.settle(steered, 2.0, limits)  # the loop back to 'one', which the new show calls 'uno'
    assert carry_over(wrapped, 2.0, old, new).scene == control.SceneAnchor(0, 2.0, 2)  # by place
