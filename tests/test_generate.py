"""`likeness import` and `likeness generate` as a user runs them: successes in real child processes, the refusals
in-process through the same dispatcher (each child process costs a torch import)."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import run_cli
from foreign_formats import write_nvidia_pickle, write_rosinality_checkpoint
from test_import import nvidia_z, one_hot, small_d, small_g
from likeness.cli import main
from training.checkpoint import load_checkpoint, load_generator
from training.cli_generate import parse_seeds


def run_main(capsys, *args):
    """The dispatcher in this process: (exit code, stderr)."""
    code = main(list(args))
    return code, capsys.readouterr().err


def nvidia_pixels(img: torch.Tensor) -> np.ndarray:
    """NVIDIA gen_images.py's quantisation, written out: [1, C, H, W] in about [-1, 1] -> uint8 [H, W, C]."""
    return (img.permute(0, 2, 3, 1) * 127.5 + 128).clamp(0, 255).to(torch.uint8)[0].numpy()


@pytest.fixture(scope="module")
def conditional_pickle(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nv")
    G_ema = small_g(21, c_dim=4)
    path = folder / "network-snapshot-000040.pkl"
    write_nvidia_pickle(path, G=small_g(20, c_dim=4), G_ema=G_ema, D=small_d(22, c_dim=4))
    return path, G_ema


def test_import_writes_a_safe_checkpoint(tmp_path, conditional_pickle, capsys):
    pkl, G_ema = conditional_pickle
    out = tmp_path / "model.pt"
    result = run_cli("import", str(pkl), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "NVIDIA pickle (training.networks of NVlabs/stylegan2-ada-pytorch)" in result.stdout
    assert "32x32 3-channel StyleGAN2, z 8, w 8, 2 mapping layers, 4 classes; networks: G, G_ema, D" in result.stdout
    data = torch.load(out, weights_only=True)  # the checkpoint contract: no code, plain data
    assert data["imported_from"]["format"] == "nvidia-pickle"
    assert set(data) >= {"G_kwargs", "D_kwargs", "G", "G_ema", "D", "imported_from"}
    G = load_generator(out)
    z, c = nvidia_z([3, 4], 8), one_hot([1, 3], 4)
    with torch.no_grad():
        assert (G(z, c, truncation_psi=0.5) - G_ema(z, c, truncation_psi=0.5)).abs().max() < 1e-4
    assert load_checkpoint(out)["imported_from"]["sha256"] == data["imported_from"]["sha256"]

    code, err = run_main(capsys, "import", str(pkl), "--out", str(out))
    assert code == 2 and "already exists" in err
    before = out.stat().st_mtime_ns
    assert run_main(capsys, "import", str(pkl), "--out", str(out), "--force")[0] == 0
    assert out.stat().st_mtime_ns != before
    code, err = run_main(capsys, "import", str(out), "--out", str(tmp_path / "again.pt"))
    assert code == 2 and "already a likeness checkpoint" in err


def test_import_refuses_bad_files_in_one_line_and_writes_nothing(tmp_path, conditional_pickle, capsys):
    pkl, _ = conditional_pickle
    cut = tmp_path / "cut.pkl"
    cut.write_bytes(pkl.read_bytes()[: pkl.stat().st_size // 2])
    text = tmp_path / "notes.pkl"
    text.write_text("not a model\n")
    for source, code, words in ((cut, 1, "truncated"), (text, 1, "neither an NVIDIA network pickle"),
                                (tmp_path / "missing.pkl", 2, "does not exist")):
        out = tmp_path / "out.pt"
        if source == cut:  # one of them as a user sees it, from a child process
            result = run_cli("import", str(source), "--out", str(out))
            got, err = result.returncode, result.stderr
        else:
            got, err = run_main(capsys, "import", str(source), "--out", str(out))
        assert got == code, err
        assert words in err and err.startswith("likeness import: error: ")
        assert len(err.strip().splitlines()) == 1
        assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.pkl", "notes.pkl"]


def test_generate_from_an_nvidia_pickle_on_the_fly(tmp_path, conditional_pickle):
    pkl, G_ema = conditional_pickle
    outdir = tmp_path / "faces"
    result = run_cli("generate", str(pkl), "--seeds", "0-2,7", "--trunc", "0.7", "--noise-mode", "const",
                     "--class", "2", "--save-raw", "--outdir", str(outdir))
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in outdir.iterdir())
    assert names == ["generate.json"] + [f"seed{s:04d}.{ext}" for s in (0, 1, 2, 7) for ext in ("npy", "png")]
    for seed in (0, 1, 2, 7):
        with torch.no_grad():  # the seed means NVIDIA's z; the picture is the original network's
            want = G_ema(nvidia_z([seed], 8), one_hot([2], 4), truncation_psi=0.7, noise_mode="const")
        raw = np.load(outdir / f"seed{seed:04d}.npy")
        assert raw.dtype == np.float32 and raw.shape == (1, 3, 32, 32)
        assert np.abs(raw - want.numpy()).max() < 1e-4
        png = np.asarray(Image.open(outdir / f"seed{seed:04d}.png"))
        assert png.shape == (32, 32, 3)
        assert np.abs(png.astype(int) - nvidia_pixels(want).astype(int)).max() <= 1
    manifest = json.loads((outdir / "generate.json").read_text())
    assert manifest["seeds"] == [0, 1, 2, 7] and manifest["class"] == 2


def test_generate_output_folder_rules(tmp_path, conditional_pickle, capsys):
    pkl, _ = conditional_pickle
    outdir = tmp_path / "faces"
    outdir.mkdir()
    (outdir / "seed0000.png").write_bytes(b"old")
    base = ("generate", str(pkl), "--seeds", "5", "--class", "0", "--outdir", str(outdir))
    code, err = run_main(capsys, *base)
    assert code == 2 and "already exists" in err
    assert (outdir / "seed0000.png").read_bytes() == b"old"
    assert run_main(capsys, *base, "--force")[0] == 0
    assert sorted(p.name for p in outdir.iterdir()) == ["generate.json", "seed0005.png"]
    (outdir / "my-notes.txt").write_text("keep me")
    code, err = run_main(capsys, *base, "--force")
    assert code == 2 and "my-notes.txt" in err
    assert (outdir / "my-notes.txt").read_text() == "keep me"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left behind

    other = tmp_path / "other"
    for args, words in ((("--seeds", "3"), "conditional (4 classes)"),
                        (("--seeds", "3", "--class", "4"), "out of range")):
        code, err = run_main(capsys, "generate", str(pkl), "--outdir", str(other), *args)
        assert code == 2 and words in err, err
        assert not other.exists()
    with pytest.raises(SystemExit) as exit_info:  # argparse refuses a bad seed list before anything runs
        main(["generate", str(pkl), "--seeds", "3-1", "--class", "0", "--outdir", str(other)])
    assert exit_info.value.code == 2 and "empty" in capsys.readouterr().err


def test_generate_from_a_rosinality_checkpoint_and_ours(tmp_path, capsys):
    G = small_g(30, mapping_layers=8)
    path = tmp_path / "010000.pt"
    write_rosinality_checkpoint(path, G=G, G_ema=G, D=small_d(31), size=32, n_mlp=8, latent=8)
    converted = tmp_path / "model.pt"
    assert run_main(capsys, "import", str(path), "--out", str(converted))[0] == 0
    raws = []
    for model in (path, converted):
        outdir = tmp_path / f"out-{len(raws)}"
        result = run_cli("generate", str(model), "--seeds", "4", "--save-raw", "--outdir", str(outdir))
        assert result.returncode == 0, result.stderr
        raws.append(np.load(outdir / "seed0004.npy"))
    with torch.no_grad():
        want = G(nvidia_z([4], 8), noise_mode="const").numpy()
    assert np.abs(raws[0] - want).max() < 1e-4 and np.array_equal(raws[0], raws[1])
    code, err = run_main(capsys, "generate", str(path), "--seeds", "1", "--class", "0", "--outdir",
                         str(tmp_path / "x"))
    assert code == 2 and "not conditional" in err


def test_parse_seeds():
    assert parse_seeds("0-3,7") == [0, 1, 2, 3, 7]
    assert parse_seeds("7, 2-3,3") == [7, 2, 3]
    assert parse_seeds("4294967295") == [2 ** 32 - 1]
    import argparse

    for bad in ("", "a", "1-", "-1", "3-2", "4294967296", "1,,2"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_seeds(bad)
