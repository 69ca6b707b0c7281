"""`likeness train` end to end on CPU: real zip datasets, real child processes, real signals and torchrun.

Tiny networks (32 px, channel_base 256, mapping 2 layers, w_dim 32) and a few dozen images per run keep every
training child to a few seconds. OMP_NUM_THREADS=1: on a busy 2-core machine OpenMP's spinning threads make
these small convolutions a hundred times slower.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import PIL.Image
import pytest
import torch

from conftest import ROOT
from train_datasets import break_crc, frames, write_zip

TINY = ["--cbase", "256", "--cmax", "64", "--map", "2", "--w-dim", "32", "--workers", "0", "--batch", "8",
        "--tick", "0.016"]


# -- datasets written by the test -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("data")
    return dict(
        one=write_zip(d / "ana-1fps.zip", frames(24, 32, 0), fps=1),
        ten=write_zip(d / "ana-10fps.zip", frames(40, 32, 1), fps=10),
        big=write_zip(d / "ana-64.zip", frames(4, 64, 2)),
        wide=write_zip(d / "wide.zip", frames(4, 32, 3, width=64)),
        odd=write_zip(d / "odd.zip", frames(4, 24, 4)),
        anonymous=write_zip(d / "anon.zip", frames(4, 32, 5), person=None),
    )


def child_env(cache: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = "1"
    env["LIKENESS_CACHE"] = str(cache)
    return env


def train(*args, cwd: Path, cache: Path, preexec_fn=None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "likeness", "train", *map(str, args)], cwd=cwd,
                          env=child_env(cache), capture_output=True, text=True, timeout=timeout,
                          preexec_fn=preexec_fn)


def start_train(*args, cwd: Path, cache: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "likeness", "train", *map(str, args)], cwd=cwd,
                            env=child_env(cache), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(predicate, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"training ended early: {proc.communicate()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("timed out waiting for the training child")
        time.sleep(0.01)


def only_run(outdir: Path) -> Path:
    runs = sorted(outdir.glob("ana/*"))
    assert len(runs) == 1, runs
    return runs[0]


def tensors_equal(a, b, path="") -> list[str]:
    """Paths where two nested payloads hold different tensors (empty: bit-identical)."""
    if isinstance(a, torch.Tensor):
        return [] if torch.equal(a, b) else [path]
    if isinstance(a, dict):
        assert set(a) == set(b), path
        return [p for k in a for p in tensors_equal(a[k], b[k], f"{path}/{k}")]
    if isinstance(a, (list, tuple)):
        return [p for i, (x, y) in enumerate(zip(a, b)) for p in tensors_equal(x, y, f"{path}/{i}")]
    return []


STATE_KEYS = ("G", "G_ema", "D", "opt_G", "opt_D", "loss_state")
RUN_A = [*TINY, "--kimg", "0.096", "--snap", "0.032", "--deterministic"]


@pytest.fixture(scope="module")
def run_a(data, tmp_path_factory) -> Path:
    """The uninterrupted reference run: 12 steps, snapshots at 32, 64 and 96 images."""
    work = tmp_path_factory.mktemp("run_a")
    result = train("--data", data["one"], *RUN_A, cwd=work, cache=work / "cache")
    assert result.returncode == 0, result.stderr
    return only_run(work / "runs")


# -- a short run ------------------------------------------------------------------------------------------------------


def tensorboard_scalars(run_dir: Path) -> dict[str, list[tuple[int, float]]]:
    """What TensorBoard itself shows for a run folder: every events file read, purges applied."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def run_files(run_dir: Path) -> list[str]:
    return sorted(p.name for p in run_dir.iterdir() if not p.name.startswith(".") and ".tfevents." not in p.name)


