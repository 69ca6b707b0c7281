"""`likeness dataset info`: provenance and counts printed, every frame verified, problems exit 1."""

import hashlib
import io
import json
import zipfile
from fractions import Fraction

import numpy as np
import PIL.Image
import pytest

from conftest import run_cli
from footage import cfr_video
from train_datasets import break_crc
from training.footage.prepare import PrepareOptions, prepare


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    d = tmp_path_factory.mktemp("made")
    clip = cfr_video(d / "sitter.mp4", 30, Fraction(30))
    out = d / "ada.zip"
    prepare(PrepareOptions(inputs=[str(clip)], output=str(out), person="Ada Example",
                           consent="signed release, 2 Nov 2026", fps=Fraction(10), size=16, progress=False))
    return clip, out


def png(array):
    buf = io.BytesIO()
    PIL.Image.fromarray(array).save(buf, format="png")
    return buf.getvalue()


def nvidia_zip(path, arrays, extra=()):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for i, array in enumerate(arrays):
            zf.writestr(f"00000/img{i:08d}.png", png(array))
        for name, data in extra:
            zf.writestr(name, data)
        zf.writestr("dataset.json", json.dumps({"labels": None}))
    return path


def test_info_prints_provenance_and_verifies(made):
    clip, out = made
    result = run_cli("dataset", "info", str(out))
    assert result.returncode == 0, result.stderr
    text = result.stdout
    sha = hashlib.sha256(clip.read_bytes()).hexdigest()
    for fragment in ("person    Ada Example", "consent   signed release, 2 Nov 2026", "10 fps, crop", "16 px",
                     "[0] sitter.mp4  00:01.000  30 fps  160x90  h264  sha256 " + sha[:16],
                     "frames    10 at 16x16, RGB, no labels", "verified  all 10 frames decode", ": OK",
                     "made by   likeness "):
        assert fragment in text, fragment


def test_info_json(made, capsys):
    clip, out = made
    result = run_in_process(capsys, "dataset", "info", "--json", str(out))
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["ok"] is True and info["problems"] == [] and info["images"] == 10
    assert (info["width"], info["height"], info["channels"]) == (16, 16, 3)
    assert info["provenance"]["person"] == "Ada Example"
    assert info["provenance"]["sources"][0]["sha256"] == hashlib.sha256(clip.read_bytes()).hexdigest()
    assert info["bytes"] == out.stat().st_size


def test_info_on_an_nvidia_zip(tmp_path, capsys):
    rng = np.random.default_rng(0)
    path = nvidia_zip(tmp_path / "n.zip", [rng.integers(0, 256, (8, 8, 3), dtype=np.uint8) for _ in range(3)])
    result = run_in_process(capsys, "dataset", "info", str(path))
    assert result.returncode == 0, result.stderr
    assert "another tool" in result.stdout and "all 3 frames decode" in result.stdout


class Ran:
    def __init__(self, code, out, err):
        self.returncode, self.stdout, self.stderr = code, out, err


def run_in_process(capsys, *args):
    """The real dispatcher, in this process (no torch import per call); exit code and printed text."""
    from likeness.cli import main

    code = main(list(args))
    captured = capsys.readouterr()
    return Ran(code, captured.out, captured.err)


@pytest.fixture
def failing(capsys):
    def check(path, *fragments):
        result = run_in_process(capsys, "dataset", "info", "-q", str(path))
        assert result.returncode == 1, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("likeness dataset: error: ")
        for fragment in fragments:
            assert fragment in lines[0] and fragment in result.stdout, fragment
        assert "FAILED" in result.stdout
        return result

    return check


def test_undecodable_frame(tmp_path, failing):
    good = np.zeros((8, 8, 3), np.uint8)
    path = tmp_path / "b.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("00000/img00000000.png", png(good))
        zf.writestr("00000/img00000001.png", png(good)[:40])  # cut short
        zf.writestr("dataset.json", json.dumps({"labels": None}))
    failing(path, "img00000001.png does not decode")


def test_mixed_sizes(tmp_path, failing):
    path = nvidia_zip(tmp_path / "m.zip", [np.zeros((8, 8, 3), np.uint8), np.zeros((16, 16, 3), np.uint8)])
    failing(path, "img00000001.png is 16x16x3 but 00000/img00000000.png is 8x8x3")


def test_not_square_power_of_two(tmp_path, failing):
    path = nvidia_zip(tmp_path / "r.zip", [np.zeros((12, 12, 3), np.uint8)])
    failing(path, "frames are 12x12", "power of two")


def test_frames_missing_from_a_likeness_zip(made, tmp_path, failing):
    _, out = made
    cut = tmp_path / "cut.zip"
    with zipfile.ZipFile(out) as src, zipfile.ZipFile(cut, "w") as dst:
        for info in src.infolist():
            if info.filename != "00000/img00000009.png":
                dst.writestr(info, src.read(info))
    result = failing(cut, "dataset.json says 10 frames but the zip holds 9")
    assert "person    Ada Example" in result.stdout


def test_missing_dataset(tmp_path, capsys):
    result = run_in_process(capsys, "dataset", "info", str(tmp_path / "nope.zip"))
    assert result.returncode == 2 and "does not exist" in result.stderr


def test_a_frame_with_a_bad_crc_names_the_frame_and_its_source_time(made, tmp_path, failing):
    _, out = made
    bad = tmp_path / "bad.zip"
    bad.write_bytes(out.read_bytes())
    break_crc(bad, "00000/img00000003.png")
    with zipfile.ZipFile(bad) as zf, pytest.raises(zipfile.BadZipFile):
        zf.read("00000/img00000003.png")  # the traceback this guards against
    failing(bad, "00000/img00000003.png (from sitter.mp4 at 00:00.300) cannot be read", "Bad CRC-32")
