"""benchmarks/evaluate_speed.py runs end to end on the CPU with --tiny (its figures come from a GPU, never from here)."""

import json
import subprocess
import sys

import tiny_networks
from conftest import ROOT
from eval_runs import child_env


def test_evaluate_speed_measures_features_evaluations_and_phases(tmp_path):
    network = tiny_networks.save(tiny_networks.FewFeatures(), tmp_path / "few.pt")
    out = tmp_path / "results.jsonl"
    # FID is left out here only because its 2048x2048 matrix square root costs seconds on this CPU, three times
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "evaluate_speed.py"), "--tiny", "--inception",
                             str(network), "--metrics", "kid,pr,memorisation,separability", "--out", str(out)],
                            cwd=tmp_path, env=child_env(tmp_path / "cache", TMPDIR=str(tmp_path)),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")] == lines
    assert all(x["benchmark"] == "evaluate_speed" and x["tiny"] is True for x in lines)
    features = [x for x in lines if x["measure"] == "inception_features"]
    assert [x["feature_batch"] for x in features] == [4, 8] and all(x["img_per_s"] > 0 for x in features)
    evaluations = [x for x in lines if x["measure"] == "evaluate"]
    assert [x["real_features"] for x in evaluations] == ["computed", "cached"]
    phases = [x["phase"] for x in lines if x["measure"] == "phase"]
    assert phases == ["real features (from the cache)", "16 fakes: generator + Inception", "kid", "pr",
                      "memorisation", "separability"]
    table = result.stdout.split("{")[0]
    assert "Inception features, batch 8" in table and "evaluate, real features cached" in table
    assert not list(tmp_path.glob("likeness-bench-*"))  # the synthetic dataset and run were cleaned up