def test_short_run_writes_a_complete_run_folder(run_a, data):
    names = run_files(run_a)
    assert names == ["config.json", "fakes000000.032.png", "fakes000000.064.png", "fakes000000.096.png",
                     "fakes_init.png", "log.jsonl", "reals.png", "snapshot-000000.032.pt",
                     "snapshot-000000.064.pt", "snapshot-000000.096.pt"]
    assert run_a.parent.name == "ana" and run_a.name.startswith("00000-ana-1fps-auto-batch8-")

    config = json.loads((run_a / "config.json").read_text())
    assert config["dataset"]["sha256"] == hashlib.sha256(data["one"].read_bytes()).hexdigest()
    assert config["person"] == "ana" and config["dataset"]["provenance"]["fps"] == 1
    t = config["training"]
    assert (t["batch"], t["batch_gpu"], t["mirror"], t["augment"]) == (8, 8, False, "none")
    assert config["G_kwargs"]["mapping_layers"] == 2 and config["G_kwargs"]["img_resolution"] == 32

    log = [json.loads(line) for line in (run_a / "log.jsonl").read_text().splitlines()]
    assert [r["nimg"] for r in log] == [8, 24, 32, 48, 64, 80, 96]  # first step, every 16 images, snapshots
    for record in log:
        for key in ("loss_G", "loss_D", "loss_D_real", "loss_D_fake", "sec_per_kimg", "img_per_s", "pl_mean"):
            assert math.isfinite(record[key]), (key, record)
    assert "r1_penalty" in log[0] and "pl_penalty" in log[0]  # both regularisers run on step 0

    assert len(list(run_a.glob("events.out.tfevents.*"))) == 1
    scalars = tensorboard_scalars(run_a)
    for key in ("loss_G", "loss_D", "sec_per_kimg", "pl_mean", "cpu_mem_peak_gb"):
        expected = [(r["nimg"], r[key]) for r in log]
        assert [s for s, _ in scalars[key]] == [s for s, _ in expected], key
        assert np.allclose([v for _, v in scalars[key]], [v for _, v in expected], rtol=1e-6), key  # float32
    assert "r1_penalty" in scalars and not {"tick", "kimg", "nimg", "time"} & set(scalars)

    from training.run_folder import snapshot_nimg

    for snap in run_a.glob("snapshot-*.pt"):
        payload = torch.load(snap, weights_only=True)
        assert payload["progress"]["cur_nimg"] == snapshot_nimg(snap.name)
        assert payload["config"]["dataset"]["sha256"] == config["dataset"]["sha256"]


def test_grids_show_the_dataset_and_the_snapshot_generator(run_a, data):
    from training.checkpoint import load_generator
    from training.dataset import ImageDataset
    from training.grids import untile
    from training.networks import zs_from_seeds

    config = json.loads((run_a / "config.json").read_text())
    cols, rows = config["grid"]["cols"], config["grid"]["rows"]
    reals = untile(np.array(PIL.Image.open(run_a / "reals.png")), cols, rows)
    dataset = ImageDataset(data["one"])
    for tile_index in (0, 7, cols * rows - 1):
        frame = config["grid"]["reals"][tile_index]
        assert np.array_equal(reals[tile_index], dataset[frame].numpy())

    # Re-render the seeds with the snapshot's G_ema, independently of the training process.
    G = load_generator(run_a / "snapshot-000000.096.pt")
    seeds = config["grid"]["seeds"][:6]
    with torch.no_grad():
        images = G(zs_from_seeds(seeds, G.z_dim), noise_mode="const")
    expected = np.rint((images.numpy() + 1) * 127.5).clip(0, 255).astype(np.uint8)
    fakes = untile(np.array(PIL.Image.open(run_a / "fakes000000.096.png")), cols, rows)
    assert np.abs(fakes[:6].astype(int) - expected.astype(int)).max() <= 1
    start = untile(np.array(PIL.Image.open(run_a / "fakes_init.png")), cols, rows)
    assert np.abs(start.astype(int) - fakes.astype(int)).mean() > 1  # training moved the generator


# -- resume ------------------------------------------------------------------------------------------------------------


