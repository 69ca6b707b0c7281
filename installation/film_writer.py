"""Encode RGB frames into a film that appears whole at its name or not at all.

    with FilmWriter("film.mp4", width=1920, height=1080, rate=Fraction(30000, 1001), codec="h264", crf=18,
                    metadata=FilmMetadata(title="Windows", people=["ana"], comment="..."),
                    total_frames=n) as film:
        for rgb in frames:          # HxWx3 uint8, full-range RGB as the renderer draws it
            film.write(rgb)
    write_sidecar("film.mp4", {...})  # -> film.mp4.json

Everything is checked in the constructor (codec, extension, size, rate, crf, output free, parent folder), so a
caller can build the writer before any expensive rendering and fail in a second, not after an hour. Frames are
converted to BT.709 limited-range YUV explicitly and every stream is tagged so; timestamps are frame indices in a
time base of exactly 1/rate, so 30000/1001 stays exact. The film is written under a hidden temporary name in the
same folder and renamed when complete: an exception, Ctrl-C or SIGTERM in the middle removes it, a SIGKILL leaves
only the hidden temporary (cleaned by the next write of the same name), and a full disk raises one-line DataError.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from installation.film_codecs import (CodecSpec, check_crf, check_encoder_available, check_frame_size, check_preset,
                                      check_rate, codec_spec, container_format)
from training.atomic import atomic_output, atomic_write_bytes, check_output_free
from training.errors import DataError

SIDECAR_SUFFIX = ".json"
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


@dataclass(frozen=True)
class FilmMetadata:
    """What a screened film says about itself: container tags title, artist (the people) and comment."""

    title: str = ""
    people: Sequence[str] = field(default_factory=tuple)
    comment: str = ""  # provenance: snapshots, their sha256 and FID, the consent notes

    def tags(self) -> dict[str, str]:
        tags = {"title": self.title, "artist": ", ".join(self.people), "comment": self.comment}
        return {k: v for k, v in tags.items() if v}


def sidecar_path(film: str | os.PathLike) -> Path:
    """`film.mp4` -> `film.mp4.json`, `frames/` -> `frames.json`: the full name is kept, so film.mp4 and film.mov
    of the same show each keep their own sidecar."""
    film = Path(film)
    return film.with_name(film.name + SIDECAR_SUFFIX)


def write_sidecar(film: str | os.PathLike, data: dict[str, Any], *, force: bool = False) -> Path:
    """Write the film's sidecar JSON (show text, snapshots with sha256/FID/consent, render settings, frame count)
    atomically next to it and return its path. The film's own file name is recorded under "film"."""
    path = sidecar_path(film)
    record = {"film": Path(film).name, **data}
    try:
        text = json.dumps(record, indent=2, ensure_ascii=False) + "\n"
    except TypeError as err:
        raise ValueError(f"sidecar data must be plain JSON values: {err}") from err
    try:
        atomic_write_bytes(path, text.encode(), force=force)
    except OSError as err:
        raise DataError(f"could not write {path}: {err.strerror or err}") from err
    return path


