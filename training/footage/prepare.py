"""Footage of one sitter to a dataset zip: sample frames at an exact rate, square them, store PNGs and provenance.

The main thread demuxes and decodes (FFmpeg adds its own threads) and decides which frames are wanted; a thread
pool converts the wanted ones to RGB, crops or letterboxes them and encodes PNGs (PIL and swscale release the
GIL, so the pool scales with cores). At most a few frames are in flight, so memory stays flat on 4K footage, and
results are written to the zip in order. The zip is built under a temporary name and renamed when complete.
"""

from __future__ import annotations

import datetime
import errno
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import PIL.Image

import training
from training.atomic import atomic_output, check_output_free, terminate_as_interrupt
from training.footage.dataset_writer import DatasetZipWriter, encode_png
from training.errors import DataError, UsageError
from training.footage.framing import FramePlan, check_size, plan_frame
from training.hashing import file_sha256, folder_sha256
from training.footage.image_folder import common_size, list_images, load_rgb
from training.footage.frame_targets import TargetClock
from training.footage.sharpness import laplacian_variance
from training.footage.timecode import describe_rate, expected_count, format_clock, format_rate, seconds_ms
from training.footage.video_source import BadFrame, FrameReader, VideoInfo, frame_to_image, normalise_rotation, probe_video


DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


@dataclass
class PrepareOptions:
    """Everything `likeness prepare` was asked to do (validated by `validate`)."""

    inputs: list[str]
    output: str
    person: str
    consent: str
    fps: Fraction | None = None
    size: int = 1024
    fit: str = "crop"
    crop_center: tuple[float, float] = (0.5, 0.5)
    start: Fraction | None = None
    end: Fraction | None = None
    png_level: int = 1
    report_blur: int = 0  # print this many of the blurriest frames (0: don't measure unless dropping)
    drop_blur: float | None = None
    skip_bad_frames: bool = False
    strict: bool = False  # refuse footage whose frames end well before the duration its container claims
    force: bool = False
    jobs: int = 0  # worker threads; 0: one per available core
    progress: bool = True
    face: object = None  # FaceOptions for fit "face" (training/footage/face_framing.py)


@dataclass
class Source:
    """One input as the dataset records it, placed on the shared timeline at `offset` seconds."""

    index: int
    given: str
    path: Path
    video: VideoInfo | None = None
    images: list[Path] = field(default_factory=list)
    image_size: tuple[int, int] | None = None
    offset: Fraction = Fraction(0)
    seen_until: Fraction | None = None  # end of the last frame the decoder gave (good or bad), seconds
    decoded_to_end: bool = False  # decoding ran to the end of the file (not stopped early by --end)

    @property
    def duration(self) -> Fraction:
        return self.video.duration if self.video else Fraction(0)

    @property
    def missing(self) -> Fraction:
        """How much of the container's claimed duration has no frames (0 unless the file is cut short): the
        frames of a truncated faststart mp4 or mkv end early while the header still gives the full duration."""
        info = self.video
        if info is None or not self.decoded_to_end:
            return Fraction(0)
        frame = 2 * info.half_frame or Fraction(1, 10)
        gap = info.duration - (self.seen_until if self.seen_until is not None else Fraction(0))
        return gap if gap > frame else Fraction(0)


@dataclass
class Job:
    """A wanted frame: where it came from, how many output slots it fills, and what to render."""

    source: int
    position: Fraction | str  # seconds into the source, or an image's name in its folder
    copies: int
    payload: object  # av.VideoFrame or Path
    plan: FramePlan


@dataclass
class FrameNote:
    """A frame mentioned in a report (skipped, dropped, blurry): which source and where in it."""

    source: int
    position: Fraction | str
    value: float | None = None
    reason: str = ""
    index: int | None = None  # output index, when the frame is in the dataset


@dataclass
class PrepareResult:
    output: Path
    frames: int
    bytes: int
    elapsed: float
    sources: list[Source]
    decoded: int
    repeats: int
    skipped: list[FrameNote]
    dropped: list[FrameNote]
    blurriest: list[FrameNote]
    provenance: dict


