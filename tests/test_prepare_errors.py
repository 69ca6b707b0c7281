"""Bad input to `likeness prepare`, run as a real child process: one line, the right exit code, no output."""

import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from fractions import Fraction

import av
import numpy as np
import PIL.Image
import pytest

from conftest import ROOT, run_cli
from footage import barcode_frame, cfr_video, corrupt_packet, missing_times, zip_indices
from training.footage.prepare import PrepareOptions, prepare
from training.footage.timecode import format_clock


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return cfr_video(tmp_path_factory.mktemp("clip") / "clip.mp4", 30, Fraction(30))


def prepare_cli(*args, out, consent=("--consent", "synthetic test footage"), fps=("--fps", "10")):
    return run_cli("prepare", *args, "--person", "T", *consent, *fps, "--size", "16", "-q", "-o", str(out))


def assert_refused(result, code, *fragments, out):
    assert result.returncode == code, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("likeness prepare: error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert not out.exists()
    assert [p.name for p in out.parent.iterdir() if ".likeness-tmp-" in p.name] == []


def test_missing_file(tmp_path):
    out = tmp_path / "d.zip"
    assert_refused(prepare_cli(str(tmp_path / "nope.mp4"), out=out), 2, "nope.mp4 does not exist", out=out)


def test_not_a_video(tmp_path):
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is a shopping list, not a film\n" * 20)
    out = tmp_path / "d.zip"
    assert_refused(prepare_cli(str(fake), out=out), 1, "notes.mp4 is not a video", out=out)


def test_audio_only(tmp_path):
    path = tmp_path / "voice.m4a"
    with av.open(str(path), "w") as c:
        s = c.add_stream("aac", rate=44100)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate, frame.pts = 44100, 0
        for p in list(s.encode(frame)) + list(s.encode()):
            c.mux(p)
    out = tmp_path / "d.zip"
    assert_refused(prepare_cli(str(path), out=out), 1, "has no video stream", "audio", out=out)


def test_zero_length_video(tmp_path):
    path = tmp_path / "empty.avi"
    with av.open(str(path), "w") as c:
        s = c.add_stream("mjpeg", rate=30)
        s.width, s.height, s.pix_fmt = 160, 90, "yuvj420p"
        c.start_encoding()
    with av.open(str(path)) as c:
        assert len(c.streams.video) == 1  # a video stream with no frame in it
    out = tmp_path / "d.zip"
    assert_refused(prepare_cli(str(path), out=out), 1, "no frames", out=out)


@pytest.mark.parametrize("size", ["1000", "2", "4096", "big"])
def test_size_not_a_power_of_two(clip, tmp_path, size):
    out = tmp_path / "d.zip"
    result = run_cli("prepare", str(clip), "--person", "T", "--consent", "x", "--fps", "1", "--size", size,
                     "-o", str(out))
    assert_refused(result, 2, "--size", "power of two", out=out)


@pytest.mark.parametrize("fps", ["0", "-1", "ten", "1/0"])
def test_bad_fps(clip, tmp_path, fps):
    out = tmp_path / "d.zip"
    assert_refused(prepare_cli(str(clip), out=out, fps=("--fps", fps)), 2, "--fps", out=out)


def test_fps_required_for_video(clip, tmp_path):
    out = tmp_path / "d.zip"
    assert_refused(prepare_cli(str(clip), out=out, fps=()), 2, "give --fps", out=out)


@pytest.mark.parametrize("consent", [(), ("--consent", "   ")])
def test_consent_is_required(clip, tmp_path, consent):
    out = tmp_path / "d.zip"
    result = prepare_cli(str(clip), out=out, consent=consent)
    assert_refused(result, 2, "--consent", "none recorded", "permission", out=out)


def test_consent_file(clip, tmp_path):
    out = tmp_path / "d.zip"
    assert_refused(prepare_cli(str(clip), out=out, consent=("--consent-file", str(tmp_path / "no.txt"))), 2,
                   "no.txt does not exist", out=out)
    note = tmp_path / "consent.txt"
    note.write_text("Signed release by the sitter, 2 Nov 2026.\nKept in the studio archive.\n")
    result = prepare_cli(str(clip), out=out, consent=("--consent-file", str(note)))
    assert result.returncode == 0, result.stderr
    from training.dataset import ImageDataset

    assert ImageDataset(out).provenance["consent"] == note.read_text().strip()


def test_output_exists_needs_force(clip, tmp_path):
    out = tmp_path / "d.zip"
    out.write_bytes(b"an earlier dataset")
    result = prepare_cli(str(clip), out=out)
    assert result.returncode == 2 and "--force" in result.stderr
    assert out.read_bytes() == b"an earlier dataset"
    result = prepare_cli(str(clip), "--force", out=out)
    assert result.returncode == 0, result.stderr
    assert zip_indices(out) == [0, 3, 6, 9, 12, 15, 18, 21, 24, 27]
    assert result.stdout.startswith(f"wrote {out}: 10 frames 16x16 crop at 10 fps from 1 source (00:01.000) in ")


def test_empty_folder(tmp_path):
    (tmp_path / "stills").mkdir()
    out = tmp_path / "d.zip"
    assert_refused(prepare_cli(str(tmp_path / "stills"), out=out, fps=()), 1, "holds no images", out=out)


def test_images_of_different_sizes(tmp_path):
    folder = tmp_path / "stills"
    folder.mkdir()
    PIL.Image.new("RGB", (64, 48)).save(folder / "a1.png")
    PIL.Image.new("RGB", (64, 48)).save(folder / "a2.png")
    PIL.Image.new("RGB", (60, 48)).save(folder / "a10.png")
    out = tmp_path / "d.zip"
    assert_refused(prepare_cli(str(folder), out=out, fps=()), 1, "a1.png is 64x48 but a10.png is 60x48", out=out)


@pytest.mark.parametrize("flag", [("--fps", "1"), ("--start", "2"), ("--end", "5")])
def test_time_flags_refused_for_folders(tmp_path, flag):
    folder = tmp_path / "stills"
    folder.mkdir()
    PIL.Image.new("RGB", (64, 48)).save(folder / "a.png")
    out = tmp_path / "d.zip"
    assert_refused(prepare_cli(str(folder), *flag, out=out, fps=()), 2, f"{flag[0]} applies to videos", out=out)


def test_bad_trim(clip, tmp_path):
    out = tmp_path / "d.zip"
    assert_refused(prepare_cli(str(clip), "--start", "0:05", "--end", "2", out=out), 2, "must be after", out=out)
    assert_refused(prepare_cli(str(clip), "--start", "10", out=out), 2, "after the end of the footage", out=out)
    assert_refused(prepare_cli(str(clip), "--start", "1:75", out=out), 2, "--start", out=out)


def keyframe_times(path):
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        return [(f.pts - (s.start_time or 0)) * Fraction(s.time_base) for f in c.decode(s) if f.key_frame]


@pytest.mark.parametrize("codec,container", [("libx264", "mp4"), ("mjpeg", "mkv")])
def test_undecodable_frame_mid_file(tmp_path, codec, container):
    good = cfr_video(tmp_path / f"good.{container}", 45, Fraction(30), codec=codec, gop=15)
    bad = tmp_path / f"bad.{container}"
    when = corrupt_packet(good, bad, 20)
    lost = missing_times(good, bad)  # what FFmpeg's decoder, run plainly, fails to produce
    assert lost == [when]
    out = tmp_path / "d.zip"
    result = prepare_cli(str(bad), out=out, fps=("--fps", "30"))
    assert_refused(result, 1, f"{bad}: the frame at {format_clock(when)} does not decode", "--skip-bad-frames",
                   out=out)

    result = prepare_cli(str(bad), "--skip-bad-frames", out=out, fps=("--fps", "30"))
    assert result.returncode == 0, result.stderr
    # H.264 frames after the lost one are predicted from it (smeared but silent): skipped up to the next
    # keyframe; every MJPEG frame is a keyframe, so only the lost one goes
    lost_index = int(when * 30)
    next_key = min(int(t * 30) for t in keyframe_times(good) if t > when)
    skipped = list(range(lost_index, next_key if codec == "libx264" else lost_index + 1))
    assert f"{len(skipped)} frames (--skip-bad-frames): 1 undecodable at bad.{container} {format_clock(when)}" \
        in result.stdout
    # each skipped frame's target is filled by the next good frame, as the rule says
    assert zip_indices(out) == [next(j for j in range(i, 45) if j not in skipped) for i in range(45)]
    from training.dataset import ImageDataset

    recorded = ImageDataset(out).provenance["skipped_frames"]
    assert [s[:2] for s in recorded] == [[0, round(i / 30, 3)] for i in skipped]


def test_bad_frame_outside_the_range_is_ignored(tmp_path):
    good = cfr_video(tmp_path / "good.mkv", 45, Fraction(30), codec="mjpeg")
    bad = tmp_path / "bad.mkv"
    corrupt_packet(good, bad, 5)
    result = prepare(PrepareOptions(inputs=[str(bad)], output=str(tmp_path / "d.zip"), person="T", consent="x",
                                    fps=Fraction(10), size=16, start=Fraction(1, 2), progress=False))
    assert result.frames == 10 and result.skipped == []


def test_sigkill_mid_run_leaves_no_output(tmp_path):
    """A real run killed at an arbitrary moment while frames are being written: nothing at the output path."""
    source = cfr_video(tmp_path / "long.mp4", 240, Fraction(30), width=320, height=180)
    out = tmp_path / "d.zip"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "likeness", "prepare", str(source), "--person", "T", "--consent",
                             "x", "--fps", "30", "--size", "256", "--png-level", "9", "--jobs", "1", "-q", "-o",
                             str(out)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    temp = tmp_path / f".d.zip.likeness-tmp-{proc.pid}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if temp.exists() and temp.stat().st_size > 50_000:  # some frames are in
            break
        time.sleep(0.002)
    assert proc.poll() is None, "prepare finished before it could be killed; make the source longer"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists()
    # the next run is not blocked by the dead run's temporary file
    result = prepare_cli(str(source), out=out, fps=("--fps", "1"))
    assert result.returncode == 0, result.stderr
    assert zip_indices(out) == [0, 30, 60, 90, 120, 150, 180, 210]


def test_output_must_be_a_zip_and_not_an_input(clip, tmp_path):
    out = tmp_path / "d.tar"
    assert_refused(prepare_cli(str(clip), out=out), 2, "must be a .zip file", out=out)
    copy = tmp_path / "clip.zip"
    copy.write_bytes(clip.read_bytes())  # a video that happens to be called .zip
    result = prepare_cli(str(copy), "--force", out=copy)
    assert result.returncode == 2 and "is also an input" in result.stderr
    assert copy.read_bytes() == clip.read_bytes()


def _start_prepare(source, out, *extra):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "likeness", "prepare", str(source), "--person", "T", "--consent",
                             "x", "--fps", "30", "--size", "256", "--png-level", "9", "--jobs", "1", "-q", "-o",
                             str(out), *extra], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_sigterm_mid_run_is_an_interrupt_with_one_line_and_no_temp(tmp_path):
    source = cfr_video(tmp_path / "long.mp4", 240, Fraction(30), width=320, height=180)
    out = tmp_path / "d.zip"
    proc = _start_prepare(source, out)
    temp = tmp_path / f".d.zip.likeness-tmp-{proc.pid}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None and not (temp.exists() and temp.stat().st_size > 50_000):
        time.sleep(0.002)
    assert proc.poll() is None, "prepare finished before it could be stopped; make the source longer"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and err.strip().splitlines()[-1:] == ["likeness prepare: interrupted"], err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.mp4"]  # no output, no hidden temp


