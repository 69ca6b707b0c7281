"""The run folder `runs/<person>/<NNNNN>-<desc>/`: its names, config.json, log.jsonl, snapshots, pins.

    config.json              everything needed to rebuild the run (rewritten when a resume extends it)
    log.jsonl                one JSON line per tick (and one per resume)
    reals.png                evenly spaced frames of the dataset
    fakes_init.png           the fixed seed grid before training; fakesNNNNNN.png at each snapshot
    snapshot-NNNNNN.pt       checkpoints (training/checkpoint.py), NNNNNN = kimg; the last --keep plus pinned ones
    pins.json                {snapshot file name: reason} -- snapshots never deleted ("best", "approved", ...)

A snapshot taken between whole kimg (Ctrl-C, the end of --kimg, a --snap below one kimg) whose kimg name is
already used gets the images past the kimg appended: snapshot-000004.128.pt is 4.128 kimg.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from training.atomic import TEMP_MARK, atomic_write_bytes
from training.checkpoint import save_checkpoint
from training.errors import LikenessError, UsageError
from training.grids import save_png

CONFIG_NAME = "config.json"
LOG_NAME = "log.jsonl"
PINS_NAME = "pins.json"
LOCK_NAME = ".train.lock"
PINS_LOCK_NAME = ".pins.lock"
_SNAPSHOT_RE = re.compile(r"^snapshot-(\d{6,})(?:\.(\d{3}))?\.pt$")
_FAKES_RE = re.compile(r"^fakes(\d{6,})(?:\.(\d{3}))?\.png$")
_RUN_RE = re.compile(r"^(\d{5,})-")


class WriteFailed(LikenessError):
    """An output could not be written (disk full, file size limit, permissions): exit 1, earlier files intact."""


def write_guard(what: str, hint: str = "") -> contextlib.AbstractContextManager:
    """Turn a failed write into one line that says what was not written and what is still safe."""

    @contextlib.contextmanager
    def guard() -> Iterator[None]:
        try:
            yield
        except OSError as err:
            raise WriteFailed(f"could not write {what}: {err.strerror or err}{hint}") from err

    return guard()


# -- names -------------------------------------------------------------------------------------------------------


def safe_name(text: str, what: str) -> str:
    """A folder-name-safe version of a person or dataset name; refuses what cannot become one."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", text.strip()).strip("-.")
    if not cleaned:
        raise UsageError(f"{what} {text!r} cannot be used as a folder name; use letters, digits, '-', '_' or '.'")
    return cleaned


def progress_label(nimg: int, precise: bool) -> str:
    return f"{nimg // 1000:06d}.{nimg % 1000:03d}" if precise else f"{nimg // 1000:06d}"


def snapshot_nimg(name: str) -> int | None:
    """Images seen at a snapshot, from its file name (None for other files). Precise names give the exact count;
    plain names give whole kimg."""
    m = _SNAPSHOT_RE.match(name)
    if not m:
        return None
    return int(m.group(1)) * 1000 + int(m.group(2) or 0)


def list_snapshots(run_dir: str | os.PathLike) -> list[Path]:
    """Snapshot files of a run, oldest first."""
    run_dir = Path(run_dir)
    found = [(snapshot_nimg(p.name), p) for p in run_dir.iterdir() if p.is_file()]
    return [p for nimg, p in sorted((n, p) for n, p in found if n is not None)]


def used_labels(run_dir: Path) -> set[str]:
    """Progress labels already taken by snapshots or fakes grids (so a later file never reuses a name)."""
    labels = set()
    for p in run_dir.iterdir():
        m = _SNAPSHOT_RE.match(p.name) or _FAKES_RE.match(p.name)
        if m:
            labels.add(m.group(1) + (f".{m.group(2)}" if m.group(2) else ""))
    return labels


def choose_label(nimg: int, fractional_interval: bool, taken: set[str]) -> str:
    """NNNNNN (whole kimg) when free and the intervals are whole kimg, else NNNNNN.MMM."""
    plain = progress_label(nimg, precise=False)
    if not fractional_interval and plain not in taken:
        return plain
    return progress_label(nimg, precise=True)


def new_run_dir(outdir: Path, person: str, desc: str) -> Path:
    """Create runs/<person>/<NNNNN>-<desc> with the next free number (safe against concurrent starts)."""
    parent = outdir / person
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UsageError(f"cannot create the run folder under {parent}: {err.strerror or err}") from err
    numbers = [int(m.group(1)) for p in parent.iterdir() if (m := _RUN_RE.match(p.name))]
    number = max(numbers, default=-1) + 1
    while True:
        candidate = parent / f"{number:05d}-{desc}"
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            number += 1