def available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def validate(options: PrepareOptions) -> None:
    """Refuse impossible requests before any file is opened (exit 2)."""
    if not options.inputs:
        raise UsageError("give at least one video file or a folder of images")
    if not options.output.lower().endswith(".zip"):
        raise UsageError(f"-o {options.output}: the dataset must be a .zip file (NVIDIA's loader, and ours, "
                         "recognise a dataset zip by that suffix)")
    output = Path(options.output).resolve()
    for given in options.inputs:
        if Path(given).resolve() == output:
            raise UsageError(f"-o {options.output} is also an input; choose another name for the dataset")
    if not options.person.strip():
        raise UsageError("--person is empty; name the sitter this dataset is of")
    if not options.consent.strip():
        raise UsageError(CONSENT_REFUSAL)
    try:
        check_size(options.size)
    except ValueError as err:
        raise UsageError(f"--size {err}") from None
    if options.fit not in ("crop", "letterbox", "face"):
        raise UsageError(f"--fit {options.fit!r} is unknown; use crop, letterbox or face")
    if options.fps is not None and options.fps <= 0:
        raise UsageError(f"--fps must be above zero, not {options.fps}; use e.g. 1 to pre-train, 10 for detail")
    if not 0 <= options.png_level <= 9:
        raise UsageError(f"--png-level must be 0 to 9, not {options.png_level}")
    if options.start is not None and options.end is not None and options.end <= options.start:
        raise UsageError(f"--end ({format_clock(options.end)}) must be after --start ({format_clock(options.start)})")
    if options.drop_blur is not None and options.drop_blur < 0:
        raise UsageError("--drop-blur must be zero or more (a variance of the Laplacian)")
    if options.fit == "face" or options.face is not None:
        from training.footage.face_prepare import validate_face

        validate_face(options)


CONSENT_REFUSAL = (
    "give --consent TEXT or --consent-file FILE: a dataset of a person is only as usable as the permission "
    "behind it, so the note travels inside the zip to every model and film made from it (who agreed, to what, "
    "when); if there is no record, say so honestly, e.g. --consent 'none recorded'"
)


