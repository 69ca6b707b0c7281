"""The GPU benchmarks run end to end on the CPU with --tiny (their figures come from a GPU, never from here)."""

import json
import math
import os
import subprocess
import sys

from conftest import ROOT


def run_script(name: str, tmp_path, *args: str) -> list[dict]:
    env = dict(os.environ, OMP_NUM_THREADS="1", LIKENESS_CACHE=str(tmp_path / "cache"), TMPDIR=str(tmp_path))
    out = tmp_path / "results.jsonl"
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / name), "--tiny", "--out", str(out), *args],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    printed = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert printed == lines
    return lines


def test_train_speed_reports_sec_per_kimg_after_warmup(tmp_path):
    (line,) = run_script("train_speed.py", tmp_path)
    assert line["benchmark"] == "train_speed" and line["tiny"] is True
    assert line["sec_per_kimg"] > 0 and line["img_per_s"] > 0
    assert abs(line["sec_per_kimg"] * line["img_per_s"] - 1000) < 1  # two views of one measurement
    assert line["measured_kimg"] == 0.04 and line["ticks"] == 3  # the warm-up tick is left out
    assert math.isfinite(line["final_loss_G"]) and "--augment none" in line["command"]
    assert not list(tmp_path.glob("likeness-bench-*"))  # the synthetic dataset and run were cleaned up


def test_generator_speed_covers_every_resolution_and_batch(tmp_path):
    lines = run_script("generator_speed.py", tmp_path)
    assert [(x["resolution"], x["batch"]) for x in lines] == [(16, 1), (16, 4), (32, 1), (32, 4)]
    for x in lines:
        assert 0 < x["ms_min"] <= x["ms_median"]
        assert abs(x["img_per_s"] - x["batch"] / (x["ms_median"] / 1000)) < 0.01 * x["img_per_s"]
