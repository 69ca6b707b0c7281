"""A tiny trained run for the evaluation tests: a real `likeness train` child on a 32 px dataset whose provenance has
the per-frame index `likeness prepare` writes (source, seconds), so memorisation can leave out adjacent frames."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT
from train_datasets import frames, write_zip

TINY = ["--cbase", "256", "--cmax", "64", "--map", "2", "--w-dim", "32", "--workers", "0", "--batch", "8",
        "--tick", "0.016"]
CONSENT = "synthetic test subject; no real person"


def child_env(cache: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = "1"  # a busy 2-core machine: OpenMP's spinning threads slow tiny convs 100x
    env["LIKENESS_CACHE"] = str(cache)
    env.update(extra)
    return env


def likeness(*args, cwd: Path, cache: Path, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "likeness", *map(str, args)], cwd=cwd, env=child_env(cache, **env),
                          capture_output=True, text=True, timeout=timeout)


def write_dataset(path: Path, count: int = 24, size: int = 32, seed: int = 0, person: str = "ana",
                  fps: float = 2.0) -> Path:
    """A dataset zip as `likeness prepare` lays it out: two sources, frames at `fps`, the index in dataset.json."""
    images = frames(count, size, seed)
    index = [[0 if i < count // 2 else 1, round((i % (count // 2)) / fps, 3)] for i in range(count)]
    provenance = {"person": person, "consent": CONSENT, "fps": f"{fps:g}",
                  "sources": [{"name": "take1.mp4"}, {"name": "take2.mp4"}], "frames": index}
    return write_zip(path, images, provenance=provenance)


def train_run(data: Path, work: Path, cache: Path, kimg: str = "0.064", snap: str = "0.032") -> Path:
    result = likeness("train", "--data", data, *TINY, "--kimg", kimg, "--snap", snap, "--deterministic",
                      "--outdir", work / "runs", cwd=work, cache=cache)
    assert result.returncode == 0, result.stderr
    (run,) = (work / "runs").glob("*/*")
    return run