class Preparer:
    """One run of `likeness prepare`."""

    def __init__(self, options: PrepareOptions, warn: Callable[[str], None] = lambda message: None):
        validate(options)
        self.options = options
        self.warn = warn
        self.output = Path(options.output)
        self.sources: list[Source] = []
        self.skipped: list[FrameNote] = []
        self.dropped: list[FrameNote] = []
        self.notes: list[FrameNote] = []  # every written frame's blur, when it is measured
        self.index: list[list] = []  # [source, position] per output frame
        self.decoded = 0
        self.clock: TargetClock | None = None
        self._plans: dict[tuple, FramePlan] = {}
        self.face_framer = None  # FaceFramer when fit is "face"
        self.face_boxes: list[list[float]] = []  # its crop per output frame

    # -- inputs ------------------------------------------------------------------------------------------------

    def open_inputs(self) -> None:
        opts = self.options
        paths = [Path(p) for p in opts.inputs]
        for path in paths:
            if not path.exists():
                raise UsageError(f"{path} does not exist; check the path")
        folders = [p for p in paths if p.is_dir()]
        if folders:
            if len(paths) > 1:
                raise UsageError("give either one folder of images or video files, not both or several folders")
            for flag, value in (("--fps", opts.fps), ("--start", opts.start), ("--end", opts.end)):
                if value is not None:
                    raise UsageError(f"{flag} applies to videos; a folder of images is used whole, one image per "
                                     "frame (leave out the flag, or remove images from the folder)")
            images = list_images(paths[0])
            self.sources = [Source(0, opts.inputs[0], paths[0], images=images, image_size=common_size(images))]
            return
        if opts.fps is None:
            raise UsageError("give --fps for video input: 1 to pre-train, 10 or 12 to add detail (any rate above "
                             "zero works, e.g. 0.5 or 30000/1001)")
        offset = Fraction(0)
        for i, (given, path) in enumerate(zip(opts.inputs, paths)):
            info = probe_video(path)
            self.sources.append(Source(i, given, path, video=info, offset=offset))
            offset += info.duration
        total = offset
        if opts.start is not None and opts.start >= total:
            raise UsageError(f"--start {format_clock(opts.start)} is at or after the end of the footage "
                             f"({format_clock(total)}); choose an earlier start")

    def warn_up_front(self) -> None:
        opts = self.options
        for src in self.sources:
            info = src.video
            if info and opts.fps and info.frame_rate and opts.fps > info.frame_rate:
                self.warn(f"--fps {describe_rate(opts.fps)} is above the frame rate of {src.path.name} "
                          f"({describe_rate(info.frame_rate)} fps): some frames will be repeated to fill the rate")
            width, height = info.display_size if info else src.image_size
            if opts.fit == "face":
                continue  # the crop's size follows the face; nothing to say before it is found
            plan = plan_frame(info.width if info else width, info.height if info else height, fit=opts.fit,
                              size=opts.size, center=opts.crop_center, rotation=info.rotation if info else 0,
                              sample_aspect=info.sample_aspect if info else Fraction(1))
            if plan.upscale:
                self.warn(f"{src.path.name} is {width}x{height}: frames are enlarged to {opts.size}x{opts.size}, "
                          "which adds no detail; a smaller --size may train better")

    @property
    def timeline_end(self) -> Fraction:
        return sum((s.duration for s in self.sources), Fraction(0))

    def estimated_frames(self) -> int:
        opts = self.options
        if self.sources and not self.sources[0].video:
            return len(self.sources[0].images)
        start = opts.start or Fraction(0)
        end = min(opts.end, self.timeline_end) if opts.end is not None else self.timeline_end
        return expected_count(start, end, opts.fps)

    # -- choosing frames ---------------------------------------------------------------------------------------

    def _plan(self, width: int, height: int, rotation: int, sample_aspect: Fraction) -> FramePlan:
        key = (width, height, rotation, sample_aspect)
        plan = self._plans.get(key)
        if plan is None:
            opts = self.options
            plan = plan_frame(width, height, fit="crop" if opts.fit == "face" else opts.fit, size=opts.size,
                              center=opts.crop_center, rotation=rotation, sample_aspect=sample_aspect)
            self._plans[key] = plan
        return plan

    def jobs(self) -> Iterator[Job]:
        if self.options.fit == "face":
            from training.footage.face_prepare import face_framer

            self.face_framer = face_framer(self)
            yield from self.face_framer.frame(self._source_jobs())
            return
        yield from self._source_jobs()

    def _source_jobs(self) -> Iterator[Job]:
        if not self.sources[0].video:
            yield from self._image_jobs(self.sources[0])
            return
        opts = self.options
        self.clock = TargetClock(opts.fps, opts.start or Fraction(0), opts.end)
        for src in self.sources:
            if self.clock.done:
                break
            yield from self._video_jobs(src, self.clock)

    def _image_jobs(self, src: Source) -> Iterator[Job]:
        width, height = src.image_size
        plan = self._plan(width, height, 0, Fraction(1))
        for path in src.images:
            yield Job(src.index, path.relative_to(src.path).as_posix(), 1, path, plan)

    def _video_jobs(self, src: Source, clock: TargetClock) -> Iterator[Job]:
        info = src.video
        local_from = clock.earliest_useful(info.half_frame) - src.offset
        if local_from >= info.duration:
            return  # the wanted part starts after this file
        reader = FrameReader(info, on_bad=lambda bad: self._on_bad(src, bad))
        frame_length = 2 * info.half_frame
        try:
            for local_time, frame in reader.frames(local_from):
                src.seen_until = max(src.seen_until or local_time, local_time + frame_length)
                copies = clock.take(src.offset + local_time, info.half_frame)
                if copies:
                    plan = self._plan(frame.width, frame.height, normalise_rotation(frame.rotation),
                                      info.sample_aspect)
                    yield Job(src.index, local_time, copies, frame, plan)
                if clock.done:
                    break
            else:
                src.decoded_to_end = True
        finally:
            self.decoded += reader.decoded

    def _on_bad(self, src: Source, bad: BadFrame) -> None:
        opts = self.options
        if bad.time is not None:
            src.seen_until = max(src.seen_until or bad.time, bad.time + 2 * src.video.half_frame)
            when = src.offset + bad.time
            if opts.start is not None and when < opts.start - src.video.half_frame:
                return  # outside the wanted part: it would not have been used anyway
            if opts.end is not None and when >= opts.end:
                return
        if not opts.skip_bad_frames:
            where = f"at {format_clock(bad.time)}" if bad.time is not None else "at an unknown time"
            raise DataError(f"{src.path}: the frame {where} does not decode ({bad.reason}); the file is damaged "
                            "there: pass --skip-bad-frames to leave such frames out, or re-export the footage")
        self.skipped.append(FrameNote(src.index, bad.time if bad.time is not None else "unknown", reason=bad.reason))

    # -- running -----------------------------------------------------------------------------------------------

    def run(self) -> PrepareResult:
        opts = self.options
        started = time.monotonic()
        check_output_free(self.output, opts.force)
        self.open_inputs()
        self.warn_up_front()
        workers = opts.jobs or available_cores()
        want_blur = bool(opts.report_blur) or opts.drop_blur is not None
        hashes = BackgroundHashes(self.sources)
        writer = None
        try:
            with terminate_as_interrupt(), atomic_output(self.output, force=opts.force) as tmp:
                with DatasetZipWriter(tmp) as writer:
                    self._render_all(writer, workers, want_blur)
                    if writer.count == 0:
                        raise DataError(self._nothing_written())
                    self._check_complete(writer.count)
                    provenance = self.provenance(writer.count, hashes.result())
                    if self.face_framer is not None:
                        from training.footage.face_prepare import store_face_boxes

                        store_face_boxes(self, writer, provenance)
                    writer.finish({"labels": None, "likeness": provenance})
                    frames = writer.count
        except OSError as err:
            if err.errno not in DISK_FULL:
                raise
            written = writer.bytes if writer is not None else 0
            raise DataError(f"disk full at {self.output.resolve().parent}, {written / 1e6:.1f} MB written; nothing "
                            "was kept: free space there or choose another -o") from None
        elapsed = time.monotonic() - started
        blurriest = sorted((n for n in self.notes if n.value is not None), key=lambda n: n.value)
        return PrepareResult(self.output, frames, self.output.stat().st_size, elapsed, self.sources, self.decoded,
                             self.clock.repeats if self.clock else 0, self.skipped, self.dropped,
                             blurriest[: opts.report_blur], provenance)

    def _check_complete(self, frames: int) -> None:
        """--strict: footage cut short is an error rather than a note in the summary."""
        short = [src for src in self.sources if src.missing]
        if self.options.strict and short:
            src = short[0]
            raise DataError(f"{src.path}: its frames end at {format_clock(src.seen_until or Fraction(0))} but the "
                            f"container claims {format_clock(src.duration)} ({float(src.missing):.3f} s have no "
                            f"frames: the file is cut short); copy or export it again, or leave out --strict to "
                            f"keep the {frames} frames there are")

    def _nothing_written(self) -> str:
        opts = self.options
        if self.face_framer is not None and self.face_framer.flagged:
            return ("no frame has a single face that can be followed (--drop-faceless left out "
                    f"{len(self.face_framer.flagged)}); leave out --drop-faceless to keep them, or check the footage")
        if self.dropped:
            return (f"every frame is blurrier than --drop-blur {opts.drop_blur:g}; lower the threshold (see "
                    "--report-blur for the values)")
        if opts.start is not None or opts.end is not None:
            return "no frame lies between --start and --end; widen the range"
        return "no frame could be decoded from the input; check that the footage plays"

    def _render_all(self, writer: DatasetZipWriter, workers: int, want_blur: bool) -> None:
        from tqdm import tqdm

        opts = self.options
        in_flight: deque[tuple[Job, Future]] = deque()
        limit = 2 * workers + 2
        bar = tqdm(total=self.estimated_frames(), unit="frame", disable=not opts.progress or None,
                   dynamic_ncols=True, smoothing=0.1, desc="prepare")
        pool = ThreadPoolExecutor(workers, thread_name_prefix="likeness-frame")
        try:
            for job in self.jobs():
                in_flight.append((job, pool.submit(_render, job.payload, job.plan, opts.png_level, want_blur)))
                job.payload = None  # the worker holds the only reference: freed as soon as it is rendered
                if len(in_flight) >= limit:
                    self._store(writer, *in_flight.popleft(), bar)
            while in_flight:
                self._store(writer, *in_flight.popleft(), bar)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            bar.close()

    def _store(self, writer: DatasetZipWriter, job: Job, future: Future, bar) -> None:
        png, blur = future.result()
        drop = self.options.drop_blur
        if drop is not None and blur is not None and blur < drop:
            self.dropped.extend(FrameNote(job.source, job.position, blur) for _ in range(job.copies))
            bar.update(job.copies)
            return
        for _ in range(job.copies):
            if blur is not None:
                self.notes.append(FrameNote(job.source, job.position, blur, index=writer.count))
            writer.add(png)
            if self.face_framer is not None:
                self.face_boxes.append(job.plan.box())
            self.index.append([job.source, _position(job.position)])
        bar.update(job.copies)

    # -- provenance --------------------------------------------------------------------------------------------

    def provenance(self, frame_count: int, hashes: list[tuple[str, int]]) -> dict:
        """The `likeness` block of dataset.json: enough to say where every frame came from and under what terms."""
        opts = self.options
        return {
            "person": opts.person,
            "consent": opts.consent,
            "sources": [_source_entry(src, digest, size) for src, (digest, size) in zip(self.sources, hashes)],
            "fps": format_rate(opts.fps),
            "fit": opts.fit,
            "crop_center": list(opts.crop_center) if opts.fit == "crop" else None,
            "size": opts.size,
            "start": seconds_ms(opts.start) if opts.start is not None else None,
            "end": seconds_ms(opts.end) if opts.end is not None else None,
            "frame_count": frame_count,
            "repeated_frames": self.clock.repeats if self.clock else 0,
            "png_level": opts.png_level,
            "skipped_frames": [[n.source, _position(n.position), n.reason] for n in self.skipped],
            "drop_blur": opts.drop_blur,
            "dropped_frames": [[n.source, _position(n.position), round(n.value, 2)] for n in self.dropped],
            "tool": {"name": "likeness", "version": training.__version__},
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "frames": self.index,
        }


