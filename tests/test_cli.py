from conftest import run_cli

import training


def test_version_and_help():
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"likeness {training.__version__}"
    result = run_cli("--help")
    assert result.returncode == 0 and "usage: likeness" in result.stdout


HEAVY = ("torch", "scipy", "av", "moderngl", "PIL", "glfw")


def test_building_the_command_line_imports_nothing_heavy():
    """Every `likeness ...` call builds the whole parser first: importing torch there cost 3 s per call, also for
    `--help` and for a one-line refusal of a missing file."""
    import subprocess
    import sys

    from conftest import ROOT

    probe = ("import sys; from likeness.cli import build_parser; build_parser(); "
             f"print(','.join(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_unknown_command_is_a_usage_error():
    result = run_cli("frobnicate")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


NOISY = """
import sys
import training.cli

def add_parser(sub):
    p = sub.add_parser("noisy")
    p.set_defaults(func=lambda args: [print("x" * 100) for _ in range(20000)] and 0)

sys.modules["noisy_command"] = sys.modules[__name__]
training.cli.COMMAND_MODULES.append("noisy_command")
from likeness.cli import main
sys.exit(main(["noisy"]))
"""


def test_closed_pipe_is_not_a_traceback(tmp_path):
    """`likeness ... | head`: 2 MB of output into a reader that leaves after one byte."""
    import os
    import subprocess
    import sys

    from conftest import ROOT

    script = tmp_path / "noisy.py"
    script.write_text(NOISY)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(f"{sys.executable} {script} | head -c 1 >/dev/null; exit ${{PIPESTATUS[0]}}",
                          shell=True, executable="/bin/bash", env=env, capture_output=True, text=True)
    assert proc.stderr == ""
    assert proc.returncode == 141
