"""Outputs that appear whole or not at all.

Everything likeness writes goes to a hidden temporary sibling first and is renamed over the final name only when
complete, so a crash, Ctrl-C or SIGKILL at any moment leaves the final path as it was.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from training.errors import UsageError

TEMP_MARK = ".likeness-tmp-"


def check_output_free(path: str | os.PathLike, force: bool, *, folder: bool = False) -> None:
    """Refuse early, before any work, when an output would replace something the user did not ask to replace.

    `--force` replaces an output of the same kind only: a file we write never replaces a folder (that would delete
    everything in it), and a folder we write never replaces a file. Whether a folder holds only our own output is
    the caller's check (see `generate`)."""
    path = Path(path)
    if path.exists() and not force:
        raise UsageError(f"{path} already exists; choose another output or pass --force to replace it")
    if path.exists() and not path.is_symlink():
        if path.is_dir() and not folder:
            raise UsageError(f"{path} is a folder; --force replaces a file, never a folder and what is in it; "
                             "choose another output or move the folder away")
        if folder and not path.is_dir():
            raise UsageError(f"{path} exists and is not a folder; --force replaces a folder, never a file; "
                             "choose another output or move the file away")
    if not path.parent.exists():
        raise UsageError(f"the folder {path.parent} does not exist; create it first or choose another output")


def temp_sibling(path: Path) -> Path:
    """A hidden name in the same folder (same filesystem, so the final rename is atomic)."""
    return path.with_name(f".{path.name}{TEMP_MARK}{os.getpid()}")


def fsync_dir(folder: Path) -> None:
    """Make a rename durable: the directory entry itself must reach the disk."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, but someone else's
    return True


def remove_stale_temps(path: Path) -> list[Path]:
    """Delete temporary siblings of `path` left by killed runs (their process is gone); return what was removed.

    A SIGKILL cannot be caught, so the hidden temp of a killed run stays behind; the next run of the same output
    cleans it up instead of letting half-written multi-GB files pile up.
    """
    removed = []
    prefix = f".{path.name}{TEMP_MARK}"
    try:
        siblings = list(path.parent.iterdir())
    except OSError:
        return removed
    for sibling in siblings:
        tail = sibling.name[len(prefix):] if sibling.name.startswith(prefix) else ""
        if tail.isdigit() and int(tail) != os.getpid() and not _pid_alive(int(tail)):
            _remove(sibling)
            removed.append(sibling)
    return removed


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@contextmanager
def atomic_output(path: str | os.PathLike, *, force: bool = False, folder: bool = False) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces `path`, on any exception it is removed.

    Works for files and, with `folder`, for folders (a PNG sequence). An existing `path` is only replaced when
    `force` is set, and only by an output of the same kind (`check_output_free`).
    """
    final = Path(path)
    check_output_free(final, force, folder=folder)
    tmp = temp_sibling(final)
    remove_stale_temps(final)
    _remove(tmp)
    try:
        yield tmp
        if not tmp.exists():
            raise RuntimeError(f"nothing was written to the temporary output {tmp}")
        if tmp.is_dir() != folder:
            raise RuntimeError(f"the temporary output {tmp} is not a {'folder' if folder else 'file'}")
        if tmp.is_file():
            _fsync_file(tmp)
        check_output_free(final, force, folder=folder)  # again: something may have appeared meanwhile
        if folder and final.is_dir() and not final.is_symlink():
            _replace_folder(tmp, final)
        else:
            os.replace(tmp, final)
        fsync_dir(final.parent)
    except BaseException:
        _remove(tmp)
        raise


def _replace_folder(tmp: Path, final: Path) -> None:
    """os.replace cannot replace a non-empty folder: move the old one aside, the new one in, then delete the old."""
    old = final.with_name(f".{final.name}{TEMP_MARK}old-{os.getpid()}")
    _remove(old)
    os.replace(final, old)
    os.replace(tmp, final)
    _remove(old)


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, force: bool = True) -> None:
    """Small files (JSON, YAML): write whole, fsync, rename."""
    with atomic_output(path, force=force) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (`kill`, a scheduler's stop) ends the command as Ctrl-C does: temporary outputs are removed and the
    dispatcher prints one line, instead of Python dying at once with the temp file left behind."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