def test_resume_after_sigkill_repeats_the_uninterrupted_run_bit_for_bit(run_a, data, tmp_path):
    proc = start_train("--data", data["one"], *RUN_A, cwd=tmp_path, cache=tmp_path / "cache")
    first = lambda: list((tmp_path / "runs").glob("ana/*/snapshot-000000.032.pt"))  # noqa: E731
    wait_for(first, proc)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    run_b = only_run(tmp_path / "runs")
    done = sorted(p.name for p in run_b.glob("snapshot-*.pt"))
    assert "snapshot-000000.096.pt" not in done, "the child finished before it could be killed"

    result = train("--resume", run_b, cwd=tmp_path, cache=tmp_path / "cache")
    assert result.returncode == 0, result.stderr
    assert "resuming" in result.stdout
    for name in ("snapshot-000000.064.pt", "snapshot-000000.096.pt"):
        a = torch.load(run_a / name, weights_only=True)
        b = torch.load(run_b / name, weights_only=True)
        assert a["progress"]["batch_idx"] == b["progress"]["batch_idx"]
        for key in STATE_KEYS:
            assert tensors_equal(a[key], b[key]) == [], (name, key)
    log = [json.loads(line) for line in (run_b / "log.jsonl").read_text().splitlines()]
    ticks = [r["nimg"] for r in log if "tick" in r]
    assert ticks == sorted(ticks) and len(ticks) == len(set(ticks))  # the killed run's extra ticks were dropped
    assert [r["event"] for r in log if "event" in r] == ["resume"]
    assert not [p for p in run_b.iterdir() if ".likeness-tmp-" in p.name]
    assert run_files(run_b) == run_files(run_a)
    assert len(list(run_b.glob("events.out.tfevents.*"))) == 2  # the killed run's and the resumed run's
    scalars = tensorboard_scalars(run_b)  # TensorBoard hides the killed run's ticks past the snapshot, as the log
    assert [step for step, _ in scalars["loss_G"]] == ticks
    assert np.allclose([v for _, v in scalars["loss_G"]], [r["loss_G"] for r in log if "tick" in r], rtol=1e-6)
    for grid in run_a.glob("fakes*.png"):  # including the one a kill may have cut off, re-rendered on resume
        assert (run_b / grid.name).read_bytes() == grid.read_bytes(), grid.name


def test_tensorboard_forgets_the_ticks_a_killed_run_logged_after_its_last_snapshot(run_a, tmp_path):
    run = tmp_path / "ana" / run_a.name
    shutil.copytree(run_a, run)
    for late in ("000000.064", "000000.096"):  # as if killed just before writing the 64-image snapshot
        (run / f"snapshot-{late}.pt").unlink()
    assert [step for step, _ in tensorboard_scalars(run)["loss_G"]][-1] == 96

    result = train("--resume", run, cwd=tmp_path, cache=tmp_path / "cache")
    assert result.returncode == 0, result.stderr
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    ticks = [r for r in log if "tick" in r]
    scalars = tensorboard_scalars(run)["loss_G"]
    assert [step for step, _ in scalars] == [r["nimg"] for r in ticks]
    assert np.allclose([v for _, v in scalars], [r["loss_G"] for r in ticks], rtol=1e-6)


def test_resume_refuses_a_different_config_and_changes_nothing(run_a, data, tmp_path, capsys):
    from likeness.cli import main

    before = {p.name: p.read_bytes() for p in run_a.iterdir() if p.is_file()}
    assert main(["train", "--resume", str(run_a), "--gamma", "5", "--batch", "8", "--kimg", "1"]) == 2
    err = capsys.readouterr().err
    assert "gamma (0.0064 in config.json, 5.0 asked)" in err and "batch (" not in err
    assert err.count("\n") == 1
    assert main(["train", "--resume", str(run_a), "--data", str(data["ten"]), "--kimg", "1"]) == 2
    assert "data (" in capsys.readouterr().err
    assert main(["train", "--resume", str(run_a)]) == 2  # already at its --kimg
    assert "larger --kimg" in capsys.readouterr().err
    assert main(["train", "--resume", str(run_a / "snapshot-000000.032.pt"), "--kimg", "1"]) == 2
    assert "later snapshots" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in run_a.iterdir() if p.is_file()} == before


