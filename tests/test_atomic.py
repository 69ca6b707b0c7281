import os
import signal
import subprocess
import sys

import pytest

from training.atomic import TEMP_MARK, atomic_output, atomic_write_bytes
from training.errors import UsageError


def test_success_renames_and_leaves_no_temp(tmp_path):
    out = tmp_path / "a.bin"
    with atomic_output(out) as tmp:
        assert tmp.parent == out.parent and tmp.name.startswith(".")
        tmp.write_bytes(b"hello")
        assert not out.exists()
    assert out.read_bytes() == b"hello"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin"]


def test_failure_leaves_nothing(tmp_path):
    out = tmp_path / "a.bin"
    with pytest.raises(ZeroDivisionError):
        with atomic_output(out) as tmp:
            tmp.write_bytes(b"half")
            1 / 0
    assert list(tmp_path.iterdir()) == []


def test_existing_output_needs_force(tmp_path):
    out = tmp_path / "a.bin"
    out.write_bytes(b"precious")
    with pytest.raises(UsageError, match="--force"):
        with atomic_output(out) as tmp:
            tmp.write_bytes(b"new")
    assert out.read_bytes() == b"precious"
    atomic_write_bytes(out, b"new", force=True)
    assert out.read_bytes() == b"new"


def test_folder_output_replaced_whole(tmp_path):
    out = tmp_path / "frames"
    out.mkdir()
    (out / "old.png").write_bytes(b"x")
    with atomic_output(out, force=True, folder=True) as tmp:
        tmp.mkdir()
        (tmp / "new.png").write_bytes(b"y")
    assert [p.name for p in out.iterdir()] == ["new.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames"]


def test_force_never_replaces_a_folder_with_a_file_or_a_file_with_a_folder(tmp_path):
    folder = tmp_path / "x.zip"
    (folder / "inner").mkdir(parents=True)
    (folder / "inner" / "keep.txt").write_text("mine")
    with pytest.raises(UsageError, match="is a folder; --force replaces a file, never a folder"):
        atomic_write_bytes(folder, b"new", force=True)
    assert (folder / "inner" / "keep.txt").read_text() == "mine"
    a_file = tmp_path / "frames"
    a_file.write_bytes(b"mine")
    with pytest.raises(UsageError, match="is not a folder; --force replaces a folder, never a file"):
        with atomic_output(a_file, force=True, folder=True) as tmp:
            tmp.mkdir()
    assert a_file.read_bytes() == b"mine" and sorted(p.name for p in tmp_path.iterdir()) == ["frames", "x.zip"]


def test_a_folder_that_appears_during_the_write_is_not_deleted(tmp_path):
    out = tmp_path / "a.bin"
    with pytest.raises(UsageError, match="is a folder"):
        with atomic_output(out, force=True) as tmp:
            tmp.write_bytes(b"new")
            out.mkdir()
            (out / "keep.txt").write_text("mine")
    assert (out / "keep.txt").read_text() == "mine" and sorted(p.name for p in tmp_path.iterdir()) == ["a.bin"]


def test_missing_parent_folder_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        with atomic_output(tmp_path / "nope" / "a.bin"):
            pass


def test_sigkill_mid_write_leaves_final_path_untouched(tmp_path):
    out = tmp_path / "big.bin"
    code = (
        "import sys, time\n"
        "from training.atomic import atomic_output\n"
        f"with atomic_output({str(out)!r}) as tmp:\n"
        "    f = open(tmp, 'wb'); f.write(b'x' * 1000); f.flush()\n"
        "    print('writing', flush=True); time.sleep(60)\n"
    )
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, env=env,
                            cwd=os.path.dirname(os.path.dirname(__file__)))
    assert proc.stdout.readline().strip() == b"writing"
    assert (tmp_path / f".big.bin{TEMP_MARK}{proc.pid}").exists()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists()


def test_temp_of_a_killed_run_is_cleaned_by_the_next_run(tmp_path):
    out = tmp_path / "data.zip"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".data.zip{TEMP_MARK}{dead.pid}"
    stale.write_bytes(b"half a zip")
    alive = tmp_path / f".data.zip{TEMP_MARK}{os.getppid()}"  # a live process's temp is not ours to delete
    alive.write_bytes(b"in progress")
    with atomic_output(out) as tmp:
        tmp.write_bytes(b"whole")
    assert not stale.exists() and alive.exists()
    assert out.read_bytes() == b"whole"
