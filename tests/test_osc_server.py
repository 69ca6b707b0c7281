"""The OSC input over real UDP on loopback: python-osc's client and `likeness osc` send, the drained events fold
into a ControlState; bursts, garbage, the allow-list, status replies, timetagged bundles, the performance log and
OSCQuery over HTTP."""

import json
import math
import socket
import time
import urllib.request
from fractions import Fraction

import numpy as np
import pytest
from pythonosc.osc_bundle_builder import OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.parsing.osc_types import IMMEDIATELY
from pythonosc.udp_client import SimpleUDPClient

from installation.control import (ControlEvent, ControlLimits, Replay, SceneSpec, apply, fold, initial_state,
                                  person_for, value_at)
from installation.osc_publish import OscQueryServer, current_values, oscquery_tree
from installation.net_address import parse_host_port
from installation.osc_server import OscServer, Status
from installation.performance_log import PerformanceLog, read_performance
from tests.conftest import run_cli
from training.errors import DataError, UsageError

LIMITS = ControlLimits((SceneSpec("intro", Fraction(10)), SceneSpec("wait", None), SceneSpec("finale", Fraction(5))),
                       windows=4, people=("ann", "bob"), directions=3)


def wait_until(condition, seconds: float = 20.0) -> None:
    """Give the server thread time to read what was sent (a wait, not a timing assertion)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the server did not receive what was sent")
        time.sleep(0.005)


@pytest.fixture
def server():
    show_time = {"t": 5.0}
    status = Status(1, "wait", 12.5, 29.97, 3)
    with OscServer(LIMITS, lambda: show_time["t"], port=0, status=lambda: status) as srv:
        srv.show_time = show_time
        yield srv


def client(srv) -> SimpleUDPClient:
    return SimpleUDPClient(*srv.address)


def test_messages_from_python_osc_fold_into_state(server):
    c = client(server)
    c.send_message("/likeness/scene/goto", "finale")
    c.send_message("/likeness/speed", [0.5, 2.0])
    c.send_message("/likeness/window/person", [2, "bob"])
    c.send_message("/likeness/grid/cols", 3.0)          # a whole float, as many controllers send
    c.send_message("/likeness/blackout", True)
    wait_until(lambda: server.pending() == 5)
    events = server.drain(5.0)
    assert [e.address.rsplit("/likeness/", 1)[1] for e in events] == ["scene/goto", "speed", "window/person",
                                                                        "grid/cols", "blackout"]
    state = fold(events, LIMITS, initial_state())
    assert state.scene.index == 2 and person_for(state, 2) == "bob" and state.grid_cols == 3 and state.blackout
    assert value_at(state.speed, 6.0) == pytest.approx(0.75)   # halfway through the glide from 1 to 0.5
    assert server.drain(5.0) == []


def test_likeness_osc_sends_and_status_replies(server):
    host, port = server.address
    result = run_cli("osc", "direction/1", "-2.5", "1", "--to", f"{host}:{port}")
    assert result.returncode == 0, result.stderr
    wait_until(lambda: server.pending() == 1)
    [event] = server.drain(5.0)
    assert event == ControlEvent(5.0, "/likeness/direction/1", (-2.5, 1))
    status = run_cli("osc", "status", "--to", f"{host}:{port}")
    assert status.returncode == 0, status.stderr
    assert status.stdout.strip() == "scene 1 'wait', show time 12.500 s, 29.97 fps, 3 dropped frames"
    assert server.pending() == 0                       # status changes nothing
    wrong = run_cli("osc", "/likeness/sped", "1", "--to", f"{host}:{port}")
    assert wrong.returncode == 2 and "did you mean /likeness/speed?" in wrong.stderr
    far = run_cli("osc", "volume", "1", "--to", f"{host}:{port}")  # like no control: no guess, the reference instead
    assert far.returncode == 2 and "did you mean" not in far.stderr and "OSC address space" in far.stderr


def test_burst_of_2000_arrives_complete(server):
    c = client(server)
    for i in range(2000):
        c.send_message("/likeness/reseed", i)
    wait_until(lambda: server.pending() == 2000)
    events = server.drain(5.0)
    assert [e.args[0] for e in events] == list(range(2000))
    assert fold(events, LIMITS).reseed == 1999


def test_garbage_and_malformed_osc_do_not_stop_it(server):
    rng = np.random.default_rng(0)
    bad = [rng.bytes(int(n)) for n in rng.integers(1, 600, 200)]
    bad += [b"", b"/likeness/speed\x00", b"/likeness/speed\x00,f\x00\x00\x01", b"#bundle\x00" + b"\xff" * 12,
            b"#bundle\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x40/x", b"\x00" * 64]
    c = client(server)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
        for packet in bad:
            raw.sendto(packet, server.address)
    c.send_message("/likeness/nowhere", 1)                     # unknown address
    c.send_message("/likeness/speed", "fast")                  # wrong type
    c.send_message("/likeness/speed", [1.0, 2.0, 3.0])         # wrong count
    c.send_message("/likeness/speed", 99.0)                    # out of range
    c.send_message("/likeness/window/person", [0, "../../etc/passwd"])   # not a person of this show
    c.send_message("/likeness/direction/3", 1.0)               # this show has directions 0..2
    c.send_message("/likeness/freeze", 1)
    wait_until(lambda: server.pending() == 1)
    assert [e.address for e in server.drain(5.0)] == ["/likeness/freeze"]
    totals = server.refusals.totals
    assert totals["malformed packet"] >= 150 and totals["unknown address"] == 1
    assert totals["wrong arguments"] == 3 and totals["out of range"] == 3   # the bare "/likeness/speed" has no value


def test_packets_from_outside_the_allow_list_change_nothing():
    with OscServer(LIMITS, lambda: 1.0, host="127.0.0.1", port=0, allow=["127.0.0.2/32"]) as srv:
        builder = OscMessageBuilder("/likeness/blackout")
        builder.add_arg(1)
        dgram = builder.build().dgram
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as outsider:
            outsider.bind(("127.0.0.1", 0))
            outsider.sendto(dgram, srv.address)
            wait_until(lambda: srv.dropped_foreign == 1)
        assert srv.pending() == 0 and fold(srv.drain(1e9), LIMITS) == initial_state()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as insider:
            insider.bind(("127.0.0.2", 0))
            insider.sendto(dgram, srv.address)
            wait_until(lambda: srv.pending() == 1)
        assert fold(srv.drain(1e9), LIMITS).blackout and srv.dropped_foreign == 1


def test_binding_beyond_loopback_needs_an_allow_list():
    with pytest.raises(UsageError, match="--osc-allow"):
        OscServer(LIMITS, lambda: 0.0, host="0.0.0.0", port=0)
    assert parse_host_port("10.0.0.5:9001") == ("10.0.0.5", 9001) and parse_host_port("9002") == ("127.0.0.1", 9002)
    with pytest.raises(ValueError):
        parse_host_port("show.local:9000")


def test_bundles_immediate_and_future_timetags(server):
    def bundle(timetag, *names):
        b = OscBundleBuilder(timetag)
        for name in names:
            m = OscMessageBuilder("/likeness/" + name)
            m.add_arg(1)
            b.add_content(m.build())
        return b.build().dgram

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(bundle(IMMEDIATELY, "freeze", "blackout"), server.address)
        s.sendto(bundle(time.time() + 100.0, "pause"), server.address)
        wait_until(lambda: server.pending() == 3)
    now = [e.address for e in server.drain(5.0)]
    assert now == ["/likeness/freeze", "/likeness/blackout"]
    assert server.drain(50.0) == [] and server.pending() == 1   # held: due 100 s of show time from now
    [later] = server.drain(1e9)
    assert later.address == "/likeness/pause" and later.t == pytest.approx(105.0, abs=5.0)


def test_performance_log_round_trip_and_malformed_lines(tmp_path, server):
    log = PerformanceLog.in_folder(tmp_path / "performances", header={"show": "test.yaml"})
    server.performance_log = log
    c = client(server)
    for name, args in (("speed", [0.25, 3.0]), ("scene/goto", "finale"), ("window/person", [1, "ann"]),
                       ("pause", []), ("reseed", [])):
        c.send_message("/likeness/" + name, args)
    wait_until(lambda: server.pending() == 5)
    applied = server.drain(5.0)
    log.close()
    [path] = list((tmp_path / "performances").glob("*.jsonl"))
    assert read_performance(path) == applied
    with pytest.raises(UsageError, match="never overwritten"):
        PerformanceLog(path)
    lines = path.read_text().splitlines()
    for broken, why in (('{"t": 1, "address": "/likeness/speed"}', "exactly t, address and args"),
                        ('{"t": 1, "address": "/likeness/open", "args": ["x.py"]}', "unknown address"),
                        ('{"t": 0.5, "address": "/likeness/speed", "args": [1.0]}', "goes back"),
                        ("not json", "not JSON")):
        bad = tmp_path / "bad.jsonl"
        bad.write_text("\n".join(lines[:3] + [broken] + lines[3:]) + "\n")
        with pytest.raises(DataError, match=f"bad.jsonl:4: .*{why}"):
            read_performance(bad)


def test_oscquery_json_over_http(server):
    state = fold([ControlEvent(1.0, "/likeness/speed", (2.0,)), ControlEvent(1.0, "/likeness/direction/1", (0.5,))],
                 LIMITS)
    with OscQueryServer(0, lambda: oscquery_tree(LIMITS, current_values(state, 2.0, LIMITS)),
                        osc_port=server.address[1]) as query:
        base = f"http://127.0.0.1:{query.port}"
        tree = json.load(urllib.request.urlopen(base + "/"))
        speed = json.load(urllib.request.urlopen(base + "/likeness/speed"))
        info = json.load(urllib.request.urlopen(base + "/?HOST_INFO"))
    likeness = tree["CONTENTS"]["likeness"]["CONTENTS"]
    assert speed == likeness["speed"]
    assert speed["TYPE"] == "ff" and speed["RANGE"] == [{"MIN": 0.0, "MAX": 16.0}, {"MIN": 0.0, "MAX": 600.0}]
    assert speed["VALUE"] == [2.0, None] and likeness["direction"]["CONTENTS"]["1"]["VALUE"] == [0.5, None]
    assert likeness["scene"]["CONTENTS"]["goto"]["VALUE"] == [0] and likeness["pause"]["VALUE"] == [0]
    assert sorted(likeness["direction"]["CONTENTS"]) == ["0", "1", "2"]
    assert likeness["window"]["CONTENTS"]["person"]["RANGE"][1] == {"VALS": ["ann", "bob"]}
    assert "in" in likeness["fade"]["CONTENTS"] and likeness["fade"]["TYPE"] == "f"
    assert info["OSC_PORT"] == server.address[1] and info["OSC_TRANSPORT"] == "UDP"


def test_an_event_that_raced_a_frame_is_restamped_after_it_and_replays_the_same(tmp_path, server):
    log = PerformanceLog(tmp_path / "p.jsonl")
    server.performance_log = log
    c = client(server)
    c.send_message("/likeness/speed", [2.0, 1.0])
    wait_until(lambda: server.pending() == 1)
    live = initial_state()
    frames = []
    for event in server.drain(10.0):                 # the frame at show time 10 applies it (stamped 5)
        live = apply(live, event, LIMITS)
    frames.append((10.0, live))
    server.show_time["t"] = 9.0                      # stamped before the last frame's time: it raced that frame
    c.send_message("/likeness/truncation", [0.5, 2.0])
    wait_until(lambda: server.pending() == 1)
    [late] = server.drain(10.5)
    assert late.t == math.nextafter(10.0, math.inf)
    live = apply(live, late, LIMITS)
    frames.append((10.5, live))
    log.close()
    replay = Replay(read_performance(tmp_path / "p.jsonl"), LIMITS)
    for t, state in frames:
        assert replay.state_at(t) == state
    assert value_at(live.truncation, 11.0) == pytest.approx(0.5 + 0.5 * (1 - 0.5 ** 2 * (3 - 2 * 0.5)), abs=1e-6)
