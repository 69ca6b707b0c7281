"""benchmarks/gpu_session.sh --plan: recorded steps are read from RESULTS.md's markers; the rest are listed in order."""

import shutil
import subprocess

from tests.conftest import ROOT


def test_plan_lists_what_remains(tmp_path):
    shutil.copy(ROOT / "benchmarks" / "gpu_session.sh", tmp_path / "gpu_session.sh")
    (tmp_path / "RESULTS.md").write_text("figures\n<!-- gpu-step: generator 2026-12-01 -->\n")
    done = subprocess.run(["bash", str(tmp_path / "gpu_session.sh"), "--plan"], capture_output=True, text=True)
    lines = done.stdout.splitlines()
    assert done.returncode == 0
    assert "recorded  generator" in lines and lines[0].startswith("to run    converge")
    assert "to run    demo-model  (~7 min)" in lines
    assert lines[-1] == "remaining: ~35 min of device time"  # 8+6+4+3+4+3+7: all but the generator
    refused = subprocess.run(["bash", str(tmp_path / "gpu_session.sh"), "nonsense", str(tmp_path / "o")],
                             capture_output=True, text=True)
    assert refused.returncode == 2 and "unknown step" in refused.stderr and not (tmp_path / "o").exists()
