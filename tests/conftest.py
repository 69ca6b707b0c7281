"""Shared fixtures. Every test runs with its own cache folder so that hash caches never leak between tests."""

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LIKENESS_CACHE", str(tmp_path_factory.mktemp("cache")))


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 600, env: dict[str, str] | None = None):
    """Run the real console entry point in a child process, as a user would (`env`: variables to add)."""
    import subprocess

    env = {**os.environ, **(env or {})}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "likeness", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
