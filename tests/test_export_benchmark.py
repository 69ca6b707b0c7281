"""benchmarks/export_speed.py runs end to end on the CPU with --tiny (its figures come from full runs)."""

import json
import os
import subprocess
import sys

from conftest import ROOT


def test_export_speed_reports_each_codec(tmp_path):
    out = tmp_path / "results.jsonl"
    env = dict(os.environ, PYTHONPATH=str(ROOT), TMPDIR=str(tmp_path))
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "export_speed.py"), "--tiny", "--out",
                             str(out)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [json.loads(line) for line in result.stdout.splitlines()] == lines
    assert [x["codec"] for x in lines] == ["h264", "prores"]
    for x in lines:
        assert (x["width"], x["height"], x["frames"], x["tiny"]) == (128, 72, 10, True)
        # wall_s is rounded to the millisecond: the rate must lie within what that rounding allows
        slowest, fastest = x["frames"] / (x["wall_s"] + 0.0005), x["frames"] / max(x["wall_s"] - 0.0005, 1e-9)
        assert slowest - 0.01 <= x["frames_per_s"] <= fastest + 0.01
        assert x["mbytes"] > 0 and x["cpu_ms_per_frame"] > 0
    assert not list(tmp_path.glob("likeness-bench-*"))  # the films were cleaned up
