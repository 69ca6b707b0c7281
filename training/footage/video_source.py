"""Video files as a stream of (time, frame) with exact times, and what we can learn about them before decoding.

Times are `Fraction` seconds from the stream's start (pts x time_base - start_time), the same clock a player shows.
Decoding uses FFmpeg's own threads; a frame the decoder cannot produce is located exactly (even with frame
threading, which reports errors a few packets late) and either stops the run or is reported and skipped.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from training.errors import DataError, UsageError

# Seek instead of decoding from the top when the wanted part starts this far into a file, and land this much
# before it (backward to a keyframe), so frames within half a frame of the start are never missed.
SEEK_AFTER = Fraction(3)
SEEK_MARGIN = Fraction(1)

DEPENDENT = "predicted from an undecodable frame"

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".gif"})


@dataclass(frozen=True)
class VideoInfo:
    """What prepare needs to know about one video before decoding it all."""

    path: Path
    codec: str
    width: int  # coded size; `rotation` says how to turn it for display
    height: int
    rotation: int  # counter-clockwise degrees, a multiple of 90
    frame_rate: Fraction | None  # average rate (for VFR footage the mean frame)
    duration: Fraction
    sample_aspect: Fraction  # width of a pixel relative to its height (1 for almost all footage)
    origin_pts: int | None  # stream start in time_base units; None: first decoded frame
    time_base: Fraction

    @property
    def half_frame(self) -> Fraction:
        return Fraction(1, 2) / self.frame_rate if self.frame_rate else Fraction(0)

    @property
    def display_size(self) -> tuple[int, int]:
        """Width and height as shown (after rotation), in coded pixels."""
        return (self.height, self.width) if self.rotation % 180 else (self.width, self.height)


@dataclass(frozen=True)
class BadFrame:
    """A frame the decoder failed on: where it is and what FFmpeg said."""

    time: Fraction | None  # seconds from the stream start, None when the file gives no timestamp
    reason: str
    dependent: bool = False  # decoded, but predicted from a frame that failed: damaged until the next keyframe


_local = threading.local()


def frame_to_image(frame):
    """A decoded frame as a PIL image (mode RGBX) for resizing, converted in the calling thread.

    Each thread keeps one swscale context (setting one up costs as much as the conversion) and converts to
    a 4-byte-per-pixel format that PIL can wrap without copying; the image keeps the frame's memory alive.
    """
    import PIL.Image
    from av.video.reformatter import VideoReformatter

    reformatter = getattr(_local, "reformatter", None)
    if reformatter is None:
        reformatter = _local.reformatter = VideoReformatter()
    rgb = reformatter.reformat(frame, format="rgb0", threads=1)  # the worker pool already fills the cores
    plane = rgb.planes[0]
    return PIL.Image.frombuffer("RGBX", (rgb.width, rgb.height), plane, "raw", "RGBX", plane.line_size, 1)


def normalise_rotation(degrees: float | int | None) -> int:
    """Display-matrix angles to 0/90/180/270 (counter-clockwise); phones only ever write multiples of 90."""
    if not degrees:
        return 0
    return int(round(float(degrees) / 90.0)) % 4 * 90


def _open(path: Path):
    import av

    try:
        return av.open(str(path))
    except av.FFmpegError as err:
        raise DataError(f"{path} is not a video that FFmpeg can read ({_reason(err)}); give a video file (mp4, "
                        "mov, mkv, webm...) or a folder of images") from err


def _reason(err: Exception) -> str:
    text = getattr(err, "strerror", None) or str(err)
    return text.split(":")[0].strip() if text else type(err).__name__


def _video_stream(container, path: Path):
    """The footage: the first video stream that is not a cover picture (mp4/mkv may carry artwork as one)."""
    import av

    moving = [s for s in container.streams.video if not s.disposition & av.stream.Disposition.attached_pic]
    if not moving:
        kinds = sorted({s.type for s in container.streams}) or ["nothing"]
        what = "only a cover picture" if container.streams.video else f"it holds {', '.join(kinds)}"
        raise DataError(f"{path} has no video stream ({what}); give the file with the footage")
    stream = moving[0]
    stream.thread_type = "AUTO"
    return stream


def probe_video(path: str | os.PathLike) -> VideoInfo:
    """Open a video, read its metadata and its first frame; refuse files that cannot give us frames."""
    path = Path(path)
    if not path.exists():
        raise UsageError(f"{path} does not exist; check the path")
    if path.is_dir():
        raise UsageError(f"{path} is a folder; give either video files or one folder of images, not both")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        raise UsageError(f"{path} is a single image; put the images in a folder and give the folder")
    container = _open(path)
    with container:
        stream = _video_stream(container, path)
        tb = stream.time_base or Fraction(1, 1_000_000)
        rate = stream.average_rate or stream.guessed_rate or None
        first = _first_frame(container, stream, path)
        origin = stream.start_time if stream.start_time is not None else first.pts
        duration = _metadata_duration(container, stream, tb)
        if duration is None:
            duration = _scan_duration(path, origin, rate)
        if duration <= 0:
            raise DataError(f"{path} has a video stream of zero length; the file is empty or was cut off")
        sar = stream.sample_aspect_ratio or stream.codec_context.sample_aspect_ratio
        return VideoInfo(
            path=path,
            codec=stream.codec_context.name,
            width=stream.codec_context.width or first.width,
            height=stream.codec_context.height or first.height,
            rotation=normalise_rotation(first.rotation),
            frame_rate=Fraction(rate) if rate else None,
            duration=duration,
            sample_aspect=Fraction(sar) if sar and sar > 0 else Fraction(1),
            origin_pts=origin,
            time_base=Fraction(tb),
        )


def _first_frame(container, stream, path: Path):
    import av

    try:
        for frame in container.decode(stream):
            return frame
    except av.FFmpegError as err:
        raise DataError(f"{path}: the first frames do not decode ({_reason(err)}); the file is damaged or its "
                        "codec is not supported") from err
    raise DataError(f"{path} has a video stream but no frames; the file is empty or was cut off while recording")


def _metadata_duration(container, stream, tb: Fraction) -> Fraction | None:
    if stream.duration and stream.duration > 0:
        return stream.duration * Fraction(tb)
    if container.duration and container.duration > 0:
        return Fraction(container.duration, 1_000_000)
    return None


def _scan_duration(path: Path, origin: int | None, rate) -> Fraction:
    """Duration from the packets themselves (end of the last one) when the container does not say."""
    container = _open(path)
    with container:
        stream = _video_stream(container, path)
        tb = Fraction(stream.time_base)
        end = None
        for packet in container.demux(stream):
            if packet.pts is None:
                continue
            length = packet.duration or (round(1 / (rate * tb)) if rate else 0)
            end = max(end or 0, packet.pts + length)
        if end is None:
            return Fraction(0)
        return (end - (origin or 0)) * tb


class FrameReader:
    """Decoded frames of one video from a given time on, each with its exact time from the stream start.

    `on_bad(bad)` is called for every frame the decoder fails on; it raises to stop the run or returns to skip.
    """

    def __init__(self, info: VideoInfo, on_bad: Callable[[BadFrame], None]):
        self.info = info
        self.on_bad = on_bad
        self.decoded = 0  # frames that came out of the decoder, used or not
        self._tainted = False  # a frame failed and no keyframe has come since

    def frames(self, from_time: Fraction = Fraction(0)) -> Iterator[tuple[Fraction, object]]:
        """Yield (time, av.VideoFrame) for every decodable frame at or after `from_time` (seconds)."""
        seek_to = from_time - SEEK_MARGIN if from_time > SEEK_AFTER else None
        first = True
        for time, frame in self._decode(seek_to):
            if first and seek_to is not None and time > from_time:
                # The seek landed after the part we need (a broken index): start over from the top.
                yield from self._from_top(from_time)
                return
            first = False
            if time >= from_time:
                yield time, frame

    def _from_top(self, from_time: Fraction) -> Iterator[tuple[Fraction, object]]:
        for time, frame in self._decode(None):
            if time >= from_time:
                yield time, frame

    def _time(self, pts: int | None, previous: Fraction | None) -> Fraction:
        info = self.info
        if pts is None:
            step = 1 / info.frame_rate if info.frame_rate else Fraction(0)
            return Fraction(0) if previous is None else previous + step
        return (pts - (info.origin_pts or 0)) * info.time_base

    def _decode(self, seek_to: Fraction | None) -> Iterator[tuple[Fraction, object]]:
        """Every frame the decoder gives, in presentation order; failures go to `on_bad`.

        A decoder error names the packet being sent, which with frame threading is a few packets after the one
        that failed. So every packet sent but not yet shown at that moment becomes a suspect; a suspect whose
        turn passes without its frame coming out is the bad frame. The frames after it are predicted from it
        (H.264, HEVC...): the decoder shows them without complaint, smeared, so they count as bad too until
        the next keyframe. Intra-only codecs (ProRes, MJPEG) make every frame a keyframe and lose only one.
        """
        import av

        info = self.info
        container = _open(info.path)
        with container:
            stream = _video_stream(container, info.path)
            if seek_to is not None and seek_to > 0:
                target = (info.origin_pts or 0) + int(seek_to / info.time_base)
                container.seek(target, stream=stream, backward=True, any_frame=False)
            pending: list[int] = []  # pts of packets sent whose frames have not come out yet
            suspects: dict[int, str] = {}  # pts -> the decoder's complaint
            previous: Fraction | None = None
            for packet in container.demux(stream):
                if packet.pts is not None:
                    pending.append(packet.pts)
                try:
                    decoded = packet.decode()
                except av.FFmpegError as err:
                    for pts in pending:
                        suspects.setdefault(pts, _reason(err))
                    if packet.pts is None:
                        self._bad(BadFrame(previous, _reason(err)))
                    continue
                for frame in decoded:
                    self.decoded += 1
                    if suspects and frame.pts is not None:
                        self._report_lost(suspects, frame.pts, previous)
                    if frame.pts is not None:
                        pending = [p for p in pending if p > frame.pts]
                    time = self._time(frame.pts, previous)
                    previous = time
                    if frame.is_corrupt:
                        self._bad(BadFrame(time, "the decoder marked the frame as corrupt"))
                        continue
                    if self._tainted and not frame.key_frame:
                        self._bad(BadFrame(time, DEPENDENT, dependent=True))
                        continue
                    self._tainted = False
                    yield time, frame
            self._report_lost(suspects, None, previous)

    def _bad(self, bad: BadFrame) -> None:
        self._tainted = True
        self.on_bad(bad)

    def _report_lost(self, suspects: dict[int, str], shown_pts: int | None, previous: Fraction | None) -> None:
        """Suspects before the frame just shown (all of them at the end) never came out: they are bad."""
        for pts in sorted(suspects):
            if shown_pts is not None and pts >= shown_pts:
                break
            self._bad(BadFrame(self._time(pts, previous), suspects.pop(pts)))
        if shown_pts is not None:
            suspects.pop(shown_pts, None)
