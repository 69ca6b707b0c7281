"""FilmWriter: real films encoded with PyAV and decoded back; colour checked against a float64 BT.709 reference;
real child processes killed mid-film; a real full disk (a private tmpfs) where the machine allows one."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import PIL.Image
import pytest

from conftest import ROOT
from installation.film_codecs import CodecSpec, check_encoder_available
from installation.film_writer import FilmMetadata, FilmWriter, sidecar_path, write_sidecar
from training.errors import UsageError

W, H = 64, 48
# Four flat quadrants: a skin-like red, a blue, white and black (white and black show the limited range).
PATCHES = [(200, 40, 90), (30, 160, 220), (255, 255, 255), (0, 0, 0)]
META = FilmMetadata(title="Windows at dusk", people=["ana", "bo"], comment="ana: snapshot sha256 ab12, FID 31.2")


def quadrant_frame(i: int) -> np.ndarray:
    """The four patches, plus a bar along the top rows that moves each frame (so frames differ)."""
    rgb = np.empty((H, W, 3), np.uint8)
    for q, colour in enumerate(PATCHES):
        rgb[(q // 2) * H // 2:(q // 2 + 1) * H // 2, (q % 2) * W // 2:(q % 2 + 1) * W // 2] = colour
    rgb[:4, :] = 0
    rgb[:4, (4 * i) % W:(4 * i) % W + 4] = 255
    return rgb


def bt709_limited(rgb, bits: int) -> np.ndarray:
    """Y, Cb, Cr codes of a full-range 8-bit RGB colour, by the BT.709 equations in float64."""
    r, g, b = np.asarray(rgb, np.float64) / 255
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    cb, cr = (b - y) / (2 * (1 - 0.0722)), (r - y) / (2 * (1 - 0.2126))
    scale = 2 ** (bits - 8)
    return np.array([16 + 219 * y, 128 + 224 * cb, 128 + 224 * cr]) * scale


def plane(frame: av.VideoFrame, index: int, dtype) -> np.ndarray:
    p = frame.planes[index]
    item = np.dtype(dtype).itemsize
    return np.frombuffer(p, dtype).reshape(p.height, p.line_size // item)[:, :p.width]


def decode(path: Path) -> tuple[av.video.stream.VideoStream, list[av.VideoFrame], dict[str, str]]:
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        frames = list(c.decode(stream))
        return stream, frames, {k.lower(): v for k, v in c.metadata.items()}


def write_film(path: Path, codec: str, n: int = 6, rate=Fraction(30000, 1001), **kw) -> Path:
    with FilmWriter(path, width=W, height=H, rate=rate, codec=codec, metadata=META, total_frames=n, **kw) as film:
        for i in range(n):
            film.write(quadrant_frame(i))
    return path


VIDEO_CASES = [  # name, codec, rate, pixel format, profile, bits
    ("film.mp4", "h264", Fraction(30000, 1001), "yuv420p", "High", 8),
    ("film.mkv", "h264", Fraction(25), "yuv420p", "High", 8),
    ("film.mp4", "hevc", Fraction(24000, 1001), "yuv420p", "Main", 8),
    ("film.mov", "hevc", Fraction(30000, 1001), "yuv420p", "Main", 8),
    ("film.mov", "prores", Fraction(30000, 1001), "yuv422p10le", "HQ", 10),
]


@pytest.mark.parametrize("name,codec,rate,pix_fmt,profile,bits", VIDEO_CASES)
def test_video_decodes_back_exactly(tmp_path, name, codec, rate, pix_fmt, profile, bits):
    path = write_film(tmp_path / name, codec, n=6, rate=rate)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temporary left beside it
    stream, frames, meta = decode(path)
    cc = stream.codec_context
    assert len(frames) == 6 and stream.frames in (0, 6)
    assert (cc.width, cc.height, cc.pix_fmt, cc.profile) == (W, H, pix_fmt, profile)
    assert stream.average_rate == rate and isinstance(stream.average_rate, Fraction)
    assert [round(f.time * rate) for f in frames] == list(range(6))
    for tags in (cc, frames[0]):  # the stream header and each decoded frame
        assert (tags.color_primaries, tags.color_trc, tags.colorspace, tags.color_range) == (1, 1, 1, 1)
    if codec == "hevc" and name.endswith(".mov"):
        assert stream.codec_tag == "hvc1"
    assert meta["title"] == META.title and meta["artist"] == "ana, bo" and meta["comment"] == META.comment


@pytest.mark.parametrize("name,codec,rate,pix_fmt,profile,bits", VIDEO_CASES[::2])
def test_colour_is_bt709_limited_range(tmp_path, name, codec, rate, pix_fmt, profile, bits):
    path = write_film(tmp_path / name, codec, n=3, crf=1 if codec != "prores" else None)
    _, frames, _ = decode(path)
    frame = frames[-1]
    dtype = np.uint16 if bits > 8 else np.uint8
    y, cb, cr = (plane(frame, i, dtype).astype(np.float64) for i in range(3))
    sub_x, sub_y = W // cb.shape[1], H // cb.shape[0]
    tolerance = 2 * 2 ** (bits - 8)  # two 8-bit levels
    for q, colour in enumerate(PATCHES):
        cy, cx = (q // 2) * H // 2 + H // 4 + 2, (q % 2) * W // 2 + W // 4  # the middle of the quadrant
        got = [y[cy - 3:cy + 3, cx - 3:cx + 3].mean(),
               *(c[(cy - 3) // sub_y:(cy + 3) // sub_y, (cx - 3) // sub_x:(cx + 3) // sub_x].mean() for c in (cb, cr))]
        np.testing.assert_allclose(got, bt709_limited(colour, bits), atol=tolerance, err_msg=f"patch {colour}")
    # And back to RGB through the tags the file carries: the patches return within a few levels.
    rgb = frame.to_ndarray(format="rgb24", src_colorspace="ITU709", dst_colorspace="ITU709",
                           src_color_range="MPEG", dst_color_range="JPEG").astype(int)
    for q, colour in enumerate(PATCHES):
        cy, cx = (q // 2) * H // 2 + H // 4 + 2, (q % 2) * W // 2 + W // 4
        assert np.abs(rgb[cy, cx] - colour).max() <= 4, (colour, rgb[cy, cx])


def test_png_sequence_is_lossless(tmp_path):
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (H, W, 3), dtype=np.uint8) for _ in range(4)]
    out = tmp_path / "frames"
    with FilmWriter(out, width=W, height=H, rate=24, codec="png", total_frames=4) as film:
        for f in frames:
            film.write(f)
    assert sorted(p.name for p in out.iterdir()) == [f"frame-{i:06d}.png" for i in range(4)]
    for i, f in enumerate(frames):
        image = PIL.Image.open(out / f"frame-{i:06d}.png")
        assert image.mode == "RGB" and np.array_equal(np.array(image), f)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames"]


def test_exception_mid_film_leaves_nothing(tmp_path):
    with pytest.raises(ZeroDivisionError):
        with FilmWriter(tmp_path / "film.mp4", width=W, height=H, codec="h264") as film:
            film.write(quadrant_frame(0))
            1 / 0
    with pytest.raises(KeyboardInterrupt):
        with FilmWriter(tmp_path / "frames", width=W, height=H, codec="png") as film:
            film.write(quadrant_frame(0))
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_wrong_frame_count_or_shape_makes_no_film(tmp_path):
    with pytest.raises(ValueError, match="2 frames written but total_frames=3"):
        with FilmWriter(tmp_path / "film.mov", width=W, height=H, codec="prores", total_frames=3) as film:
            film.write(quadrant_frame(0))
            film.write(quadrant_frame(1))
    with pytest.raises(ValueError, match="no frames were written"):
        with FilmWriter(tmp_path / "film.mp4", width=W, height=H):
            pass
    with pytest.raises(ValueError, match=r"uint8 of shape \(48, 64, 3\)"):
        with FilmWriter(tmp_path / "film.mp4", width=W, height=H) as film:
            film.write(np.zeros((H, W, 4), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_existing_output_needs_force(tmp_path):
    out = tmp_path / "film.mp4"
    out.write_bytes(b"the curator's cut")
    with pytest.raises(UsageError, match="--force"):
        FilmWriter(out, width=W, height=H)
    assert out.read_bytes() == b"the curator's cut"
    write_film(out, "h264", n=2, force=True)
    assert len(decode(out)[1]) == 2


@pytest.mark.parametrize("name,kw,message", [
    ("nope/film.mp4", {}, "does not exist"),
    ("film.mp4", {"codec": "prores"}, "prores goes into a .mov file"),
    ("film.avi", {"codec": "h264"}, "h264 goes into a .mp4 or .mov or .mkv file"),
    ("frames.mp4", {"codec": "png"}, "writes a folder of frames"),
    ("film.mp4", {"codec": "vp9"}, "unknown codec 'vp9'"),
    ("film.mp4", {"width": 65}, "needs an even width and height; use e.g. 66x48"),
    ("film.mov", {"codec": "prores", "width": 63}, "needs an even width;"),
    ("film.mp4", {"crf": 60}, "--crf 60 is out of range"),
    ("film.mov", {"codec": "prores", "crf": 18}, "--crf applies to h264 and hevc"),
    ("film.mp4", {"crf": 0}, "--crf 0 is out of range; use 1"),
    ("film.mp4", {"preset": "quick"}, "unknown preset 'quick'"),
    ("film.mp4", {"rate": 0}, "out of range"),
    ("film.mp4", {"rate": "fast"}, "is not a number"),
])
def test_bad_requests_are_one_clear_line(tmp_path, name, kw, message):
    args = dict(width=W, height=H, codec="h264") | kw
    with pytest.raises(UsageError, match=message) as err:
        FilmWriter(tmp_path / name, **args)
    assert "\n" not in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_an_encoder_pyav_lacks_is_named():
    missing = CodecSpec("future", "libnosuchencoder", "yuv420p", {".mp4": "mp4"})
    with pytest.raises(UsageError, match="no libnosuchencoder encoder for --codec future; choose h264 or"):
        check_encoder_available(missing)


def test_sidecar_sits_beside_the_film(tmp_path):
    film = tmp_path / "film.mp4"
    data = {"title": "Windows", "frames": 6, "show": "title: Windows\n", "snapshots": [{"sha256": "ab", "fid": 3.5}]}
    path = write_sidecar(film, data)
    assert path == sidecar_path(film) == tmp_path / "film.mp4.json"
    assert json.loads(path.read_text()) == {"film": "film.mp4", **data}
    with pytest.raises(UsageError, match="--force"):
        write_sidecar(film, data)
    assert sidecar_path(tmp_path / "frames") == tmp_path / "frames.json"


# -- real processes: killed, or out of space ------------------------------------------------------------------------

ENDLESS = """
import sys, numpy as np
from installation.film_writer import FilmWriter
with FilmWriter(sys.argv[1], width=64, height=48, codec=sys.argv[2]) as film:
    i = 0
    while True:
        film.write(np.full((48, 64, 3), i % 256, np.uint8))
        i += 1
        if i == 3:
            print("writing", flush=True)
