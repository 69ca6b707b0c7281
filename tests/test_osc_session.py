"""The pieces `likeness show` plugs in: its OSC flags and session, the rate-limited refusal log, and the docs
section of shows/README.md, which must be what the address-space table generates."""

import json
import logging
import time
import urllib.request
from fractions import Fraction
from pathlib import Path

import pytest
from pythonosc.udp_client import SimpleUDPClient

from installation.control import ControlLimits, SceneSpec, fold
from installation.osc_publish import HEADING, markdown_section, replace_section
from installation.osc_server import RefusalLog
from installation.cli_osc_flags import add_osc_flags, settings_from
from installation.osc_session import open_session
from installation.osc_space import ADDRESSES
from installation.performance_log import read_performance
from training.cli_common import CommandParser

ROOT = Path(__file__).resolve().parents[1]
LIMITS = ControlLimits((SceneSpec("one", Fraction(4)), SceneSpec("two", None)), directions=2)


def test_shows_readme_section_is_generated_from_the_table():
    text = (ROOT / "shows" / "README.md").read_text(encoding="utf-8")
    start = text.index(HEADING + "\n")
    end = text.find("\n## ", start + 1)
    assert text[start:end + 1 if end >= 0 else None] == markdown_section(), \
        "shows/README.md is stale: run `python -m installation.osc_publish shows/README.md`"
    for row in ADDRESSES:
        assert f"`{row.full}" in text


def test_replace_section_keeps_the_other_sections():
    other = "# Shows\n\nThe format.\n\n## Show format\n\nscenes...\n"
    once = replace_section(other, markdown_section())
    assert once.startswith(other) and once.endswith(markdown_section())
    twice = replace_section(once + "\n## Later\n\nmore\n", "## OSC address space\n\nnew\n")
    assert twice == other + "\n## OSC address space\n\nnew\n\n## Later\n\nmore\n"


def test_refusals_are_logged_once_per_kind_per_interval_with_counts(caplog):
    now = {"t": 0.0}
    log = RefusalLog(interval=5.0, clock=lambda: now["t"])
    with caplog.at_level(logging.WARNING, logger="likeness.osc"):
        for i in range(10):
            log.note("out of range", f"value {i}")
        log.note("unknown address", "x")
        now["t"] = 6.0
        log.note("out of range", "value 10")
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["OSC ignored: value 0", "OSC ignored: x",
                     "OSC ignored: value 10 (10 out of range since the last such line)"]
    assert log.totals == {"out of range": 11, "unknown address": 1}


def test_session_from_flags_logs_what_it_hands_out(tmp_path):
    parser = CommandParser(prog="likeness show")
    add_osc_flags(parser)
    args = parser.parse_args(["--osc", "127.0.0.1:0", "--oscquery", "0", "--performances", str(tmp_path / "perf")])
    with open_session(settings_from(args), LIMITS, clock=lambda: 2.0) as osc:
        assert "OSC on 127.0.0.1:" in osc.summary() and "receive buffer" in osc.summary()
        SimpleUDPClient(*osc.server.address).send_message("/likeness/direction/1", [1.5, 2.0])
        deadline = time.monotonic() + 20
        while osc.server.pending() < 1 and time.monotonic() < deadline:
            time.sleep(0.005)
        events = osc.drain(2.0)
        tree = json.load(urllib.request.urlopen(f"http://127.0.0.1:{osc.query.port}/likeness/direction/1"))
        log_path = osc.log.path
    assert fold(events, LIMITS).directions[0][1].target == 1.5
    assert tree["TYPE"] == "ff" and tree["RANGE"][0] == {"MIN": -20.0, "MAX": 20.0}
    assert read_performance(log_path) == events


@pytest.mark.parametrize("argv,message", [(["--osc", "0.0.0.0:9000x"], "--osc"),
                                          (["--osc-allow", "192.168.1.300/24"], "--osc-allow")])
def test_bad_osc_flags_are_refused_in_one_line(argv, message, capsys):
    parser = CommandParser(prog="likeness show")
    add_osc_flags(parser)
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1 and message in err


@pytest.mark.parametrize("argv,message", [(["osc", "speed", "1", "--to", "nowhere"], "--to: 'nowhere' is not HOST"),
                                          (["osc", "speed", "fast"], "expected a number, got 'fast'"),
                                          (["osc", "scene/goto"], "expected 1 argument, got 0")])
def test_likeness_osc_refuses_in_one_line(argv, message, capsys):
    from likeness.cli import main

    try:
        code = main(argv)
    except SystemExit as exit_info:
        code = exit_info.code
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and message in err