def test_damaged_snapshots_are_refused(run_a, data, tmp_path, capsys):
    from likeness.cli import main

    run = tmp_path / "ana" / run_a.name
    shutil.copytree(run_a, run)
    newest = run / "snapshot-000000.096.pt"
    newest.write_bytes(newest.read_bytes()[:5000])
    assert main(["train", "--resume", str(run), "--kimg", "1"]) == 1
    err = capsys.readouterr().err
    assert "truncated" in err and "move snapshot-000000.096.pt" in err and err.count("\n") == 1
    data_bytes = (run_a / "snapshot-000000.096.pt").read_bytes()
    newest.write_bytes(data_bytes[:-100])  # the zip directory is intact up to its end: torch itself must notice
    assert main(["train", "--data", str(data["ten"]), "--init", str(newest), "--outdir", str(tmp_path)]) == 1
    assert "truncated" in capsys.readouterr().err


def test_full_disk_keeps_the_previous_snapshot(run_a, tmp_path):
    run = tmp_path / "ana" / run_a.name
    shutil.copytree(run_a, run)
    previous = (run / "snapshot-000000.096.pt").read_bytes()
    limit = len(previous) // 2  # big enough for logs and grids, too small for a snapshot

    def small_disk():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of killing us
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = train("--resume", run, "--kimg", "0.128", cwd=tmp_path, cache=tmp_path / "cache",
                   preexec_fn=small_disk)
    assert result.returncode == 1
    error_lines = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(error_lines) == 1 and "File too large" in error_lines[0]
    assert "snapshot-000000.096.pt is intact" in error_lines[0]
    assert (run / "snapshot-000000.096.pt").read_bytes() == previous
    assert torch.load(run / "snapshot-000000.096.pt", weights_only=True)["progress"]["cur_nimg"] == 96
    assert not list(run.glob("snapshot-000000.128*")) and not [p for p in run.iterdir() if "tmp" in p.name]


def test_a_run_stopped_before_its_first_snapshot_is_resumed_from_the_start(run_a, data, tmp_path):
    """The first start fails writing its first snapshot (a file size limit as the full disk): the folder holds
    config, grids and log but no snapshot. --resume starts it afresh in place, and it ends as the uninterrupted run."""
    limit = (run_a / "snapshot-000000.032.pt").stat().st_size // 2

    def small_disk():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    first = train("--data", data["one"], *RUN_A, cwd=tmp_path, cache=tmp_path / "cache", preexec_fn=small_disk)
    assert first.returncode == 1 and "File too large" in first.stderr
    run = only_run(tmp_path / "runs")
    assert not list(run.glob("snapshot-*.pt")) and (run / "config.json").is_file() and (run / "log.jsonl").is_file()

    result = train("--resume", run, cwd=tmp_path, cache=tmp_path / "cache")
    assert result.returncode == 0, result.stderr
    assert "has no snapshot yet (the first start stopped before writing one): starting it afresh" in result.stdout
    assert only_run(tmp_path / "runs") == run  # in the same folder, not a new one
    for name in ("snapshot-000000.032.pt", "snapshot-000000.096.pt"):
        a, b = torch.load(run_a / name, weights_only=True), torch.load(run / name, weights_only=True)
        for key in STATE_KEYS:
            assert tensors_equal(a[key], b[key]) == [], (name, key)
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [r["nimg"] for r in log if "tick" in r] == [json.loads(line)["nimg"] for line in
                                                      (run_a / "log.jsonl").read_text().splitlines()
                                                      if "tick" in json.loads(line)]
    assert run_files(run) == run_files(run_a)
    assert len(list(run.glob("events.out.tfevents.*"))) == 1  # the failed start's events were dropped