"""


def child(code: str, *args: str, **kw) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-c", code, *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


@pytest.mark.parametrize("sig,codec,name", [
    (signal.SIGTERM, "h264", "film.mp4"), (signal.SIGTERM, "png", "frames"), (signal.SIGINT, "hevc", "film.mkv"),
    (signal.SIGKILL, "prores", "film.mov")])
def test_killed_mid_film_leaves_nothing_at_the_name(tmp_path, sig, codec, name):
    out = tmp_path / name
    proc = child(ENDLESS, str(out), codec)
    assert proc.stdout.readline().strip() == "writing", proc.communicate()
    proc.send_signal(sig)
    proc.wait(timeout=60)
    assert not out.exists()
    left = [p.name for p in tmp_path.iterdir()]
    if sig == signal.SIGTERM:
        assert proc.returncode == 128 + signal.SIGTERM and left == []  # unwound: the temporary removed too
    elif sig == signal.SIGINT:  # Ctrl-C: KeyboardInterrupt unwinds the same way
        assert proc.returncode != 0 and "KeyboardInterrupt" in proc.stderr.read() and left == []
    else:
        assert len(left) == 1 and left[0].startswith(f".{name}.")  # only the hidden temporary of the dead process
        write_film(out, codec, n=2)  # the next film of that name clears it
        assert [p.name for p in tmp_path.iterdir()] == [name]


def test_file_size_limit_is_one_line_and_leaves_nothing(tmp_path):
    import resource

    def small_disk():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of killing the child
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    code = ENDLESS.replace("with FilmWriter", "from training.errors import DataError\ntry:\n  with FilmWriter")
    code = code.replace("\n    ", "\n      ") + "except DataError as err:\n  print(err)\n"
    proc = child(code, str(tmp_path / "film.mov"), "prores", preexec_fn=small_disk)
    out, err = proc.communicate(timeout=120)
    message = out.splitlines()[-1]
    assert message.startswith(f"file size limit reached at {tmp_path / 'film.mov'} after ") and "frames" in message
    assert list(tmp_path.iterdir()) == []


def test_full_disk_is_one_line_and_leaves_nothing(tmp_path):
    """A real ENOSPC: a 300 kB tmpfs mounted in a private mount namespace (skipped where that is not allowed)."""
    if shutil.which("unshare") is None:
        pytest.skip("no unshare")
    disk = tmp_path / "disk"
    disk.mkdir()
    code = f"""
import os, numpy as np
from installation.film_writer import FilmWriter
from training.errors import DataError
try:
    with FilmWriter({str(disk / 'film.mov')!r}, width=64, height=48, codec="prores") as film:
        for i in range(10000):
            film.write(np.random.default_rng(i).integers(0, 256, (48, 64, 3), dtype=np.uint8))
except DataError as err:
    print(err)
print(os.listdir({str(disk)!r}))
"""
    script = tmp_path / "fill.py"
    script.write_text(code)
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o size=300k tmpfs {disk}"],
                           capture_output=True)
    if probe.returncode != 0:
        pytest.skip("this machine does not allow a private tmpfs")
    result = subprocess.run(["unshare", "-rm", "sh", "-c",
                             f"mount -t tmpfs -o size=300k tmpfs {disk} && {sys.executable} {script}"],
                            env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True, timeout=120)
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"disk full at {disk / 'film.mov'} after "), result
    assert lines[1] == "[]"  # nothing at the name, no temporary filling the disk
