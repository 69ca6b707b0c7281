"""benchmarks/render_speed.py --tiny runs end to end and reports every case."""

import json
import subprocess
import sys

from tests.conftest import ROOT


def test_render_speed_tiny_reports_each_case(tmp_path):
    out = tmp_path / "render.jsonl"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "render_speed.py"), "--tiny", "--cases",
                           "single", "filmstrip", "--upload", "pbo", "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["case"] for line in lines] == ["single", "filmstrip"]
    assert lines[0]["windows"] == 1 and lines[1]["windows"] > 8
    assert all(line["upload"] == "pbo" for line in lines)
    assert all(line["fps"] > 0 and line["p99_ms"] >= line["p50_ms"] for line in lines)


def test_cross_model_batch_tiny_times_both_ways_on_the_same_images(tmp_path):
    out = tmp_path / "cross.jsonl"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "cross_model_batch.py"), "--tiny", "--models",
                           "3", "--batches", "1", "2", "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(line["models"], line["batch"]) for line in lines] == [(3, 1), (3, 2)]
    for line in lines:
        assert line["per_model_ms"] > 0 and line["stacked_ms"] > 0
        assert abs(line["ratio"] - line["per_model_ms"] / line["stacked_ms"]) < 0.01
        assert line["max_grey_difference"] <= 1  # the two ways draw the same images