def _position(position: Fraction | str):
    return seconds_ms(position) if isinstance(position, Fraction) else position


class BackgroundHashes:
    """sha256 of every source, computed while the frames are (hashing 30 minutes of 4K takes a while).

    A daemon thread, so that a run stopped by bad input does not wait for the hash of a large file to finish.
    """

    def __init__(self, sources: list[Source]):
        self._sources = sources
        self._result: list[tuple[str, int]] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="likeness-hash", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._result = [_source_hash(src) for src in self._sources]
        except BaseException as err:  # noqa: BLE001 - handed to the main thread by result()
            self._error = err

    def result(self) -> list[tuple[str, int]]:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._result


def _source_hash(src: Source) -> tuple[str, int]:
    if src.video:
        return file_sha256(src.path), src.path.stat().st_size
    return folder_sha256(src.images, src.path), sum(p.stat().st_size for p in src.images)


def _source_entry(src: Source, digest: str, size: int) -> dict:
    entry = {"path": src.given, "name": src.path.name, "sha256": digest, "bytes": size}
    info = src.video
    if info is None:
        width, height = src.image_size
        entry.update(kind="images", image_count=len(src.images), width=width, height=height)
        return entry
    entry.update(
        kind="video",
        offset=seconds_ms(src.offset),
        duration=seconds_ms(info.duration),
        frame_rate=format_rate(info.frame_rate),
        width=info.width,  # as stored in the file; `rotation` turns it for display
        height=info.height,
        rotation=info.rotation,
        codec=info.codec,
    )
    if info.sample_aspect != 1:
        entry["sample_aspect"] = format_rate(info.sample_aspect)
    if src.missing:
        entry["frames_end"] = seconds_ms(src.seen_until)  # the file is cut short: frames stop here
        entry["missing"] = seconds_ms(src.missing)
    return entry


def _render(payload, plan: FramePlan, png_level: int, want_blur: bool) -> tuple[bytes, float | None]:
    """Worker: decoded frame (or image file) to PNG bytes, and its sharpness when asked."""
    if isinstance(payload, PIL.Image.Image):  # already a displayed picture (--fit face)
        image = payload
    else:
        image = load_rgb(payload) if isinstance(payload, Path) else frame_to_image(payload)
    out = plan.apply(image)
    if out.mode != "RGB":
        out = out.convert("RGB")
    png = encode_png(out, png_level)
    blur = laplacian_variance(out, plan.content) if want_blur else None
    return png, blur


def prepare(options: PrepareOptions, warn: Callable[[str], None] = lambda message: None) -> PrepareResult:
    """Run `likeness prepare` with `options`; raises UsageError/DataError on bad input, leaving no output."""
    return Preparer(options, warn).run()
