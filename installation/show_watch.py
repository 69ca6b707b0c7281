"""`likeness show --watch`: the show file and its includes re-checked when they change, the edit taken over at the
next scene boundary.

A small thread polls the size and modification time of every file the show names (the show file, each `include:`,
also one that does not exist yet) twice a second. A change is checked once the files have stood still for one poll
(an editor half way through a save is not checked), with the same `check_show` as `likeness check`:

- it passes: the new show (and, when it names people the running pool lacks, their models, loaded in the thread)
  waits in `ready`; the live loop takes it when the playing scene ends (`carry_over` maps the control state);
- it fails: every problem is logged once, `FILE:LINE:COLUMN: ...`, the running show plays on unchanged, and a show
  that was waiting for the boundary is dropped (what plays is the file as it is now, or the show as it was).

Nothing here draws or touches the network; the live loop (installation/live_show.py) asks `take()` each frame.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from installation import control
from installation.show import Show

log = logging.getLogger("likeness.render")

POLL_SECONDS = 0.5

Snapshot = dict[Path, tuple[int, int] | None]


def named_files(path: Path) -> list[Path]:
    """Every file the show at `path` names, read or not (the show file itself when it cannot be read at all)."""
    from installation.show_file import read_show_source
    from training.errors import UsageError

    try:
        return list(dict.fromkeys([path, *read_show_source(path).named]))
    except UsageError:
        return [path]


def snapshot(files: list[Path]) -> Snapshot:
    """(mtime in ns, size) of each file, None for one that is not there."""
    out: Snapshot = {}
    for file in files:
        try:
            st = file.stat()
            out[file] = (st.st_mtime_ns, st.st_size)
        except OSError:
            out[file] = None
    return out


class ShowWatcher:
    """Polls the show's files in a daemon thread; `take()` hands over a checked edit (and what `prepare` made)."""

    def __init__(self, path: Path, registry: Path | None = None, *, prepare: Callable[[Show], Any] | None = None,
                 interval: float = POLL_SECONDS) -> None:
        self.path, self.registry, self.prepare, self.interval = Path(path), registry, prepare, interval
        self.files = named_files(self.path)
        self.checked = snapshot(self.files)   # the files as the running (or waiting) show was checked
        self.ready: tuple[Show, Any] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="likeness-watch", daemon=True)

    def start(self) -> "ShowWatcher":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def take(self) -> tuple[Show, Any] | None:
        """The checked edit waiting for the scene boundary, if any (without taking it: `clear()` once used)."""
        with self._lock:
            return self.ready

    def clear(self, taken: tuple[Show, Any]) -> None:
        with self._lock:
            if self.ready is taken:
                self.ready = None

    def _run(self) -> None:
        seen = self.checked
        while not self._stop.wait(self.interval):
            now = snapshot(self.files)
            if now != seen:          # still changing (or just changed): look again next poll
                seen = now
                continue
            if now != self.checked:
                self.poll_once(now)
                seen = self.checked

    def poll_once(self, now: Snapshot | None = None) -> None:
        """Check the files as they are now (the thread calls this when they changed and stood still)."""
        from training.errors import DataError, UsageError

        from installation.show_check import check_show

        self.files = named_files(self.path)
        self.checked = snapshot(self.files) if now is None or set(now) != set(self.files) else now
        name = self.path.name
        try:
            show = check_show(self.path, registry=self.registry)
            extra = self.prepare(show) if self.prepare is not None else None
        except (UsageError, DataError) as err:
            problems = getattr(err, "problems", None) or str(err).splitlines()
            with self._lock:
                dropped, self.ready = self.ready is not None, None
            log.warning("%s changed but does not pass the check (%d problem%s); the show plays on unchanged%s",
                        name, len(problems), "" if len(problems) == 1 else "s",
                        " and the edit waiting for the scene boundary is dropped" if dropped else "")
            for line in problems:
                log.warning("%s", line)
            return
        with self._lock:
            self.ready = (show, extra)
        log.info("%s changed; switching at the next scene boundary", name)


def carry_over(settled: control.ControlState, t: float, old: Show, new: Show) -> control.ControlState:
    """The control state for `new` at the boundary `settled` (settled at t under the old show) has just crossed.

    The scene that just began is found in the new show by name, else by its place (the last scene when the new show
    is shorter); the scene it came from likewise by name, else none (its transition comes from black or the
    background, as the first scene's does). A show that had ended starts the new one from its first scene at t.
    Pause, freeze, speed, truncation, fades, overrides and directions stay as the performer left them."""
    names = {scene.name: i for i, scene in enumerate(new.scenes)}
    if settled.ended:
        return replace(settled, scene=control.SceneAnchor(0, t, None), ended=False, pending_go=False)
    anchor = settled.scene
    index = names.get(old.scenes[anchor.index].name, min(anchor.index, len(new.scenes) - 1))
    came = names.get(old.scenes[anchor.came_from].name) if anchor.came_from is not None else None
    return replace(settled, scene=control.SceneAnchor(index, anchor.start, came))
