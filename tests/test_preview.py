"""The model pool's refusals and `likeness preview`: contact sheets, soak, a real GLFW window under Xvfb, and
one line for every bad input."""

import logging
import os

import numpy as np
import pytest

from installation.model_pool import ModelPool
from installation.outputs import OffscreenOutput
from installation.preview import Preview, PreviewOptions, sheet_tiles
from tests.conftest import run_cli
from tests.render_models import make_registry
from training.errors import DataError


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    return make_registry(tmp_path_factory.mktemp("reg"), {"ana": 1, "bo": 2, "cy": 3}, excluded=("cy",))


def test_the_pool_refuses_excluded_and_changed_models(tmp_path, caplog):
    registry = make_registry(tmp_path, {"ana": 1, "bo": 2, "cy": 3}, excluded=("cy",))
    with open(tmp_path / "bo.pt", "ab") as f:
        f.write(b"tampered")
    with caplog.at_level(logging.WARNING, logger="likeness.render"):
        pool = ModelPool.from_registry(registry)
    assert pool.people == ["ana"]
    assert "excluded by the gate" in pool.refused["cy"] and "sha256 differs" in pool.refused["bo"]
    assert any("bo is not drawn" in r.message for r in caplog.records)
    loose = ModelPool.from_registry(registry, allow_unapproved=True)
    assert loose.people == ["ana", "bo", "cy"] and loose.unapproved == ["bo", "cy"]  # drawn, marked unapproved


def test_a_snapshot_edited_in_place_with_its_size_and_time_kept_is_refused(tmp_path):
    import os

    from training.hashing import file_sha256

    registry = make_registry(tmp_path, {"ana": 1, "bo": 2})
    path = tmp_path / "bo.pt"
    file_sha256(path)  # the hash cache now knows this file by path, size and mtime
    before = path.stat()
    data = bytearray(path.read_bytes())
    data[-30] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns
    pool = ModelPool.from_registry(registry)
    assert pool.people == ["ana"] and "sha256 differs" in pool.refused["bo"]


def test_models_of_an_architecture_the_renderer_cannot_draw_are_refused(tmp_path, caplog):
    from evaluation.registry import read_registry, render_registry
    from tests.render_models import TINY, save_generator
    from training.hashing import file_sha256
    from training.networks import Generator

    registry = make_registry(tmp_path, {"ana": 1, "bo": 2, "cy": 3})
    persons = read_registry(registry)
    for name, kwargs in (("bo", {"c_dim": 4}), ("cy", {"img_channels": 1})):
        G = Generator(img_resolution=32, **{**TINY, **kwargs}).eval()
        save_generator(G, tmp_path / f"{name}.pt")
        persons[name]["sha256"] = file_sha256(tmp_path / f"{name}.pt")  # approved as they are
    registry.write_bytes(render_registry(persons))
    with caplog.at_level("WARNING"):
        pool = ModelPool.from_registry(registry)
    assert pool.people == ["ana"]
    assert "class-conditional (4 classes)" in pool.refused["bo"] and "1-channel images" in pool.refused["cy"]
    said = [r.getMessage() for r in caplog.records if "no longer drawn" in r.getMessage()]
    # bo's windows go to the one left, not to cy, who is refused in the same breath
    assert len(said) == 2 and all(line.endswith("their windows show ana") for line in said), said
    persons["ana"]["status"] = "excluded"
    registry.write_bytes(render_registry(persons))
    with pytest.raises(DataError, match="no model of an architecture the renderer draws is left: .*bo: it is class"):
        ModelPool.from_registry(registry)


def test_no_drawable_model_is_one_clear_error(tmp_path):
    registry = make_registry(tmp_path, {"ana": 1}, excluded=("ana",))
    with pytest.raises(DataError, match="no model can be drawn .*--allow-unapproved"):
        ModelPool.from_registry(registry)


def test_a_file_that_does_not_load_leaves_the_others(tmp_path):
    registry = make_registry(tmp_path, {"ana": 1, "bo": 2})
    from evaluation.registry import read_registry, render_registry
    from training.hashing import file_sha256

    (tmp_path / "bo.pt").write_bytes(b"not a checkpoint at all")
    persons = read_registry(registry)
    persons["bo"]["sha256"] = file_sha256(tmp_path / "bo.pt")
    registry.write_bytes(render_registry(persons))
    pool = ModelPool.from_registry(registry)
    assert pool.people == ["ana"] and "does not load" in pool.refused["bo"]