# -- config and log ----------------------------------------------------------------------------------------------


def write_config(run_dir: Path, config: dict[str, Any]) -> None:
    with write_guard(str(run_dir / CONFIG_NAME)):
        atomic_write_bytes(run_dir / CONFIG_NAME, (json.dumps(config, indent=2) + "\n").encode())


def read_config(run_dir: Path) -> dict[str, Any]:
    from training.errors import DataError

    path = run_dir / CONFIG_NAME
    if not path.is_file():
        raise UsageError(f"{run_dir} has no {CONFIG_NAME}: it is not a likeness run folder; give the run folder "
                         "(runs/<person>/<NNNNN>-...) or one of its snapshots")
    try:
        config = json.loads(path.read_text())
    except ValueError as err:
        raise DataError(f"{path} is not valid JSON ({err}); restore it from a snapshot's 'config' entry") from err
    if not isinstance(config, dict) or "training" not in config:
        raise DataError(f"{path} is not a likeness training config")
    return config


class LogFile:
    """log.jsonl: appended one line per tick; each line is written whole with one write() and flushed."""

    def __init__(self, run_dir: Path):
        self.path = run_dir / LOG_NAME

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record) + "\n"
        with write_guard(str(self.path)):
            with open(self.path, "a") as f:
                f.write(line)
                f.flush()

    def _parse(self) -> tuple[list[dict[str, Any]], bool]:
        """Records, and whether some line was unreadable (cut short by a kill)."""
        if not self.path.exists():
            return [], False
        out, damaged = [], False
        for line in self.path.read_text().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                damaged = True
                continue
            if isinstance(record, dict):
                out.append(record)
        return out, damaged

    def records(self) -> list[dict[str, Any]]:
        return self._parse()[0]

    def truncate_after(self, nimg: int) -> list[dict[str, Any]]:
        """Drop what a killed run logged after the snapshot it resumes from; returns the dropped records."""
        records, damaged = self._parse()
        kept = [r for r in records if int(r.get("nimg", 0)) <= nimg]
        if damaged or len(kept) != len(records):
            data = "".join(json.dumps(r) + "\n" for r in kept).encode()
            with write_guard(str(self.path)):
                atomic_write_bytes(self.path, data)
        return [r for r in records if int(r.get("nimg", 0)) > nimg]


# -- locks, pins, retention --------------------------------------------------------------------------------------


class RunLock:
    """Held while a process trains in the folder, so a second `--resume` of a live run is refused."""

    def __init__(self, run_dir: Path):
        self.path = run_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.read(fd, 64).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise UsageError(f"{self.path.parent} is being trained right now (pid {other}); wait for it or stop "
                             "it (Ctrl-C writes a snapshot) before resuming") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


