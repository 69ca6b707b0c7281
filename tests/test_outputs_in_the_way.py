"""Every subcommand's output-replacing path, with a user's folder of files where the output would go.

`--force` replaces a file likeness wrote, never a folder: before this was guarded, `prepare -o x.zip --force` with a
folder `x.zip` deleted the whole tree and exited 0. Each command here must refuse with one line, non-zero, and leave
every file of the folder as it was.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import PIL.Image
import pytest

from footage import cfr_video
from foreign_formats import write_nvidia_pickle
from likeness.cli import main
from test_import import small_g


def user_tree(path: Path) -> dict[str, bytes]:
    """A folder of a user's files, two levels deep; returns its contents for comparison."""
    (path / "stills" / "best").mkdir(parents=True)
    (path / "notes.txt").write_text("the sitter's release form is in the office")
    (path / "stills" / "a.png").write_bytes(b"\x89PNG not really")
    (path / "stills" / "best" / "b.jpg").write_bytes(bytes(range(256)))
    return tree_of(path)


def tree_of(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("inputs")
    images = folder / "images"
    images.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        PIL.Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(images / f"{i}.png")
    model = folder / "network-snapshot-000010.pkl"
    write_nvidia_pickle(model, G_ema=small_g(3))
    return {"clip": cfr_video(folder / "clip.mp4", 10, Fraction(10)), "images": images, "model": model}


def _prepare(inputs, out):
    return ["prepare", str(inputs["clip"]), "--person", "T", "--consent", "test footage", "--fps", "5", "--size", "16",
            "-q", "-o", str(out)]


COMMANDS = {
    # name: (output name, the command line writing it, exit code, words of the refusal)
    "prepare": ("x.zip", lambda i, out: [*_prepare(i, out), "--force"], 2, "is a folder; --force replaces a file"),
    "import": ("m.pt", lambda i, out: ["import", str(i["model"]), "--out", str(out), "--force"], 2,
               "is a folder; --force replaces a file"),
    "generate": ("imgs", lambda i, out: ["generate", str(i["model"]), "--seeds", "0", "--outdir", str(out),
                                         "--force"], 2, "holds files `generate` did not write"),
    "fid --save-stats": ("s.npz", lambda i, out: ["fid", str(i["images"]), "--save-stats", str(out), "--force"], 2,
                         "is a folder; --force replaces a file"),
    "gate --registry": ("registry.yaml", lambda i, out: ["gate", "exclude", "ana", "--reason", "withdrew",
                                                         "--registry", str(out)], 1, "cannot be read"),
    "demo": ("demo/footage/ada.mp4", lambda i, out: ["demo", "--outdir", str(out.parent.parent), "--duration", "1",
                                                     "-q", "--force"], 2, "is a folder; --force replaces a file"),
}


@pytest.mark.parametrize("name", COMMANDS)
def test_a_folder_in_the_way_survives_every_command(name, inputs, tmp_path, capsys):
    output, command, code, words = COMMANDS[name]
    out = tmp_path / output
    out.mkdir(parents=True)
    before = user_tree(out)
    assert main(command(inputs, out)) == code
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1, err
    assert tree_of(out) == before
    assert [p.name for p in out.parent.iterdir() if ".likeness-tmp-" in p.name] == []


def test_generate_still_replaces_its_own_folder_and_refuses_a_file(inputs, tmp_path, capsys):
    out = tmp_path / "imgs"
    assert main(["generate", str(inputs["model"]), "--seeds", "0", "--outdir", str(out)]) == 0
    assert main(["generate", str(inputs["model"]), "--seeds", "1", "--outdir", str(out), "--force"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["generate.json", "seed0001.png"]
    capsys.readouterr()
    a_file = tmp_path / "file"
    a_file.write_bytes(b"mine")
    assert main(["generate", str(inputs["model"]), "--seeds", "0", "--outdir", str(a_file), "--force"]) == 2
    assert "is not a folder" in capsys.readouterr().err and a_file.read_bytes() == b"mine"


def test_prepare_force_still_replaces_a_zip_it_wrote(inputs, tmp_path):
    out = tmp_path / "x.zip"
    assert main(_prepare(inputs, out)) == 0
    first = out.read_bytes()
    out.write_bytes(b"an older dataset")
    assert main([*_prepare(inputs, out), "--force"]) == 0
    assert out.read_bytes()[:4] == first[:4] == b"PK\x03\x04"
