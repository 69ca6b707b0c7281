"""benchmarks/export_speed.py runs end to end on the CPU with --tiny (its figures come from full runs): the encode
half on synthetic frames, and the whole export of the 4x3 grid show of 12 models, whose films must decode."""

import json
import os
import subprocess
import sys

import av
import pytest

from conftest import ROOT


def rate_agrees(frames: int, wall_s: float, frames_per_s: float) -> bool:
    """wall_s is rounded to the millisecond: the rate must lie within what that rounding allows."""
    slowest, fastest = frames / (wall_s + 0.0005), frames / max(wall_s - 0.0005, 1e-9)
    return slowest - 0.01 <= frames_per_s <= fastest + 0.01


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("export-bench")
    out, films = tmp_path / "results.jsonl", tmp_path / "films"
    env = dict(os.environ, PYTHONPATH=str(ROOT), TMPDIR=str(tmp_path))
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "export_speed.py"), "--tiny", "--out",
                             str(out), "--films", str(films)], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [json.loads(line) for line in result.stdout.splitlines()] == lines  # stdout holds the JSON lines only
    return tmp_path, lines


def test_export_speed_reports_each_codec(tiny_run):
    tmp_path, lines = tiny_run
    encode = [x for x in lines if x["half"] == "encode"]
    assert [x["codec"] for x in encode] == ["h264", "prores"]
    for x in encode:
        assert (x["width"], x["height"], x["frames"], x["tiny"]) == (128, 72, 10, True)
        assert rate_agrees(x["frames"], x["wall_s"], x["frames_per_s"])
        assert x["mbytes"] > 0 and x["cpu_ms_per_frame"] > 0
    assert not list(tmp_path.glob("likeness-bench-*"))  # the models and the encode films were cleaned up


def test_whole_export_of_the_grid_show_decodes(tiny_run):
    tmp_path, lines = tiny_run
    whole = [x for x in lines if x["half"] == "whole"]
    assert [x["codec"] for x in whole] == ["h264", "prores"]
    for x in whole:
        assert (x["width"], x["height"], x["frames"], x["tiny"]) == (320, 180, 10, True)
        assert (x["models"], x["resolution"], x["layout"], x["rate"]) == (12, 32, "grid 4x3", "30")
        assert x["frames_per_s"] > 0 and rate_agrees(x["frames"], x["wall_s"], x["frames_per_s"])
        assert x["realtime"] == pytest.approx(x["frames_per_s"] / 30, abs=0.01)
        assert x["render_s"] > 0 and x["encode_s"] > 0 and x["setup_s"] >= 0
        assert x["render_s"] + x["encode_s"] <= x["loop_s"] + 0.002  # the split lies inside the frame loop
        assert x["setup_s"] + x["loop_s"] <= x["wall_s"] + 0.002
        assert x["loop_frames_per_s"] >= x["frames_per_s"] and x["mbytes"] > 0 and x["cpu_ms_per_frame"] > 0
        film = tmp_path / "films" / f"export-{x['codec']}{'.mp4' if x['codec'] == 'h264' else '.mov'}"
        assert x["film"] == str(film)
        with av.open(str(film)) as container:
            stream = container.streams.video[0]
            assert stream.codec_context.name == x["codec"]
            decoded = list(container.decode(stream))
        assert len(decoded) == 10 and (decoded[0].width, decoded[0].height) == (320, 180)
        sidecar = json.loads((film.parent / (film.name + ".json")).read_text())
        assert sidecar["frames"] == 10 and len(sidecar["people"]) == 12