@contextlib.contextmanager
def _pins_lock(run_dir: Path) -> Iterator[None]:
    fd = os.open(run_dir / PINS_LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def read_pins(run_dir: str | os.PathLike) -> dict[str, str]:
    path = Path(run_dir) / PINS_NAME
    if not path.exists():
        return {}
    try:
        pins = json.loads(path.read_text())
    except ValueError:
        from training.errors import DataError

        raise DataError(f"{path} is not valid JSON; fix or delete it (it lists snapshots never to delete)") from None
    return {str(k): str(v) for k, v in pins.items()} if isinstance(pins, dict) else {}


def pin_snapshot(run_dir: str | os.PathLike, name: str, reason: str) -> None:
    """Mark a snapshot as never to be deleted by retention ("best", "approved", ...). Safe while training runs."""
    run_dir = Path(run_dir)
    name = Path(name).name
    if snapshot_nimg(name) is None:
        raise UsageError(f"{name} is not a snapshot file name (snapshot-NNNNNN.pt)")
    with _pins_lock(run_dir):
        if not (run_dir / name).is_file():
            raise UsageError(f"{run_dir / name} does not exist (already removed by retention?)")
        pins = read_pins(run_dir)
        pins[name] = reason
        atomic_write_bytes(run_dir / PINS_NAME, (json.dumps(pins, indent=2, sort_keys=True) + "\n").encode())


def unpin_snapshot(run_dir: str | os.PathLike, name: str) -> None:
    run_dir = Path(run_dir)
    with _pins_lock(run_dir):
        pins = read_pins(run_dir)
        if pins.pop(Path(name).name, None) is not None:
            atomic_write_bytes(run_dir / PINS_NAME, (json.dumps(pins, indent=2, sort_keys=True) + "\n").encode())


def prune_snapshots(run_dir: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` snapshots, sparing pinned ones; keep <= 0 keeps everything."""
    if keep <= 0:
        return []
    removed = []
    with _pins_lock(run_dir):
        pins = read_pins(run_dir)
        snapshots = list_snapshots(run_dir)
        for path in snapshots[:-keep]:
            if path.name not in pins:
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


def forget_after(run_dir: Path, nimg: int) -> None:
    """Before a resume from `nimg`: drop the log lines and fakes grids of the work a kill lost, and half-written
    temporaries, so the resumed run writes the same names an uninterrupted run would have written."""
    for record in LogFile(run_dir).truncate_after(nimg):
        grid = record.get("grid")
        if isinstance(grid, str) and _FAKES_RE.match(grid):
            (run_dir / grid).unlink(missing_ok=True)
    remove_stale_temps(run_dir)


def clear_unstarted(run_dir: Path) -> None:
    """Before a run that never wrote a snapshot starts again in its folder: drop what its first start wrote (log,
    grids, TensorBoard events, temporaries), so the folder ends as a run started once would leave it."""
    if list_snapshots(run_dir):
        raise UsageError(f"{run_dir} has snapshots; resume it instead of starting it again")
    for p in run_dir.iterdir():
        if p.is_file() and (p.name in (LOG_NAME, "reals.png") or _FAKES_RE.match(p.name) or p.name == "fakes_init.png"
                            or p.name.startswith("events.out.tfevents.")):
            p.unlink()
    remove_stale_temps(run_dir)


def remove_stale_temps(run_dir: Path) -> list[Path]:
    """Half-written temporaries left by a killed process (the finished files are never touched)."""
    stale = [p for p in run_dir.iterdir() if p.name.startswith(".") and TEMP_MARK in p.name]
    for p in stale:
        p.unlink(missing_ok=True)
    return stale


# -- the rank-0 writer ---------------------------------------------------------------------------------------------


TENSORBOARD_SKIPPED = ("tick", "kimg", "nimg", "time")  # the axes, not values to plot


class RunWriter:
    """Everything rank 0 writes into the run folder."""

    def __init__(self, run_dir: Path, config: dict[str, Any], keep: int, fractional: bool):
        self.run_dir = run_dir
        self.config = config
        self.keep = keep
        self.fractional = fractional
        self.log = LogFile(run_dir)
        self.taken = used_labels(run_dir)
        self.last_snapshot: Path | None = None
        self.tb = None

    def open_tensorboard(self, resumed_at: int | None) -> None:
        """Events beside log.jsonl when tensorboard is installed; a resumed run hides what the killed one logged."""
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            return
        # log.jsonl keeps the ticks up to the snapshot (nimg <= resumed_at); TensorBoard drops steps >= purge_step.
        purge_step = None if resumed_at is None else resumed_at + 1
        self.tb = SummaryWriter(str(self.run_dir), purge_step=purge_step)

    def tick(self, record: dict[str, Any]) -> None:
        self.log.append(record)
        if self.tb is not None:
            # The step is images shown, not whole kimg: ticks shorter than 1 kimg stay apart and a resume can purge
            # exactly what came after its snapshot.
            for key, value in record.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool) and key not in TENSORBOARD_SKIPPED:
                    self.tb.add_scalar(key, value, global_step=int(record["nimg"]), walltime=record.get("time"))
            self.tb.flush()

    def label(self, nimg: int) -> str:
        label = choose_label(nimg, self.fractional, self.taken)
        self.taken.add(label)
        return label

    def snapshot(self, payload: dict[str, Any], label: str) -> Path:
        path = self.run_dir / f"snapshot-{label}.pt"
        previous = self.last_snapshot.name if self.last_snapshot else "no earlier snapshot"
        hint = (f"; {previous} is intact: free some space, then continue with "
                f"`likeness train --resume {self.run_dir}`")
        with write_guard(str(path), hint):
            save_checkpoint(path, payload, force=False)
        self.last_snapshot = path
        with write_guard(f"(deleting old snapshots in) {self.run_dir}"):
            prune_snapshots(self.run_dir, self.keep)
        return path

    def grid(self, image, name: str) -> None:
        path = self.run_dir / name
        with write_guard(str(path)):
            save_png(path, image)

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()
