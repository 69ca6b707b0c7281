"""The performance log: every applied control event with its show time, one JSON line each, for `export --replay`.

A live log is appended as the show runs and flushed after every line, so a crash keeps everything performed up to
it (it is a journal, not an output that appears whole: there is nothing to rename). The first line says what the
file is; each further line is `{"t": SHOW_SECONDS, "address": "/likeness/...", "args": [...]}`. The reader checks
every line against the address space and refuses a malformed one with file:line, so a replay never renders
something the live show would have ignored.
"""

from __future__ import annotations

import json
import math
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

from installation.control import ControlEvent
from installation.osc_space import Refused, check_message
from training.errors import DataError, UsageError

FORMAT = "likeness-performance"
VERSION = 1


def timestamp_name(now: datetime | None = None) -> str:
    """`20261202T134501Z.jsonl`: a UTC timestamp that sorts in time order and is safe in any file system."""
    now = now or datetime.now(timezone.utc)
    return now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%S") + f"{now.microsecond // 1000:03d}Z.jsonl"


class PerformanceLog:
    """Appends events to a new log file (never an existing one); each line is flushed as it is written."""

    def __init__(self, path: str | os.PathLike, header: dict | None = None) -> None:
        self.path = Path(path)
        if not self.path.parent.is_dir():
            raise UsageError(f"the folder {self.path.parent} does not exist; create it or choose another log folder")
        try:
            self._file: IO[str] | None = open(self.path, "x", encoding="utf-8")
        except FileExistsError:
            raise UsageError(f"{self.path} already exists; performance logs are never overwritten") from None
        started = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        self._write({"format": FORMAT, "version": VERSION, "started": started, **(header or {})})

    @classmethod
    def in_folder(cls, folder: str | os.PathLike = "performances", header: dict | None = None) -> "PerformanceLog":
        """A new log `FOLDER/<UTC timestamp>.jsonl`, creating the folder."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        return cls(folder / timestamp_name(), header)

    def _write(self, record: dict) -> None:
        if self._file is None:
            raise ValueError("the performance log is closed")
        self._file.write(json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n")
        self._file.flush()

    def write(self, event: ControlEvent) -> None:
        self._write({"t": event.t, "address": event.address, "args": list(event.args)})

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> "PerformanceLog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _event(record: object, where: str) -> ControlEvent:
    if not isinstance(record, dict) or set(record) != {"t", "address", "args"}:
        raise DataError(f"{where}: expected an object with exactly t, address and args")
    t, address, args = record["t"], record["address"], record["args"]
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t):
        raise DataError(f"{where}: t must be a finite number of show seconds, got {t!r}")
    if not isinstance(address, str) or not isinstance(args, list):
        raise DataError(f"{where}: address must be a string and args a list")
    try:
        checked = check_message(address, tuple(args), None)
    except Refused as err:
        raise DataError(f"{where}: {err}") from None
    return ControlEvent(float(t), address, checked)


def read_performance(path: str | os.PathLike) -> list[ControlEvent]:
    """The events of a performance log, in order; DataError naming file:line at the first malformed line."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise UsageError(f"{path} does not exist; give a performances/*.jsonl file the show wrote") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a text file; give a performances/*.jsonl file the show wrote") from None
    events: list[ControlEvent] = []
    for number, line in enumerate(lines, start=1):
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(f"{where}: not JSON ({err.msg})") from None
        if number == 1:
            if not isinstance(record, dict) or record.get("format") != FORMAT:
                raise DataError(f"{where}: not a likeness performance log (no '{FORMAT}' header)")
            if record.get("version") != VERSION:
                raise DataError(f"{where}: performance log version {record.get('version')!r}; this likeness "
                                f"reads version {VERSION}")
            continue
        event = _event(record, where)
        if events and event.t < events[-1].t:
            raise DataError(f"{where}: show time {event.t} goes back before {events[-1].t}")
        events.append(event)
    if not lines:
        raise DataError(f"{path}:1: empty file, not a likeness performance log")
    return events