def test_preview_writes_a_contact_sheet_of_moments(registry, tmp_path):
    sheet = tmp_path / "sheet.png"
    result = run_cli("preview", str(registry), "--offscreen", "--frames", "4", "-o", str(sheet), "--size", "128x72",
                     "--seconds", "1")
    assert result.returncode == 0, result.stderr
    assert "cy is not drawn: excluded by the gate" in result.stderr
    tiles = sheet_tiles(sheet, 4, (128, 72))
    assert all(t.std() > 5 for t in tiles)  # windows are not empty
    assert not np.array_equal(tiles[0], tiles[1])  # the walk moves between moments
    options = PreviewOptions(registry, size=(128, 72), seconds=1.0, offscreen=True)
    out = OffscreenOutput(128, 72)
    preview = Preview(options, ModelPool.from_registry(registry), out)
    preview.draw(options.period * 2 / 4)
    assert np.array_equal(out.read_rgb(), tiles[2])  # the sheet shows exactly the frame of its time
    again = run_cli("preview", str(registry), "--offscreen", "-o", str(sheet))
    assert again.returncode == 2 and "already exists" in again.stderr and "--force" in again.stderr


def test_soak_reports_memory_at_both_ends(registry):
    result = run_cli("preview", str(registry), "--offscreen", "--soak", "12", "--size", "96x54")
    assert result.returncode == 0, result.stderr
    assert "soak: 12 frames; host memory" in result.stdout and "after the last" in result.stdout


WINDOW_SCRIPT = """
import sys
from pathlib import Path
import numpy as np
from installation.model_pool import ModelPool
from installation.outputs import WindowOutput
from installation.preview import Preview, PreviewOptions
registry, out = Path(sys.argv[1]), sys.argv[2]
window = WindowOutput(160, 90, vsync=False)
preview = Preview(PreviewOptions(registry, size=(160, 90), seconds=1.0), ModelPool.from_registry(registry), window)
preview.draw(0.4)
window.present()
np.save(out, np.stack([window.read_rgb(), window.read_screen()]))  # the frame, and what the window shows
window.finish()
window.release()
"""


@pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="needs a display (the test command runs under xvfb-run)")
def test_a_window_shows_the_pixels_of_the_offscreen_path(registry, tmp_path):
    # A GLX window and an EGL context do not share one process under Mesa, and a show uses one or the other:
    # the window runs in a child process, as `likeness preview` would.
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", WINDOW_SCRIPT, str(registry), str(tmp_path / "shown.npy")],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    frame, shown = np.load(tmp_path / "shown.npy")
    out = OffscreenOutput(160, 90)
    Preview(PreviewOptions(registry, size=(160, 90), seconds=1.0), ModelPool.from_registry(registry), out).draw(0.4)
    assert shown.std() > 5 and np.array_equal(frame, out.read_rgb()) and np.array_equal(shown, frame)


@pytest.mark.parametrize("args,message", [
    (["missing.yaml", "--offscreen", "--soak", "1"], "registry missing.yaml does not exist"),
    (["REG", "-o", "x.png"], "add --offscreen"),
    (["REG", "--offscreen"], "give -o sheet.png or --soak N"),
    (["REG", "--offscreen", "--soak", "1", "--rows", "40", "--cols", "40", "--size", "64x64"], "at least 8 px"),
    (["REG", "--offscreen", "--soak", "1", "--trunc", "nan"], "not a finite number"),
    (["REG", "--offscreen", "--soak", "1", "--device", "foo"], "--device"),
])
def test_bad_input_is_one_line(registry, tmp_path, args, message):
    args = [str(registry) if a == "REG" else a for a in args]
    result = run_cli("preview", *args, cwd=tmp_path)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert message in lines[-1], result.stderr
    assert "Traceback" not in result.stderr


def test_a_windowed_run_without_a_display_suggests_offscreen(registry, tmp_path):
    env_display = os.environ.pop("DISPLAY", None)
    try:
        result = run_cli("preview", str(registry), cwd=tmp_path, timeout=120)
    finally:
        if env_display is not None:
            os.environ["DISPLAY"] = env_display
    assert result.returncode == 2 and "--offscreen" in result.stderr.strip().splitlines()[-1], result.stderr


def test_no_egl_is_one_line_naming_the_system_package(registry, tmp_path):
    from tests.conftest import run_cli

    # glvnd finds no EGL vendor library: what a machine without libegl1's driver sees
    done = run_cli("preview", str(registry), "--offscreen", "--frames", "1", "-o", str(tmp_path / "sheet.png"),
                   env={"__EGL_VENDOR_LIBRARY_FILENAMES": str(tmp_path / "no-vendor.json")})
    assert done.returncode != 0 and not (tmp_path / "sheet.png").exists()
    errors = [line for line in done.stderr.splitlines() if "error" in line]  # (the pool's log lines come first)
    assert len(errors) == 1 and "no OpenGL through EGL" in errors[0] and "apt-get install libegl1" in errors[0]