def test_a_full_disk_is_one_line_with_the_place_and_what_was_written(tmp_path):
    """A real full disk: a 400 KB tmpfs mounted in a private user and mount namespace (no root needed)."""
    source = cfr_video(tmp_path / "clip.mp4", 60, Fraction(30), width=160, height=90)
    disk = tmp_path / "disk"
    disk.mkdir()
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o size=400k none {disk}"],
                           capture_output=True, text=True) if shutil.which("unshare") else None
    if probe is None or probe.returncode != 0:
        pytest.skip(f"no private tmpfs here ({probe.stderr.strip() if probe else 'no unshare'})")
    command = (f"mount -t tmpfs -o size=400k none {disk} && {shlex.quote(sys.executable)} -m likeness prepare "
               f"{source} --person T --consent x --fps 30 --size 64 --png-level 0 -q -o {disk}/d.zip; "
               f"echo rc=$?; ls -A {disk}")
    result = subprocess.run(["unshare", "-rm", "sh", "-c", command], capture_output=True, text=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=120)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"likeness prepare: error: disk full at {disk}, ") and "MB written" in lines[0]
    assert result.stdout.split() == ["rc=1"]  # and the tmpfs is empty: nothing partial was left


@pytest.mark.parametrize("container", ["mkv", "faststart mp4"])
def test_footage_cut_short_is_said_recorded_and_refused_with_strict(tmp_path, container):
    """A file truncated in copying: the container still claims 4 s, the frames end near 2 s."""
    whole = tmp_path / ("whole.mkv" if container == "mkv" else "whole.mp4")
    if container == "mkv":
        cfr_video(whole, 120, Fraction(30))
    else:
        with av.open(str(whole), "w", options={"movflags": "faststart"}) as out:
            stream = out.add_stream("libx264", rate=30)
            stream.width, stream.height, stream.pix_fmt = 160, 90, "yuv420p"
            for i in range(120):
                frame = av.VideoFrame.from_ndarray(barcode_frame(i), format="rgb24")
                for packet in stream.encode(frame):
                    out.mux(packet)
            for packet in stream.encode():
                out.mux(packet)
    cut = tmp_path / ("cut" + whole.suffix)
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    frames_there = 0
    with av.open(str(cut)) as probe:
        claimed = Fraction(probe.duration, av.time_base)
        for packet in probe.demux(video=0):
            try:
                frames_there += len(packet.decode())
            except av.error.InvalidDataError:
                pass  # the packet the cut went through
    assert claimed > Fraction(39, 10) and frames_there < 100  # the silent accept this guards against

    out = tmp_path / "d.zip"
    result = prepare_cli(str(cut), out=out, fps=("--fps", "30"))
    assert result.returncode == 0, result.stderr
    note = [line for line in result.stdout.splitlines() if "is cut short" in line]
    assert len(note) == 1 and f"container claims {format_clock(claimed)}" in note[0], result.stdout
    import json
    import zipfile

    with zipfile.ZipFile(out) as zf:
        entry = json.loads(zf.read("dataset.json"))["likeness"]["sources"][0]
    with zipfile.ZipFile(out) as zf:
        written = len([n for n in zf.namelist() if n.endswith(".png")])
    assert abs(entry["frames_end"] - written / 30) < 0.002  # at the source's rate, one dataset frame per frame
    assert abs(written - frames_there) <= 3  # the decoder may give up a few frames around the cut
    assert abs(entry["missing"] - (entry["duration"] - entry["frames_end"])) < 0.002

    strict = tmp_path / "strict.zip"
    assert_refused(prepare_cli(str(cut), "--strict", out=strict, fps=("--fps", "30")), 1, f"{cut}: its frames end",
                   "the file is cut short", out=strict)
    whole_out = tmp_path / "whole.zip"
    result = prepare_cli(str(whole), "--strict", out=whole_out, fps=("--fps", "30"))
    assert result.returncode == 0 and "cut short" not in result.stdout, result.stderr
