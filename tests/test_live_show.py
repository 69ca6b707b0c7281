"""`likeness show` offscreen, steered over real UDP OSC, and `likeness export --replay` of what it recorded: the same
frames at the same show times. Also the export's frame count, size and rate decoded back, its provenance (container
comment and sidecar, included files too), and its bad input."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from evaluation.registry import read_registry, render_registry
from tests.conftest import ROOT, run_cli
from tests.render_models import make_registry
from training.hashing import file_sha256

SHOW = """\
title: Tiny test
size: 96x54
rate: 10
registry: models/registry.yaml
scenes:
  - name: windows
    duration: 2
    layout: {type: grid, rows: 1, cols: 3, gap: 4, margin: 4}
    people: all
    walk: {seeds: [1, 2, 3], seconds: 0.5, phase: 0.2}
  - name: film
    duration: 2
    layout: {type: filmstrip, frames: 3, speed: 2, step: 0.25}
    people: [bo]
    transition: {type: crossfade, seconds: 0.5}
"""


# consent notes as the gate copies them from the datasets: quotes, a newline and non-ASCII must survive the container
CONSENT = {"ana": 'Signed release 2026-11-20 ("film and gallery")', "bo": "Zoë B., verbal;\nrecorded on tape",
           "cy": "demo sitter"}


@pytest.fixture(scope="module")
def stage(tmp_path_factory):
    root = tmp_path_factory.mktemp("stage")
    registry = make_registry(root / "models", {"ana": 1, "bo": 2, "cy": 3})
    persons = read_registry(registry)
    for name, note in CONSENT.items():
        persons[name]["consent"] = note
    registry.write_bytes(render_registry(persons))
    (root / "show.yaml").write_text(SHOW)
    return root


def provenance_of(film: Path) -> dict:
    """The export's container comment, decoded back with PyAV: compact JSON naming the snapshots."""
    with av.open(str(film)) as container:
        return json.loads(container.metadata["comment"])


def assert_names_every_snapshot(stage: Path, film: Path, people: set[str]) -> None:
    """The film's container and its sidecar both name each person's snapshot, full sha256, FID and consent note."""
    snapshots = {s["person"]: s for s in provenance_of(film)["snapshots"]}
    sidecar = {s["person"]: s for s in json.loads(Path(f"{film}.json").read_text())["snapshots"]}
    assert set(snapshots) == set(sidecar) == people
    for name in people:
        sha = file_sha256(stage / "models" / f"{name}.pt")
        assert snapshots[name] == {"person": name, "snapshot": f"{name}.pt", "sha256": sha, "fid": 10.0,
                                   "consent": CONSENT[name], "approved": True}
        assert (sidecar[name]["sha256"], sidecar[name]["fid"], sidecar[name]["consent"]) == (sha, 10.0, CONSENT[name])


def free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def frames_of(folder: Path) -> dict[int, np.ndarray]:
    return {int(p.stem.split("-")[-1]): np.asarray(Image.open(p)) for p in sorted(folder.glob("*.png"))}


