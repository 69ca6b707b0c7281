"""The bundled demo model: trained by the project's own pipeline on invented sitters, then packed small.

`likeness demo-model` films eight invented sitters (the demo's three among them), prepares one 10 fps set, trains a
small StyleGAN2 on it, measures its FID and packs G_ema and D (no optimiser state, no G: what `--init` needs) with
its provenance into installation/demo_assets/demo-model.pt. On a GPU the same command trains longer and sharper.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

from installation.demo_sitters import SMALL_NETWORKS
from installation.demo_steps import Steps
from training.errors import UsageError

BASE_SEEDS = (2, 4, 7, 10, 13, 14, 17, 22)
BASE_SECONDS = 60.0
BASE_SIZE = 32
KEEP = ("format", "format_version", "saved_at", "G_kwargs", "D_kwargs", "G_ema", "D", "progress", "config",
        "dataset", "chain")
LIMIT_BYTES = 20 * 1024 * 1024
# R1 weight. The preset's rule (0.0002 * resolution^2 / batch) gives 0.0064 at 32 px: measured, D then dominates (D
# loss 0.2, G loss 4.3 at 67 kimg) and G collapses onto one look (every fake in a blue shirt); at 0.5 the eight
# sitters' skins, shirts and rooms came back within 16 kimg, and fine-tuning from it no longer tears G apart.
BASE_GAMMA = "0.5"


def base_train_argv(data: Path, runs: Path, kimg: float, device: str) -> list[str]:
    return ["train", "--data", str(data), "-o", str(runs), "--person", "demo-base", "--kimg", f"{kimg:g}",
            "--tick", "2", "--snap", "10", "--keep", "3", *SMALL_NETWORKS, "--gamma", BASE_GAMMA, "--workers", "0",
            "--seed", "0", "--device", device]


def pack_demo_model(snapshot: Path, out: Path, provenance: dict[str, Any]) -> int:
    """Write the slim model and its provenance sidecar (out + '.json'); returns the model's size in bytes."""
    from training.checkpoint import load_checkpoint, save_checkpoint

    payload = load_checkpoint(snapshot)
    slim = {key: payload[key] for key in KEEP if key in payload}
    slim["demo_model"] = provenance
    save_checkpoint(out, slim, force=True)
    size = out.stat().st_size
    if size > LIMIT_BYTES:
        out.unlink()
        raise UsageError(f"the packed model is {size / 2**20:.1f} MB, above the 20 MB the package allows; train "
                         "smaller networks")
    sidecar = out.with_name(out.name + ".json")
    sidecar.write_text(json.dumps(provenance, indent=2) + "\n", encoding="utf-8")
    return size


def best_fid(run: Path, snapshot: Path) -> dict[str, Any] | None:
    path = run / "metrics.jsonl"
    if not path.exists():
        return None
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [row for row in rows if row.get("metric") == "fid" and Path(str(row.get("snapshot", ""))).name ==
            snapshot.name]
    return rows[-1] if rows else None


def train_demo_model(workdir: Path, out: Path, kimg: float, device: str, num_fakes: int,
                     snapshot: Path | None, say: Callable[[str], None] = print) -> Path:
    """Film and prepare (what exists is kept), train (unless `snapshot` is given: pack that one), evaluate, pack."""

    from training.checkpoint import load_checkpoint
    from training.footage.demo_clip import write_demo_clip
    from training.run_folder import list_snapshots

    steps = Steps(say)
    data = workdir / f"base-10fps-{BASE_SIZE}px.zip"
    reals = workdir / f"base-1fps-{BASE_SIZE}px.zip"  # 480 frames: a FID the CPU measures in minutes
    runs = workdir / "runs"
    with steps.phase("film the invented sitters"):
        clips = []
        for seed in BASE_SEEDS:
            clip = workdir / "footage" / f"sitter-{seed:02d}.mp4"
            if not clip.exists():
                say(f"filming seed {seed}: {BASE_SECONDS:g} s")
                clip.parent.mkdir(parents=True, exist_ok=True)
                write_demo_clip(clip, duration=BASE_SECONDS, seed=seed)
            clips.append(clip)
    with steps.phase("prepare a 10 fps set of all of them to train on, a 1 fps set to measure"):
        seeds = " ".join(str(seed) for seed in BASE_SEEDS)
        for rate, path in ((10, data), (1, reals)):
            if not path.exists():
                steps.run("prepare", *clips, "--person", "Invented sitters (demo base)", "--consent",
                          f"Synthetic subjects drawn by training/footage/demo_clip.py (seeds {seeds}); no "
                          "real person.", "--fps", str(rate), "--size", str(BASE_SIZE), "-o", path, "-q")
    if snapshot is None:
        with steps.phase("train"):
            steps.run(*base_train_argv(data, runs, kimg, device))
        run = sorted((runs / "demo-base").glob("*"))[-1]
        snapshot = list_snapshots(run)[-1]
    run = snapshot.parent
    with steps.phase("evaluate"):
        if best_fid(run, snapshot) is None:
            steps.run("evaluate", run, "--snapshot", snapshot.name, "--data", reals, "--metrics", "fid",
                      "--num-fakes", str(num_fakes), "--device", device, "--no-report")
    fid = best_fid(run, snapshot) or {}
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    payload = load_checkpoint(snapshot)
    chain = payload.get("chain") or []  # the runs this one continued with --init
    kimg = (payload.get("progress") or {}).get("kimg")  # this snapshot's, not the run's last tick
    provenance = {
        "what": "likeness demo's bundled model: a small StyleGAN2 trained on invented sitters (no real person)",
        "trained_by": "likeness demo-model (installation/demo_model.py)",
        "command": shlex.join(str(word) for word in (config.get("command") or [])) or None,
        "dataset": (config.get("dataset") or {}).get("path"),
        "dataset_sha256": (config.get("dataset") or {}).get("sha256"),
        "sitter_seeds": list(BASE_SEEDS),
        "kimg": kimg,
        "init_chain": [{k: link.get(k) for k in ("run", "kimg", "sha256")} for link in chain],
        "kimg_total": round((kimg or 0) + sum(float(link.get("kimg") or 0) for link in chain), 3),
        "fid": fid.get("value"),
        "fid_num_fakes": fid.get("num_fakes"),
        "fid_num_reals": fid.get("num_reals"),
        "fid_note": "a small-sample FID (few fakes, the 1 fps frames of the same footage, 32 px): biased upward",
    }
    size = pack_demo_model(snapshot, out, provenance)
    say(f"wrote {out} ({size / 2**20:.1f} MB) from {snapshot}, FID {provenance['fid']}")
    return out