class FilmWriter:
    """Context manager that encodes HxWx3 uint8 RGB frames to `path` (see the module docstring)."""

    def __init__(self, path: str | os.PathLike, *, width: int, height: int, rate: Fraction | int | str = 30,
                 codec: str = "h264", crf: int | None = None, preset: str | None = None,
                 metadata: FilmMetadata | None = None, force: bool = False, total_frames: int | None = None,
                 progress: bool = False):
        self.path = Path(path)
        self.spec, self.format = check_film_output(self.path, codec=codec, width=width, height=height, force=force)
        self.rate = check_rate(rate)
        check_crf(self.spec, crf)
        check_preset(self.spec, preset)
        self.crf = 18 if crf is None and self.spec.crf else crf
        self.preset = preset
        if total_frames is not None and total_frames < 1:
            raise ValueError(f"total_frames must be at least 1, not {total_frames}")
        self.width, self.height = width, height
        self.metadata = metadata or FilmMetadata()
        self.force = force
        self.total_frames = total_frames
        self.progress = progress
        self.frames_written = 0
        self._stack: ExitStack | None = None
        self._sink = None
        self._bar = None

    # -- what the sidecar should record ----------------------------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        """The render settings as plain data, for the sidecar."""
        out: dict[str, Any] = {"codec": self.spec.name, "encoder": self.spec.encoder, "pix_fmt": self.spec.pix_fmt,
                               "width": self.width, "height": self.height, "rate": str(self.rate),
                               "frames": self.frames_written}
        if self.spec.name != "png":
            out.update(container=self.format, colour="bt709", range="tv")
        if self.crf is not None:
            out["crf"] = self.crf
        if self.preset:
            out["preset"] = self.preset
        return out

    # -- the context manager ---------------------------------------------------------------------------------------

    def __enter__(self) -> FilmWriter:
        from installation.film_sinks import PngSequenceSink, VideoSink

        stack = ExitStack()
        try:
            stack.enter_context(_sigterm_as_exit())
            tmp = stack.enter_context(atomic_output(self.path, force=self.force, folder=self.format is None))
            with self._disk_errors():
                if self.format is None:
                    self._sink = PngSequenceSink(tmp, self.width, self.height)
                else:
                    self._sink = VideoSink(tmp, self.spec, self.format, self.width, self.height, self.rate,
                                           self.crf, self.preset, self.metadata.tags())
            if self.progress:
                from tqdm import tqdm

                self._bar = stack.enter_context(tqdm(total=self.total_frames, unit="frame", desc=self.path.name,
                                                     dynamic_ncols=True, disable=None))
        except BaseException as err:
            if self._sink is not None:
                self._sink.abort()
                self._sink = None
            stack.__exit__(type(err), err, err.__traceback__)  # the temporary is removed, never renamed
            raise
        self._stack = stack
        return self

    def write(self, rgb: np.ndarray) -> None:
        """Encode one frame: HxWx3 uint8, full-range RGB."""
        import av

        if self._sink is None:
            raise RuntimeError("FilmWriter.write() outside its `with` block")
        if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.shape != (self.height, self.width, 3):
            got = f"{rgb.dtype} {rgb.shape}" if isinstance(rgb, np.ndarray) else type(rgb).__name__
            raise ValueError(f"a frame must be uint8 of shape ({self.height}, {self.width}, 3), not {got}")
        if self.total_frames is not None and self.frames_written >= self.total_frames:
            raise ValueError(f"more frames than total_frames={self.total_frames}")
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        with self._disk_errors():
            self._sink.write(frame, self.frames_written)
        self.frames_written += 1
        if self._bar is not None:
            self._bar.update(1)

    def __exit__(self, exc_type, exc, tb) -> bool:
        stack, sink = self._stack, self._sink
        self._stack = self._sink = self._bar = None
        if stack is None:
            return False
        if exc_type is not None:
            sink.abort()
            stack.__exit__(exc_type, exc, tb)  # removes the temporary; the exception goes on
            return False
        try:
            if self.frames_written == 0:
                raise ValueError(f"no frames were written; {self.path} was not made")
            if self.total_frames is not None and self.frames_written != self.total_frames:
                raise ValueError(f"{self.frames_written} frames written but total_frames={self.total_frames}; "
                                 f"{self.path} was not made")
            with self._disk_errors():
                sink.finish()
        except BaseException as err:
            sink.abort()
            stack.__exit__(type(err), err, err.__traceback__)
            raise
        stack.__exit__(None, None, None)  # renames the finished film to its name
        return False

    def _disk_errors(self):
        return _disk_errors(self.path, self.frames_written)


@contextmanager
def _disk_errors(path: Path, frames: int) -> Iterator[None]:
    """A write that fails for lack of space becomes one line that names the film and how far it got."""
    try:
        yield
    except OSError as err:
        if isinstance(err, FileNotFoundError):
            raise
        if err.errno in _NO_SPACE:
            what = "file size limit reached" if err.errno == errno.EFBIG else "disk full"
            raise DataError(f"{what} at {path} after {frames} frames; nothing was written there: free some space "
                            "(or choose another folder) and export again") from err
        raise DataError(f"could not write {path} after {frames} frames: {err.strerror or err}") from err


@contextmanager
def _sigterm_as_exit() -> Iterator[None]:
    """While a film is open, SIGTERM unwinds like Ctrl-C (so the temporary is removed) instead of killing the
    process where it stands. Only where nobody else handles SIGTERM, and only in the main thread."""
    previous = None
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)


def check_film_output(path: str | os.PathLike, *, codec: str, width: int, height: int,
                      force: bool = False) -> tuple[CodecSpec, str | None]:
    """The writer's checks of the output, without a writer: for a command that wants to fail before loading
    models. Returns the codec and the container's muxer (None for a PNG sequence)."""
    spec = codec_spec(codec)
    fmt = container_format(spec, Path(path))
    check_frame_size(spec, width, height)
    check_encoder_available(spec)
    check_output_free(Path(path), force, folder=fmt is None)
    return spec, fmt