def test_a_live_performance_replays_to_the_same_frames(stage):
    from pythonosc.udp_client import SimpleUDPClient

    # a looping show, so every frame draws windows and the show is still running however fast the machine is
    (stage / "loop.yaml").write_text(SHOW.replace("rate: 10\n", "rate: 10\nloop: true\n"))
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    live = subprocess.Popen([sys.executable, "-m", "likeness", "show", "loop.yaml", "--offscreen", "--frames", "200",
                             "--clock", "frames", "--osc", f"127.0.0.1:{port}", "--performances", "perf",
                             "--save-frames", "live"], cwd=stage, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert "playing" in live.stdout.readline()
        client = SimpleUDPClient("127.0.0.1", port)
        client.send_message("/likeness/speed", [3.0, 0.5])
        time.sleep(0.5)
        client.send_message("/likeness/nonsense", [1])  # logged and ignored
        with open("/dev/urandom", "rb") as noise:  # garbage datagrams do not stop the show
            import socket

            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                for _ in range(20):
                    s.sendto(noise.read(37), ("127.0.0.1", port))
        client.send_message("/likeness/scene/next", [])
        time.sleep(0.5)
        client.send_message("/likeness/fade", [0.5])
        out, err = live.communicate(timeout=400)
    finally:
        live.kill()
    assert live.returncode == 0, err
    logs = list((stage / "perf").glob("*.jsonl"))
    records = [json.loads(line) for line in logs[0].read_text().splitlines()[1:]]
    addresses = [r["address"] for r in records]
    assert "/likeness/speed" in addresses and "/likeness/scene/next" in addresses
    assert "/likeness/nonsense" not in addresses
    shown = frames_of(stage / "live")
    assert len(shown) == 200
    replayed = run_cli("export", "loop.yaml", "-o", "replay", "--codec", "png", "--replay", str(logs[0]), "--to",
                       "20", "-q", cwd=stage)
    assert replayed.returncode == 0, replayed.stderr
    exported = frames_of(stage / "replay")
    changed = [r["t"] for r in records]
    check = sorted({0, 5, 199, *[min(199, round(t * 10) + d) for t in changed for d in (0, 1, 3)]})
    for k in check:
        assert np.array_equal(shown[k], exported[k]), f"frame {k} differs"
    plain = run_cli("export", "loop.yaml", "-o", "plain", "--codec", "png", "--to", "20", "-q", cwd=stage)
    assert plain.returncode == 0, plain.stderr
    unsteered = frames_of(stage / "plain")
    steered = [k for k in range(200) if not np.array_equal(unsteered[k], exported[k])]
    assert steered and min(steered) >= round(changed[0] * 10)  # the performance changed what was drawn, from then on


def test_a_stopped_show_ends_cleanly_and_says_how_to_film_the_performance(stage):
    """SIGTERM (a gallery's scheduler at closing time) ends the show as q does: exit 0, the log kept whole, and the
    closing line names the replay command for this log."""
    import signal

    from pythonosc.udp_client import SimpleUDPClient

    (stage / "forever.yaml").write_text(SHOW.replace("rate: 10\n", "rate: 10\nloop: true\n"))
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    live = subprocess.Popen([sys.executable, "-m", "likeness", "show", "forever.yaml", "--offscreen", "--frames",
                             "1000000", "--osc", f"127.0.0.1:{port}", "--performances", "stopped"], cwd=stage,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "playing" in live.stdout.readline()
        SimpleUDPClient("127.0.0.1", port).send_message("/likeness/scene/next", [])
        time.sleep(1.5)
        live.send_signal(signal.SIGTERM)
        out, err = live.communicate(timeout=60)
    finally:
        live.kill()
    assert live.returncode == 0, err
    log = next((stage / "stopped").glob("*.jsonl"))
    assert [json.loads(line)["address"] for line in log.read_text().splitlines()[1:]] == ["/likeness/scene/next"]
    lines = out.splitlines()
    assert "stopped (Ctrl-C or SIGTERM)" in lines
    assert lines[-1].startswith("played ") and f"likeness export forever.yaml --replay {log.relative_to(stage)}" in \
        lines[-1], out
    frames = int(lines[-1].split()[1])
    assert 1 <= frames < 1000000


def test_the_wall_clock_show_draws_the_exports_frames_and_keeps_to_the_shows_rate(stage):
    """Offscreen, nothing paces the loop but the show's rate (as with a window whose vsync does nothing): it neither
    runs ahead of the clock nor draws a frame twice, and each frame it draws is that frame of the export, bit for
    bit."""
    run = run_cli("show", "show.yaml", "--offscreen", "--frames", "8", "--save-frames", "paced", "--osc",
                  f"127.0.0.1:{free_port()}", "--performances", "paced-log", cwd=stage)
    assert run.returncode == 0, run.stderr
    shown = frames_of(stage / "paced")
    assert len(shown) == 8  # eight frames drawn: eight different frames of the show
    words = run.stdout.splitlines()[-1].split()  # played 8 frames to show time T s, D dropped; ...
    show_time, dropped = float(words[words.index("time") + 1]), int(words[words.index("dropped;") - 1])
    assert max(shown) == 7 + dropped and max(shown) <= show_time * 10 + 0.5  # none drawn before its time came
    end = str(max(shown) / 10 + 0.05)
    exported = run_cli("export", "show.yaml", "-o", "paced-export", "--codec", "png", "--to", end, "-q", cwd=stage)
    assert exported.returncode == 0, exported.stderr
    film = frames_of(stage / "paced-export")
    for k, frame in shown.items():
        assert np.array_equal(frame, film[k]), f"frame {k} differs"


def test_an_export_decodes_to_the_shows_frames(stage):
    result = run_cli("export", "show.yaml", "-o", "film.mp4", "-q", "--size", "192x108", cwd=stage)
    assert result.returncode == 0, result.stderr
    with av.open(str(stage / "film.mp4")) as film:
        stream = film.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in film.decode(stream)]
        assert stream.average_rate == 10 and (stream.width, stream.height) == (192, 108)
    assert len(frames) == 40  # 4 s at 10 fps, exactly
    assert frames[5].std() > 5 and frames[35].std() > 5  # the windows are not empty
    sidecar = json.loads((stage / "film.mp4.json").read_text())
    assert sidecar["frames"] == 40 and sidecar["show"]["text"] == SHOW and sidecar["show"]["includes"] == {}
    assert sidecar["kind"] == "show-export"
    with av.open(str(stage / "film.mp4")) as film:
        assert film.metadata["title"] == "Tiny test" and film.metadata["artist"] == "ana, bo, cy"
    assert provenance_of(stage / "film.mp4")["show"] == "show.yaml"
    assert_names_every_snapshot(stage, stage / "film.mp4", {"ana", "bo", "cy"})


def test_an_exports_sidecar_holds_every_included_file_so_the_show_can_be_made_again(stage, tmp_path):
    from installation.show_check import check_show

    parts = {"parts/look.yaml": "defaults:\n  walk: {seeds: [4, 5], seconds: 0.5}\ninclude: [../deeper/reg.yaml]\n",
             "deeper/reg.yaml": "registry: ../models/registry.yaml\n",
             "parts/opening.yaml": "- {name: opening, duration: 0.5, layout: single, people: [ana, bo]}\n"}
    for name, text in parts.items():
        (stage / name).parent.mkdir(parents=True, exist_ok=True)
        (stage / name).write_text(text)
    main = "title: Parts\nsize: 64x36\nrate: 10\ninclude: [parts/look.yaml]\nscenes:\n  - include: parts/opening.yaml\n"
    (stage / "parts.yaml").write_text(main)
    result = run_cli("export", "parts.yaml", "-o", "parts.mov", "-q", cwd=stage)
    assert result.returncode == 0, result.stderr
    assert_names_every_snapshot(stage, stage / "parts.mov", {"ana", "bo"})
    sidecar = json.loads((stage / "parts.mov.json").read_text())
    assert sidecar["show"]["text"] == main
    assert sidecar["show"]["includes"] == parts
    # the sidecar alone makes the same show again elsewhere (given the registry)
    for name, text in {"parts.yaml": sidecar["show"]["text"], **sidecar["show"]["includes"]}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    again, first = check_show(tmp_path / "parts.yaml", registry=stage / "models" / "registry.yaml"), check_show(
        stage / "parts.yaml")
    assert again.scenes == first.scenes and again.included == first.included and len(first.included) == 3


@pytest.mark.parametrize("args,message", [
    (["-o", "missing/film.mp4"], "does not exist"),
    (["-o", "x.mp4", "--codec", "prores"], ".mov"),
    (["-o", "x.mp4", "--from", "9"], "nothing to export"),
    (["-o", "x.mp4", "--replay", "nope.jsonl"], "nope.jsonl does not exist"),
])
def test_export_bad_input_is_one_line(stage, args, message):
    result = run_cli("export", "show.yaml", *args, cwd=stage)
    assert result.returncode != 0 and message in result.stderr.strip().splitlines()[-1], result.stderr
    assert "Traceback" not in result.stderr
    assert not (stage / "x.mp4").exists()


def test_show_offscreen_needs_a_frame_count(stage):
    result = run_cli("show", "show.yaml", "--offscreen", cwd=stage)
    assert result.returncode == 2 and "--frames N" in result.stderr


def test_the_storyboard_shows_each_scene_at_its_times(stage):
    from installation import control
    from installation.model_pool import ModelPool
    from installation.outputs import OffscreenOutput
    from installation.renderer import Renderer
    from installation.show_check import check_show
    from installation.show_frame import ShowFrames, render
    from installation.storyboard import TILE_LABEL, storyboard_times

    result = run_cli("check", "show.yaml", "--storyboard", "board.png", "--per-scene", "2", cwd=stage)
    assert result.returncode == 0, result.stderr
    sheet = np.asarray(Image.open(stage / "board.png").convert("RGB"))
    show = check_show(stage / "show.yaml")
    moments = storyboard_times(show, 2)
    assert [name for name, _ in moments] == ["windows", "windows", "film", "film"]
    assert sheet.shape == (2 * (180 + TILE_LABEL), 2 * 320, 3)
    out = OffscreenOutput(320, 180)
    renderer = Renderer(ModelPool.from_registry(show.registry), out)
    name, t = moments[3]
    render(ShowFrames(show, (320, 180)), renderer, control.initial_state(0.0), t)
    tile = sheet[180 + TILE_LABEL:2 * 180 + TILE_LABEL, 320:640]
    assert np.array_equal(tile, out.read_rgb()) and tile.std() > 5