def _damaged_copy(path: Path, tmp_path: Path, frames: list[int]) -> Path:
    bad = tmp_path / "damaged.zip"
    bad.write_bytes(path.read_bytes())
    for i in frames:
        break_crc(bad, f"00000/img{i:08d}.png")
    return bad


@pytest.fixture(scope="module")
def filmed(tmp_path_factory) -> Path:
    """200 frames with a provenance index (source file and time per frame), more than the 144 of the reals grid."""
    n = 200
    provenance = {"person": "ana", "fps": 10, "sources": [{"name": "session.mov"}],
                  "frames": [[0, round(i / 10, 3)] for i in range(n)]}
    return write_zip(tmp_path_factory.mktemp("filmed") / "ana.zip", frames(n, 32, 7), provenance=provenance)


def test_a_damaged_frame_in_the_reals_grid_stops_before_any_folder(filmed, tmp_path, capsys):
    from likeness.cli import main

    bad = _damaged_copy(filmed, tmp_path, [0])
    assert main(["train", "--data", str(bad), *TINY, "--kimg", "0.016", "--outdir", str(tmp_path / "runs")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert "damaged.zip:00000/img00000000.png (from session.mov at 00:00.000) cannot be read (Bad CRC-32" in err
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").glob("*/*"))


def test_a_damaged_frame_found_by_a_dataloader_worker_is_one_line(filmed, tmp_path):
    from training.grids import grid_shape, reals_indices

    cols, rows = grid_shape(32)
    outside = sorted(set(range(200)) - set(reals_indices(200, cols * rows)))
    bad = _damaged_copy(filmed, tmp_path, outside)  # 56 of 200 frames: the first batches meet one
    result = train("--data", bad, *TINY, "--workers", "1", "--kimg", "2", "--snap", "1", cwd=tmp_path,
                   cache=tmp_path / "cache")
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1 and "Traceback" not in result.stderr and "worker" not in errors[0], result.stderr
    assert errors[0].startswith(f"likeness train: error: {bad}:00000/img")
    assert re.search(r"\(from session\.mov at 00:\d\d\.\d00\) cannot be read \(Bad CRC-32", errors[0])


# -- --init: the 1 fps -> 10 fps curriculum -------------------------------------------------------------------------


def test_init_fine_tunes_on_a_second_dataset_and_records_the_chain(run_a, data, tmp_path, capsys):
    parent = run_a / "snapshot-000000.096.pt"
    result = train("--data", data["ten"], "--init", parent, "--kimg", "0.016", "--outdir", tmp_path / "runs",
                   cwd=tmp_path, cache=tmp_path / "cache")
    assert result.returncode == 0, result.stderr
    child = only_run(tmp_path / "runs")
    config = json.loads((child / "config.json").read_text())
    assert config["init"]["snapshot"] == str(parent.resolve())
    assert config["init"]["sha256"] == hashlib.sha256(parent.read_bytes()).hexdigest()
    assert config["init"]["dataset_sha256"] == hashlib.sha256(data["one"].read_bytes()).hexdigest()
    assert config["dataset"]["sha256"] == hashlib.sha256(data["ten"].read_bytes()).hexdigest()
    assert config["chain"] == [config["init"]]
    assert config["training"]["batch"] == 8 and config["G_kwargs"]["w_dim"] == 32  # inherited from the parent
    # The new run starts from the parent's G_ema: its first grid is the parent's last one.
    assert (child / "fakes_init.png").read_bytes() == (run_a / "fakes000000.096.png").read_bytes()
    (child_snapshot,) = child.glob("snapshot-*.pt")
    snapshot = torch.load(child_snapshot, weights_only=True)
    assert snapshot["chain"] == config["chain"] and snapshot["progress"]["cur_nimg"] == 16

    # A grandchild's chain names both ancestors, nearest first (checked without training).
    from likeness.cli import main

    assert main(["train", "--data", str(data["one"]), "--init", str(child_snapshot), "--dry-run"]) == 0
    grand = json.loads(capsys.readouterr().out)
    assert [c["sha256"] for c in grand["chain"]] == [
        hashlib.sha256(child_snapshot.read_bytes()).hexdigest(), config["init"]["sha256"]]


@pytest.mark.parametrize("with_d", [True, False], ids=["G+D", "G only"])
def test_init_from_an_nvidia_pickle_fine_tunes_its_weights(data, tmp_path, with_d):
    """A public NVIDIA model goes straight into --init; a generator-only file gets a fresh discriminator."""
    from foreign_formats import write_nvidia_pickle
    from training.networks import Discriminator, Generator

    torch.manual_seed(5)
    arch = dict(img_resolution=32, channel_base=256, channel_max=64)
    G = Generator(z_dim=32, w_dim=32, mapping_layers=2, **arch)
    D = Discriminator(**arch, mbstd_group_size=4)
    public = tmp_path / "network-snapshot-000100.pkl"
    write_nvidia_pickle(public, G=G, G_ema=G, D=D if with_d else None)
    result = train("--data", data["ten"], "--init", public, "--kimg", "0.016", "--batch", "8", "--workers", "0",
                   "--outdir", tmp_path / "runs", cwd=tmp_path, cache=tmp_path / "cache")
    assert result.returncode == 0, result.stderr
    assert ("no discriminator" in result.stdout + result.stderr) != with_d
    child = only_run(tmp_path / "runs")
    config = json.loads((child / "config.json").read_text())
    assert config["init"]["sha256"] == hashlib.sha256(public.read_bytes()).hexdigest()
    assert config["init"]["imported_format"].startswith("nvidia")
    (snapshot,) = child.glob("snapshot-*.pt")
    trained = torch.load(snapshot, weights_only=True)
    # Two steps of fine-tuning move the weights a little; a network that ignored the file would be far away.
    for name, original in G.state_dict().items():
        if original.dtype.is_floating_point and original.numel() > 1 and original.std() > 0:
            drift = (trained["G_ema"][name] - original).norm() / original.norm()
            assert drift < 0.05, (name, float(drift))
    d_drift = max(float((trained["D"][n] - p).norm() / p.norm()) for n, p in D.state_dict().items()
                  if p.dtype.is_floating_point and p.numel() > 1 and p.std() > 0)
    assert (d_drift < 0.05) == with_d


def test_init_refuses_another_resolution(run_a, data, tmp_path, capsys):
    from likeness.cli import main

    code = main(["train", "--data", str(data["big"]), "--init", str(run_a / "snapshot-000000.096.pt"),
                 "--outdir", str(tmp_path)])
    assert code == 1
    assert "32x32 model but" in capsys.readouterr().err and not list(tmp_path.iterdir())


def test_conditional_mirrored_training_renders_the_grid_with_the_reals_labels(data, tmp_path):
    from training.checkpoint import load_generator
    from training.grids import untile
    from training.networks import zs_from_seeds

    src = zipfile.ZipFile(data["one"])
    names = sorted(n for n in src.namelist() if n.endswith(".png"))
    labelled = tmp_path / "labelled.zip"
    with zipfile.ZipFile(labelled, "w") as zf:
        for name in names:
            zf.writestr(name, src.read(name))
        zf.writestr("dataset.json", json.dumps({"labels": [[n, i % 3] for i, n in enumerate(names)]}))
    result = train("--data", labelled, "--person", "bo", "--cond", "--mirror", *TINY, "--kimg", "0.016", "--snap",
                   "1", cwd=tmp_path, cache=tmp_path / "cache")
    assert result.returncode == 0, result.stderr
    assert "--mirror trains on left-right flipped copies" in result.stderr
    (run,) = (tmp_path / "runs" / "bo").iterdir()
    config = json.loads((run / "config.json").read_text())
    assert config["G_kwargs"]["c_dim"] == 3 and config["training"]["mirror"] is True
    G = load_generator(run / "snapshot-000000.pt")
    tiles = [0, 1, 2]
    c = torch.nn.functional.one_hot(torch.tensor([config["grid"]["reals"][t] % 3 for t in tiles]), 3).float()
    with torch.no_grad():
        images = G(zs_from_seeds([config["grid"]["seeds"][t] for t in tiles], G.z_dim), c, noise_mode="const")
    expected = np.rint((images.numpy() + 1) * 127.5).clip(0, 255).astype(int)
    grid = untile(np.array(PIL.Image.open(run / "fakes000000.png")), config["grid"]["cols"], config["grid"]["rows"])
    assert np.abs(grid[tiles].astype(int) - expected).max() <= 1


# -- several processes ------------------------------------------------------------------------------------------------


def test_two_gloo_processes_update_like_one_process_with_two_rounds(data, tmp_path):
    common = ["--data", data["one"], *TINY, "--cfg", "stylegan2", "--batch", "4", "--batch-gpu", "2", "--kimg",
              "0.008", "--snap", "1", "--deterministic"]
    single = train(*common, "--outdir", tmp_path / "one", cwd=tmp_path, cache=tmp_path / "cache")
    assert single.returncode == 0, single.stderr
    assert "1 process x 2 round(s) x 2" in single.stdout
    torchrun = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node",
                               "2", "-m", "likeness", "train", *map(str, common), "--outdir", str(tmp_path / "two")],
                              cwd=tmp_path, env=child_env(tmp_path / "cache"), capture_output=True, text=True,
                              timeout=300)
    assert torchrun.returncode == 0, torchrun.stdout + torchrun.stderr
    assert "2 processes x 1 round(s) x 2" in torchrun.stdout
    assert torchrun.stdout.count("run folder:") == 1  # only rank 0 speaks and writes
    one = torch.load(only_run(tmp_path / "one") / "snapshot-000000.pt", weights_only=True)
    two = torch.load(only_run(tmp_path / "two") / "snapshot-000000.pt", weights_only=True)
    assert one["progress"]["batch_idx"] == two["progress"]["batch_idx"] == 2  # step 0 ran all four phases
    for key in STATE_KEYS:
        assert tensors_equal(one[key], two[key]) == [], key
    assert run_files(only_run(tmp_path / "two")) == run_files(only_run(tmp_path / "one"))
    assert len(list(only_run(tmp_path / "two").glob("events.out.tfevents.*"))) == 1


# -- signals ----------------------------------------------------------------------------------------------------------


def test_ctrl_c_finishes_the_step_and_writes_a_snapshot(data, tmp_path):
    proc = start_train("--data", data["one"], *TINY, "--workers", "1", "--kimg", "50", "--snap", "10", cwd=tmp_path,
                       cache=tmp_path / "cache")
    log = lambda: list((tmp_path / "runs").glob("ana/*/log.jsonl"))  # noqa: E731
    wait_for(lambda: log() and log()[0].read_text().count("\n") >= 2, proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "SIGINT: finishing this step" in err and "Traceback" not in err
    run = only_run(tmp_path / "runs")
    (snapshot,) = run.glob("snapshot-*.pt")
    payload = torch.load(snapshot, weights_only=True)
    last_tick = json.loads(log()[0].read_text().splitlines()[-1])
    assert payload["progress"]["cur_nimg"] == last_tick["nimg"] > 0
    assert f"likeness train --resume {run}" in out


def test_ctrl_c_under_torchrun_stops_every_rank_at_the_same_step(data, tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                             "-m", "likeness", "train", "--data", str(data["one"]), *TINY, "--kimg", "50", "--snap",
                             "10"], cwd=tmp_path, env=child_env(tmp_path / "cache"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    log = lambda: list((tmp_path / "runs").glob("ana/*/log.jsonl"))  # noqa: E731
    wait_for(lambda: log() and log()[0].read_text().count("\n") >= 2, proc)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: every process of the group gets it
    out, err = proc.communicate(timeout=120)
    assert out.count("stopped by SIGINT") == 1, err
    (snapshot,) = only_run(tmp_path / "runs").glob("snapshot-*.pt")
    last_tick = json.loads(log()[0].read_text().splitlines()[-1])
    assert torch.load(snapshot, weights_only=True)["progress"]["cur_nimg"] == last_tick["nimg"]


# -- bad input --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key, words, code", [
    ("wide", "64x32 images; training needs square images", 1),
    ("odd", "power of two", 1),
    ("anonymous", "--person NAME", 2),
])
def test_unusable_datasets_are_refused(data, tmp_path, capsys, key, words, code):
    from likeness.cli import main

    assert main(["train", "--data", str(data[key]), "--outdir", str(tmp_path / "runs")]) == code
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("args, words", [
    ([], "--data is required"),
    (["--data", "{one}", "--resume", "x", "--init", "y"], "give only one"),
    (["--data", "{one}", "--batch", "12", "--batch-gpu", "8"], "not a multiple of --batch-gpu"),
    (["--data", "{one}", "--batch", "12", "--batch-gpu", "6", "--cfg", "stylegan2"], "minibatch-stddev group"),
    (["--data", "{one}", "--kimg", "0"], "--kimg must be positive"),
    (["--data", "{one}", "--cond"], "has none"),
    (["--resume", "{one}"], "neither a run folder nor a snapshot"),
])
def test_bad_flags_are_usage_errors(data, tmp_path, capsys, args, words):
    from likeness.cli import main

    args = [a.format(**data) for a in args]
    assert main(["train", *args, "--outdir", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1
    assert not (tmp_path / "runs").exists()


def test_dry_run_prints_the_resolved_config_and_writes_nothing(data, tmp_path, capsys):
    from likeness.cli import main

    assert main(["train", "--data", str(data["one"]), "--cfg", "paper256", "--outdir", str(tmp_path / "r"),
                 "--dry-run"]) == 0
    config = json.loads(capsys.readouterr().out)
    t = config["training"]
    assert (t["cfg"], t["batch"], t["gamma"], t["lr_G"], t["ema_kimg"]) == ("paper256", 64, 1, 0.0025, 20)
    assert config["G_kwargs"]["channel_base"] == 16384 and config["G_kwargs"]["mapping_layers"] == 8
    assert config["D_kwargs"]["mbstd_group_size"] == 8
    assert not (tmp_path / "r").exists()


def test_help_lists_every_flag(tmp_path):
    result = subprocess.run([sys.executable, "-m", "likeness", "train", "--help"], env=child_env(tmp_path),
                            capture_output=True, text=True)
    assert result.returncode == 0
    for flag in ("--data", "--out", "--person", "--cfg", "--batch", "--batch-gpu", "--kimg", "--tick", "--snap",
                 "--lr", "--glr", "--dlr", "--gamma", "--mirror", "--augment", "--seed", "--keep", "--workers",
                 "--precision", "--compile", "--resume", "--init", "--cond", "--dry-run", "torchrun"):
        assert flag in result.stdout, flag


def test_quiet_hides_the_kimg_bar_on_a_terminal(data, tmp_path):
    from terminal import on_a_terminal

    args = ["train", "--data", data["one"], "-o", tmp_path / "runs", *TINY, "--kimg", "0.016", "--snap", "0.016"]
    env = child_env(tmp_path / "cache")
    loud = on_a_terminal(args, tmp_path, env)
    quiet = on_a_terminal([*args, "-q"], tmp_path, env)
    assert "kimg [" in loud  # the bar's format: "0.02/0.02 kimg [00:01<00:00]"
    assert "kimg [" not in quiet and "%|" not in quiet
    assert "tick 0" in quiet and "done:" in quiet  # the tick lines and the result still print
