"""`likeness training-film` on a real tiny training run (a `likeness train` child, 32 px, three fakes grids)."""

from __future__ import annotations

import json
import shutil
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import PIL.Image
import pytest

from conftest import run_cli
from eval_runs import train_run, write_dataset
from installation.training_film import frame_layout, list_grids

GRIDS = ["fakes_init.png", "fakes000000.032.png", "fakes000000.064.png"]


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("tf")
    return train_run(write_dataset(work / "ana.zip"), work, work / "cache", kimg="0.064", snap="0.032")


def film(*args, capsys=None) -> tuple[int, str]:
    from likeness.cli import main

    code = main(["training-film", *map(str, args), "-q"])
    return code, capsys.readouterr().err if capsys else ""


def grid_pixels(run: Path, name: str) -> np.ndarray:
    return np.array(PIL.Image.open(run / name).convert("RGB"))


def test_grids_in_the_order_training_wrote_them(run):
    grids = list_grids(run)
    assert [g.path.name for g in grids] == GRIDS
    assert [g.label for g in grids] == ["0 kimg", "0.032 kimg", "0.064 kimg"]


def test_order_comes_from_the_log_not_the_file_names(run, tmp_path):
    """After a Ctrl-C between whole kimg, fakes000004.png is followed by fakes000004.128.png, which sorts first."""
    copy = tmp_path / run.name
    shutil.copytree(run, copy)
    renames = {"fakes000000.032.png": "fakes000004.png", "fakes000000.064.png": "fakes000004.128.png"}
    for old, new in renames.items():
        (copy / old).rename(copy / new)
    log = (copy / "log.jsonl").read_text()
    for old, new in renames.items():
        log = log.replace(old, new)
    (copy / "log.jsonl").write_text(log)
    assert sorted(renames.values()) == ["fakes000004.128.png", "fakes000004.png"]
    assert [g.path.name for g in list_grids(copy)] == ["fakes_init.png", "fakes000004.png", "fakes000004.128.png"]


def test_png_film_is_the_grids_labelled_then_held(run, tmp_path, capsys):
    out = tmp_path / "frames"
    code, err = film(run, "-o", out, "--codec", "png", "--rate", "4", "--hold-last", "0.5", capsys=capsys)
    assert code == 0, err
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"frame-{i:06d}.png" for i in range(3 + 2)]  # one per grid, then 0.5 s at 4 frames/s
    frames = [np.array(PIL.Image.open(out / n)) for n in names]
    h, w, _ = grid_pixels(run, GRIDS[0]).shape
    assert frames[0].shape[1] == w and frames[0].shape[0] > h  # the grid kept at its size, the bar under it
    for frame, grid in zip(frames, GRIDS):
        assert np.array_equal(frame[:h], grid_pixels(run, grid))  # lossless, in order
        bar = frame[h:]
        assert bar.max() == 255 and np.median(bar) == 0  # white text on black
    assert not np.array_equal(frames[1][h:], frames[2][h:])  # each grid its own kimg label
    assert np.array_equal(frames[3], frames[2]) and np.array_equal(frames[4], frames[2])
    sidecar = json.loads((tmp_path / "frames.json").read_text())
    assert sidecar["frames"] == 5 and [g["file"] for g in sidecar["grids"]] == GRIDS
    assert sidecar["people"] == ["ana"] and sidecar["dataset"]["provenance"]["consent"].startswith("synthetic")
    assert "frames" not in sidecar["dataset"]["provenance"]  # the per-frame index is left out


def test_h264_film_decodes_to_one_frame_per_grid_plus_the_hold(run, tmp_path):
    out = tmp_path / "film.mp4"
    result = run_cli("training-film", str(run), "-o", str(out), "--rate", "6", "--size", "641x401",
                     "--hold-last", "1")
    assert result.returncode == 0, result.stderr
    assert f"wrote {out} (9 frames" in result.stdout
    with av.open(str(out)) as c:
        stream = c.streams.video[0]
        frames = [f.to_ndarray(format="rgb24", src_colorspace="ITU709", dst_colorspace="ITU709",
                               src_color_range="MPEG", dst_color_range="JPEG") for f in c.decode(stream)]
        assert stream.average_rate == Fraction(6) and stream.codec_context.pix_fmt == "yuv420p"
        assert c.metadata["artist"] == "ana" and "0.064 kimg" in c.metadata["title"]
    assert len(frames) == 3 + 6
    (gw, gh), bar = frame_layout((512, 288), (641, 401))
    assert frames[0].shape == (gh + bar, gw, 3) and gw % 2 == 0 and (gh + bar) % 2 == 0
    assert gw <= 641 and gh + bar <= 401 and (gw == 640 or gh + bar >= 400)  # fills the box one way
    # Each decoded frame is nearest to its own grid (scaled as an independent Pillow resize): the order is right.
    refs = [np.array(PIL.Image.open(run / g).convert("RGB").resize((gw, gh), PIL.Image.Resampling.LANCZOS), float)
            for g in GRIDS]
    for i, frame in enumerate(frames):
        errors = [np.abs(frame[:gh].astype(float) - ref).mean() for ref in refs]
        assert int(np.argmin(errors)) == min(i, 2) and min(errors) < 12, errors


def test_bad_requests(run, tmp_path, capsys):
    (tmp_path / "film.mp4").write_bytes(b"keep")
    code, err = film(run, "-o", tmp_path / "film.mp4", capsys=capsys)
    assert code == 2 and "already exists" in err and "--force" in err and err.count("\n") == 1
    assert (tmp_path / "film.mp4").read_bytes() == b"keep"
    code, err = film(run, "-o", tmp_path / "film.mp4", "--codec", "prores", capsys=capsys)
    assert code == 2 and "prores goes into a .mov file" in err
    code, err = film(tmp_path, "-o", tmp_path / "a.mp4", capsys=capsys)
    assert code == 2 and "not a likeness run folder" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    shutil.copy(run / "config.json", empty)
    code, err = film(empty, "-o", tmp_path / "a.mp4", capsys=capsys)
    assert code == 1 and "has no fakes grids yet" in err
    code, err = film(run, "-o", tmp_path / "a.mp4", "--size", "640x10", capsys=capsys)
    assert code == 2 and "no room for the grid" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "film.mp4"]


def test_cli_refuses_bad_values_in_one_line():
    for args, message in ((["--rate", "0"], "not above zero"), (["--crf", "0"], "must be from 1 to 51"),
                          (["--size", "big"], "WIDTHxHEIGHT"), (["--hold-last", "-1"], "must be from 0")):
        result = run_cli("training-film", "run", "-o", "film.mp4", *args)
        assert result.returncode == 2 and message in result.stderr and result.stderr.count("\n") == 1, result.stderr
