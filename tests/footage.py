"""Test footage written with PyAV: every frame carries its own index as a barcode of big black/white blocks.

The barcode is a 4x4 grid of cells (16 bits, row-major, most significant first) filling the central square of
the picture, the part a centred crop keeps; the rest of the picture is mid grey, so letterbox bars (exact 0) and
picture edges can be told apart. Cells are big enough to survive H.264 and downscaling to 16 px.
"""

from __future__ import annotations

import io
import zipfile
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import PIL.Image

GRID = 4


def barcode_frame(index: int, width: int = 160, height: int = 90) -> np.ndarray:
    frame = np.full((height, width, 3), 128, np.uint8)
    side = min(width, height)
    x0, y0 = (width - side) // 2, (height - side) // 2
    bits = [(index >> (GRID * GRID - 1 - b)) & 1 for b in range(GRID * GRID)]
    for b, bit in enumerate(bits):
        r, c = divmod(b, GRID)
        ys = slice(y0 + r * side // GRID, y0 + (r + 1) * side // GRID)
        xs = slice(x0 + c * side // GRID, x0 + (c + 1) * side // GRID)
        frame[ys, xs] = 255 if bit else 0
    return frame


def read_barcode(image: np.ndarray, box: tuple[float, float, float, float] | None = None) -> int:
    """The index written by `barcode_frame`, read from the cell centres of the square `box` (default: all)."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = box or (0, 0, w, h)
    grey = image.mean(axis=2) if image.ndim == 3 else image
    value = 0
    for b in range(GRID * GRID):
        r, c = divmod(b, GRID)
        cx = x0 + (c + 0.5) * (x1 - x0) / GRID
        cy = y0 + (r + 0.5) * (y1 - y0) / GRID
        patch = grey[int(cy) - 1:int(cy) + 2, int(cx) - 1:int(cx) + 2]
        value = (value << 1) | int(patch.mean() > 128)
    return value


def write_video(path: Path, times: list[Fraction], *, time_base: Fraction, rate: Fraction, width: int = 160,
                height: int = 90, codec: str = "libx264", rotation: int | None = None, first_index: int = 0,
                gop: int | None = None, picture=None) -> Path:
    """Frame i (barcode first_index + i) at times[i] seconds; times must be multiples of time_base."""
    container = av.open(str(path), "w")
    stream = container.add_stream(codec, rate=rate, options={"g": str(gop)} if gop else {})
    stream.width, stream.height = width, height
    stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
    stream.codec_context.time_base = time_base
    if rotation is not None:
        stream.set_display_rotation(rotation)
    for i, t in enumerate(times):
        pts = t / time_base
        assert pts.denominator == 1, "times must be multiples of the time base"
        array = picture(first_index + i) if picture else barcode_frame(first_index + i, width, height)
        frame = av.VideoFrame.from_ndarray(array, format="rgb24")
        frame.pts = int(pts)
        frame.time_base = time_base
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    return path


def cfr_video(path: Path, count: int, rate: Fraction, **kw) -> Path:
    rate = Fraction(rate)
    tb = 1 / rate
    return write_video(path, [i * tb for i in range(count)], time_base=tb, rate=rate, **kw)


def decoded_times(path: Path) -> list[Fraction]:
    """Frame times (seconds from the stream start) as PyAV decodes them: the reference for expected indices."""
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        origin = s.start_time or 0
        return [(f.pts - origin) * Fraction(s.time_base) for f in c.decode(s)]


def average_rate(path: Path) -> Fraction:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        return Fraction(s.average_rate or s.guessed_rate)


def expected_indices(times: list[Fraction], fps: Fraction, half: Fraction, start: Fraction = Fraction(0),
                     end: Fraction | None = None) -> list[int]:
    """For each target start + k/fps (< end), the index of the first frame at or after it minus half a frame."""
    chosen = []
    k = 0
    while True:
        target = start + Fraction(k) / fps
        if end is not None and target >= end:
            break
        later = [i for i, t in enumerate(times) if t >= target - half]
        if not later:
            break
        chosen.append(later[0])
        k += 1
    return chosen


def zip_images(path: Path) -> list[np.ndarray]:
    with zipfile.ZipFile(path) as zf:
        names = sorted(n for n in zf.namelist() if n.endswith(".png"))
        return [np.array(PIL.Image.open(io.BytesIO(zf.read(n))).convert("RGB")) for n in names]


def zip_indices(path: Path, box=None) -> list[int]:
    return [read_barcode(image, box) for image in zip_images(path)]


def corrupt_packet(src: Path, dst: Path, packet_index: int) -> Fraction:
    """Copy `src` to `dst` with the payload of one packet (decode order) scrambled; returns that packet's time.

    The container stays valid; only the decoder fails, as it does on a damaged recording.
    """
    with av.open(str(src)) as inp, av.open(str(dst), "w", format=inp.format.name.split(",")[0]) as out:
        ist = inp.streams.video[0]
        ost = out.add_stream_from_template(ist)
        when = None
        for i, packet in enumerate(p for p in inp.demux(ist) if p.dts is not None):
            if i == packet_index:
                data = bytes(packet)
                keep = min(8, len(data) // 4)
                damaged = av.Packet(data[:keep] + bytes((b * 7 + 13) & 255 for b in data[keep:]))
                damaged.pts, damaged.dts, damaged.time_base = packet.pts, packet.dts, packet.time_base
                damaged.is_keyframe = packet.is_keyframe
                when = (packet.pts - (ist.start_time or 0)) * Fraction(ist.time_base)
                packet = damaged
            packet.stream = ost
            out.mux(packet)
    assert when is not None
    return when


def missing_times(good: Path, bad: Path) -> list[Fraction]:
    """Frame times present in `good` that a plain single-threaded decode of `bad` does not produce."""

    def times(path):
        out = []
        with av.open(str(path)) as c:
            s = c.streams.video[0]
            s.thread_type = "NONE"  # no frame threading: errors are raised on the packet that caused them
            for packet in c.demux(s):
                try:
                    out += [(f.pts - (s.start_time or 0)) * Fraction(s.time_base) for f in packet.decode()
                            if not f.is_corrupt]
                except av.FFmpegError:
                    pass
        return out

    return sorted(set(times(good)) - set(times(bad)))


def prepare_options(inputs, out, **kw):
    """PrepareOptions for a test run: a named sitter, recorded consent, 32 px and no progress bar unless changed."""
    from training.footage.prepare import PrepareOptions

    base = dict(person="Test Sitter", consent="synthetic test footage", size=32, progress=False)
    base.update(kw)
    return PrepareOptions(inputs=[str(p) for p in inputs], output=str(out), **base)
