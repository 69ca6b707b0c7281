"""`likeness gate` and registry.yaml: decisions from metrics.jsonl records built here directly (the whole path from a
trained run is in test_evaluate.py), manual overrides, idempotence, bad input, and the renderer's loader."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from evaluation.inception import REFERENCE_SHA256
from evaluation.metrics_log import append_records
from evaluation.registry import load_registry, read_registry, render_registry
from likeness.cli import main
from training.errors import DataError

USERS_TABLE = {"ana": 9.0, "bo": 20.0, "cy": 114.2, "dee": 7.0, "eve": 30.0}


def make_run(root: Path, person: str, fids: dict[str, float], *, num_fakes: int = 50_000, number: int = 0,
             extra: dict[str, dict[str, float]] | None = None, dataset_sha256: str = "d" * 64,
             time: str = "2026-11-23T10:00:00+00:00") -> Path:
    """A run folder with a snapshot file per entry of `fids` and the metrics.jsonl evaluate would write."""
    run = root / "runs" / person / f"{number:05d}-{person}-10fps"
    run.mkdir(parents=True, exist_ok=True)
    (run / "config.json").write_text(json.dumps({
        "person": person, "training": {}, "G_kwargs": {"img_resolution": 256},
        "dataset": {"path": f"/data/{person}.zip", "sha256": "d" * 64,
                    "provenance": {"person": person, "consent": f"{person} agreed to the 2026 show"}}}))
    records = []
    for name, fid in fids.items():
        path = run / name
        if not path.exists():
            path.write_bytes(f"{person} {number} {name}".encode())
        values = {"fid": fid, **(extra or {}).get(name, {})}
        for metric, value in values.items():
            records.append({
                "time": time, "run": run.name, "person": person, "snapshot": name,
                "snapshot_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                "kimg": float(name.split("-")[1].split(".")[0]), "metric": metric, "value": value,
                "num_reals": 18000, "num_fakes": num_fakes, "inception_sha256": REFERENCE_SHA256,
                "dataset": f"/data/{person}.zip", "dataset_sha256": dataset_sha256,
                "fakes": {"seeds": [0, num_fakes - 1], "truncation_psi": 1.0, "noise_mode": "const", "labels": None},
                "device": "cuda:0", "likeness_version": "0.1.0",
                "details": {"near_copies": 0} if metric == "memorisation" else {}})
    append_records(run, records)
    return run


@pytest.fixture
def show(tmp_path):
    """Five sitters as in our users' show: FIDs 9, 20, 114.2, 7 and 30."""
    runs = {p: make_run(tmp_path, p, {"snapshot-001000.pt": fid + 5, "snapshot-002000.pt": fid})
            for p, fid in USERS_TABLE.items()}
    (tmp_path / "gate.yaml").write_text("fid_max: 50\n")
    return tmp_path, runs


def gate(root: Path, *args: str) -> int:
    return main(["gate", "--registry", str(root / "registry.yaml"), *args])


def test_the_users_table_gates_out_the_114_set(show, capsys):
    root, runs = show
    assert gate(root, "--rules", str(root / "gate.yaml"), str(root / "runs")) == 0
    out = capsys.readouterr().out
    persons = read_registry(root / "registry.yaml")
    assert sorted(persons) == sorted(USERS_TABLE)
    for person, fid in USERS_TABLE.items():
        entry = persons[person]
        snapshot = runs[person] / "snapshot-002000.pt"  # the better of each run's two snapshots
        assert entry["snapshot"] == f"runs/{person}/00000-{person}-10fps/snapshot-002000.pt"
        assert entry["sha256"] == hashlib.sha256(snapshot.read_bytes()).hexdigest()
        assert (entry["fid"], entry["threshold"], entry["decided"], entry["num_fakes"]) == (fid, 50, "auto", 50000)
        assert entry["consent"] == f"{person} agreed to the 2026 show"
        assert entry["run"] == f"runs/{person}/00000-{person}-10fps" and entry["inception_sha256"] == REFERENCE_SHA256
        pins = json.loads((runs[person] / "pins.json").read_text()) if (runs[person] / "pins.json").exists() else {}
        if person == "cy":
            assert entry["status"] == "excluded" and entry["reason"] == "FID 114.2 is above the threshold 50"
            assert pins == {}
        else:
            assert entry["status"] == "approved" and entry["reason"] == f"FID {fid:.1f} is within the threshold 50"
            assert pins == {"snapshot-002000.pt": f"approved in {(root / 'registry.yaml').resolve()}"}
    lines = out.splitlines()
    assert lines[0].split() == ["set", "FID", "verdict"]
    assert lines[3].split() == ["cy", "114.2", "excluded:", "FID", "114.2", "is", "above", "the", "threshold", "50"]
    assert lines[1].split()[:3] == ["ana", "9.0", "approved:"] and len(lines) == 7
    assert lines[-1] == f"wrote {root / 'registry.yaml'} (4 approved, 1 excluded)"
    # the renderer's view: only the approved, each file checked
    registry = load_registry(root / "registry.yaml")
    assert sorted(registry.approved) == ["ana", "bo", "dee", "eve"] and list(registry.excluded) == ["cy"]
    assert registry.approved["dee"].snapshot == runs["dee"] / "snapshot-002000.pt"
    assert registry.approved["dee"].fid == 7.0 and registry.approved["dee"].threshold == 50


def test_a_rerun_writes_the_same_bytes(show, capsys):
    root, _ = show
    registry = root / "registry.yaml"
    assert gate(root, "--rules", str(root / "gate.yaml"), str(root / "runs")) == 0
    first, mtime = registry.read_bytes(), registry.stat().st_mtime_ns
    assert gate(root, "--rules", str(root / "gate.yaml"), str(root / "runs")) == 0
    assert registry.read_bytes() == first and registry.stat().st_mtime_ns == mtime
    assert capsys.readouterr().out.splitlines()[-1].startswith(f"unchanged: {registry}")
    # the time of a decision changes only when the decision does
    persons = read_registry(registry)
    for entry in persons.values():
        entry["decided_at"] = "2000-01-01T00:00:00+00:00"
    registry.write_bytes(render_registry(persons))
    (root / "gate.yaml").write_text("fid_max: 50\npersons:\n  eve: {fid_max: 25}\n")
    assert gate(root, "--rules", str(root / "gate.yaml"), str(root / "runs")) == 0
    after = read_registry(registry)
    assert after["eve"]["status"] == "excluded" and after["eve"]["reason"] == "FID 30.0 is above the threshold 25"
    assert after["eve"]["decided_at"] != "2000-01-01T00:00:00+00:00"
    assert all(after[p]["decided_at"] == "2000-01-01T00:00:00+00:00" for p in ("ana", "bo", "cy", "dee"))


def test_only_comparable_existing_snapshots_compete(tmp_path, capsys):
    """More fakes beat a lower FID measured with fewer; deleted or replaced snapshots drop out; runs are pooled."""
    make_run(tmp_path, "fay", {"snapshot-000100.pt": 40.0, "snapshot-000200.pt": 36.0}, number=0)
    make_run(tmp_path, "fay", {"snapshot-000100.pt": 12.0}, number=0, num_fakes=10_000)  # fewer fakes
    best = make_run(tmp_path, "fay", {"snapshot-000300.pt": 31.0, "snapshot-000400.pt": 3.0,
                                      "snapshot-000500.pt": 2.0}, number=1)
    (best / "snapshot-000400.pt").unlink()  # deleted by retention since it was measured
    (best / "snapshot-000500.pt").write_bytes(b"replaced")  # not the file that was measured
    (tmp_path / "gate.yaml").write_text("fid_max: 50\n")
    assert gate(tmp_path, "--rules", str(tmp_path / "gate.yaml"), str(tmp_path / "runs" / "fay")) == 0
    entry = read_registry(tmp_path / "registry.yaml")["fay"]
    assert entry["snapshot"] == "runs/fay/00001-fay-10fps/snapshot-000300.pt" and entry["fid"] == 31.0


@pytest.mark.parametrize("rules, extra, status, reason, fid", [
    ("fid_max: 50\nkid_max: 0.02\n", {"kid": 0.0301}, "excluded", "KID 0.0301 is above the threshold 0.02", 20.0),
    ("fid_max: 50\nkid_max: 0.02\n", {"kid": 0.0123}, "approved",
     "FID 20.0 is within the threshold 50; KID 0.0123 is within the threshold 0.02", 20.0),
    ("fid_max: 50\nkid_max: 0.02\n", {}, "excluded", "KID was not measured (the rules set kid_max 0.02; measure "
                                                     "it with `likeness evaluate --metrics kid`)", 20.0),
    ("fid_max: 50\nmemorisation_max: 0.05\n", {"memorisation": 0.125}, "excluded",
     "near-copies 12.5% are above the limit 5%", 20.0),
    ("fid_max: 50\ncoverage_min: 0.5\n", {"coverage": 0.375}, "excluded", "coverage 0.375 is below the minimum 0.5",
     20.0),
    ("fid_max: 50\ndiversity_min: 0.8\n", {"diversity": 0.8}, "approved",
     "FID 20.0 is within the threshold 50; diversity 0.800 meets the minimum 0.8", 20.0),  # at the minimum passes
    ("fid_max: 50\ndiversity_min: 0.8\n", {"diversity": 0.05}, "excluded", "diversity 0.0500 is below the minimum 0.8",
     20.0),
    ("fid_max: 50\ncoverage_min: 0.5\n", {}, "excluded", "coverage was not measured (the rules set coverage_min 0.5; "
                                                         "measure it with `likeness evaluate --metrics coverage`)", 20.0),
    ("fid_max: 20\n", {}, "approved", "FID 20.0 is within the threshold 20", 20.0),  # at the threshold passes
    ("fid_max: 50\n", {}, "excluded", "FID 50.04 is above the threshold 50", 50.04),  # not "50.0 above 50"
    ("fid_max: 10\npersons:\n  bo: {fid_max: 25}\n", {}, "approved", "FID 20.0 is within the threshold 25", 20.0),
])
def test_rules_and_their_reasons(tmp_path, capsys, rules, extra, status, reason, fid):
    make_run(tmp_path, "bo", {"snapshot-000100.pt": fid}, extra={"snapshot-000100.pt": extra})
    (tmp_path / "gate.yaml").write_text(rules)
    assert gate(tmp_path, "--rules", str(tmp_path / "gate.yaml"), str(tmp_path / "runs")) == 0
    entry = read_registry(tmp_path / "registry.yaml")["bo"]
    assert (entry["status"], entry["reason"]) == (status, reason)


def test_the_new_figures_are_kept_in_the_registry(tmp_path, capsys):
    make_run(tmp_path, "bo", {"snapshot-000100.pt": 20.0},
             extra={"snapshot-000100.pt": {"coverage": 0.625, "diversity": 0.9}})
    (tmp_path / "gate.yaml").write_text("fid_max: 50\ncoverage_min: 0.5\ndiversity_min: 0.8\n")
    assert gate(tmp_path, "--rules", str(tmp_path / "gate.yaml"), str(tmp_path / "runs")) == 0
    entry = read_registry(tmp_path / "registry.yaml")["bo"]
    assert (entry["coverage"], entry["diversity"], entry["coverage_min"], entry["diversity_min"]) == (0.625, 0.9, 0.5, 0.8)
    assert entry["status"] == "approved"


@pytest.mark.parametrize("rules, words", [
    ("fid_max: 50\ncoverage_min: 1.5\n", "coverage_min is a share between 0 and 1"),
    ("fid_max: 50\ndiversity_min: -1\n", "diversity_min must be a number of 0 or more"),
])
def test_bad_minimums_are_refused(tmp_path, capsys, rules, words):
    make_run(tmp_path, "bo", {"snapshot-000100.pt": 20.0})
    (tmp_path / "gate.yaml").write_text(rules)
    assert gate(tmp_path, "--rules", str(tmp_path / "gate.yaml"), str(tmp_path / "runs")) == 2
    assert words in capsys.readouterr().err
    assert not (tmp_path / "registry.yaml").exists()


def test_only_fids_against_the_newest_runs_real_set_compete(tmp_path, capsys):
    """An old run measured against another real set with a lower FID does not win; the verdict says why."""
    make_run(tmp_path, "fay", {"snapshot-000100.pt": 5.0}, number=0, dataset_sha256="a" * 64,
             time="2026-11-20T10:00:00+00:00")
    make_run(tmp_path, "fay", {"snapshot-000200.pt": 30.0, "snapshot-000300.pt": 25.0}, number=1,
             dataset_sha256="b" * 64, time="2026-11-22T10:00:00+00:00")
    (tmp_path / "gate.yaml").write_text("fid_max: 50\n")
    assert gate(tmp_path, "--rules", str(tmp_path / "gate.yaml"), str(tmp_path / "runs")) == 0
    entry = read_registry(tmp_path / "registry.yaml")["fay"]
    assert entry["snapshot"] == "runs/fay/00001-fay-10fps/snapshot-000300.pt" and entry["fid"] == 25.0
    assert entry["dataset_sha256"] == "b" * 64
    assert entry["reason"] == ("FID 25.0 is within the threshold 50 (compared only FIDs against the real set of the "
                               "newest run 00001-fay-10fps (/data/fay.zip, sha256 bbbbbbbbbbbb); 1 other real set(s) "
                               "left out (run(s) 00000-fay-10fps))")
    same = make_run(tmp_path / "one", "gil", {"snapshot-000100.pt": 5.0}, number=0)
    make_run(tmp_path / "one", "gil", {"snapshot-000200.pt": 9.0}, number=1, time="2026-11-24T10:00:00+00:00")
    assert gate(tmp_path / "one", "--rules", str(tmp_path / "gate.yaml"), str(tmp_path / "one" / "runs")) == 0
    entry = read_registry(tmp_path / "one" / "registry.yaml")["gil"]
    assert entry["fid"] == 5.0 and entry["reason"] == "FID 5.0 is within the threshold 50"  # one set: no note
    assert same.is_dir()


def test_a_run_without_measurements_is_excluded_with_the_way_out(tmp_path, capsys):
    run = make_run(tmp_path, "gus", {})
    (tmp_path / "gate.yaml").write_text("fid_max: 50\n")
    assert gate(tmp_path, "--rules", str(tmp_path / "gate.yaml"), str(run)) == 0
    entry = read_registry(tmp_path / "registry.yaml")["gus"]
    assert entry["status"] == "excluded" and f"run `likeness evaluate {run}` first" in entry["reason"]


def test_manual_decisions_survive_automatic_runs(show, capsys):
    root, runs = show
    rules = ["--rules", str(root / "gate.yaml"), str(root / "runs")]
    assert gate(root, *rules) == 0
    chosen = runs["cy"] / "snapshot-001000.pt"
    assert gate(root, "approve", "cy", "--snapshot", str(chosen), "--reason", "the best likeness; artist's call") == 0
    assert gate(root, "exclude", "ana", "--reason", "consent withdrawn on 2026-11-20") == 0
    capsys.readouterr()
    assert gate(root, *rules) == 0
    out = capsys.readouterr().out
    persons = read_registry(root / "registry.yaml")
    cy, ana = persons["cy"], persons["ana"]
    assert (cy["status"], cy["decided"], cy["reason"]) == ("approved", "manual", "the best likeness; artist's call")
    assert cy["snapshot"] == "runs/cy/00000-cy-10fps/snapshot-001000.pt" and cy["fid"] == 119.2
    assert cy["sha256"] == hashlib.sha256(chosen.read_bytes()).hexdigest()
    assert (ana["status"], ana["decided"]) == ("excluded", "manual")
    assert ana["snapshot"].endswith("snapshot-002000.pt")  # what the gate had found is kept for the record
    assert "approved (manual): the best likeness" in out and "2 manual decision(s) kept" in out
    assert json.loads((runs["cy"] / "pins.json").read_text())["snapshot-001000.pt"].startswith("approved")
    assert sorted(load_registry(root / "registry.yaml").approved) == ["bo", "cy", "dee", "eve"]
    # reset hands a person back to the rules
    assert gate(root, "reset", "ana") == 0
    assert gate(root, *rules) == 0
    assert read_registry(root / "registry.yaml")["ana"]["decided"] == "auto"
    assert read_registry(root / "registry.yaml")["ana"]["status"] == "approved"


def test_approving_another_persons_snapshot_is_refused(show, capsys):
    root, runs = show
    assert gate(root, "approve", "ana", "--snapshot", str(runs["cy"] / "snapshot-001000.pt"), "--reason", "x") == 2
    err = capsys.readouterr().err
    assert "is a model of cy, not ana" in err and err.count("\n") == 1
    assert not (root / "registry.yaml").exists()


@pytest.mark.parametrize("rules, words", [
    ("fid_mx: 50\npersons:\n  bo: {kidmax: 1}\n", "unknown keys fid_mx, persons.bo.kidmax; the rules are"),
    ("fid_max: [50\n", "gate.yaml:2:1: not valid YAML: while parsing a flow sequence"),
    ("fid_max: 50\nmemorisation_max: 5\n", "memorisation_max is a share between 0 and 1"),
    ("fid_max: fifty\n", "fid_max must be a number"),
    ("kid_max: 0.1\n", "the rules set no fid_max for"),
    ("- 50\n", "must be a mapping of rules"),
    ("fid_max: 50\nfid_max: 40\n", "gate.yaml:2:1: the key 'fid_max' appears twice (lines 1 and 2)"),
    ("persons:\n  bo: {fid_max: 1}\n  bo: {fid_max: 2}\n", "the key 'bo' appears twice (lines 2 and 3)"),
    ("fid_max: " + "[" * 20_000 + "]" * 20_000 + "\n", "gate.yaml:1:73: nested more than 64 levels deep"),
    ("fid_max: 50\npersons:\n  bo: {kid_max: -1}\n", "gate.yaml:3:8: persons.bo.kid_max must be a number"),
    ("".join(f"k{i}: 1\n" for i in range(20_000)), "unknown keys k0, k1, k2, k3, k4 and 19,995 more "
                                                    "(20,000 in all); the rules are"),
])
def test_bad_rules_leave_the_registry_untouched(show, capsys, rules, words):
    root, _ = show
    assert gate(root, "--rules", str(root / "gate.yaml"), str(root / "runs")) == 0
    before = (root / "registry.yaml").read_bytes()
    capsys.readouterr()
    (root / "gate.yaml").write_text(rules)
    assert gate(root, "--rules", str(root / "gate.yaml"), str(root / "runs")) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1 and len(err) < 400, err[:1000]
    assert (root / "registry.yaml").read_bytes() == before


@pytest.mark.parametrize("args, words", [
    ([], "give the thresholds with --rules"),
    (["--rules", "{root}/gate.yaml"], "give the run folders"),
    (["--rules", "{root}/gate.yaml", "{root}/nowhere"], "is not a folder"),
    (["--rules", "{root}/gate.yaml", "{root}"], "holds no run folders"),
    (["--rules", "{root}/missing.yaml", "{root}/runs"], "rules file"),
    (["approve", "ana", "--reason", "x"], "needs --snapshot PATH and --reason TEXT"),
    (["exclude", "ana"], "needs --reason TEXT"),
    (["exclude", "ana", "--reason", "  "], "--reason must say why"),
    (["reset", "nobody"], "has no entry for nobody"),
    (["--rules", "{root}/gate.yaml", "{root}/runs", "--reason", "x"], "belong to"),
])
def test_bad_command_lines(show, capsys, args, words):
    root, _ = show
    if args[:1] == ["reset"]:
        assert gate(root, "--rules", str(root / "gate.yaml"), str(root / "runs")) == 0
        capsys.readouterr()
    before = (root / "registry.yaml").read_bytes() if (root / "registry.yaml").exists() else None
    empty = root / "empty"
    empty.mkdir()
    assert gate(root, *[a.format(root=empty if a == "{root}" else root) for a in args]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1, err
    after = (root / "registry.yaml").read_bytes() if (root / "registry.yaml").exists() else None
    assert after == before


def test_a_damaged_registry_is_not_overwritten(show, capsys):
    root, _ = show
    (root / "registry.yaml").write_text("shows: [a, b]\n")
    assert gate(root, "--rules", str(root / "gate.yaml"), str(root / "runs")) == 1
    assert "is not a likeness registry" in capsys.readouterr().err
    assert (root / "registry.yaml").read_text() == "shows: [a, b]\n"


@pytest.mark.parametrize("text, words", [
    ("format: likeness-registry\npersons: " + "[" * 20_000 + "]" * 20_000 + "\n", ":2:73: nested more than 64"),
    ("format: likeness-registry\npersons:\n  ana: {status: excluded}\n  ana: {status: approved}\n",
     ":4:3: the key 'ana' appears twice (lines 3 and 4)"),
    ("format: likeness-registry\nversion: two\n", "version must be a whole number"),
])
def test_a_hostile_registry_is_one_line_for_gate_and_the_renderer(show, capsys, text, words):
    root, _ = show
    (root / "registry.yaml").write_text(text)
    assert gate(root, "--rules", str(root / "gate.yaml"), str(root / "runs")) == 1
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1, err
    with pytest.raises(DataError, match=words.replace("(", r"\(").replace(")", r"\)")):
        load_registry(root / "registry.yaml")
    assert (root / "registry.yaml").read_text() == text


def test_the_renderer_refuses_a_changed_or_missing_snapshot(show, capsys):
    root, runs = show
    assert gate(root, "--rules", str(root / "gate.yaml"), str(root / "runs")) == 0
    (runs["cy"] / "snapshot-002000.pt").unlink()  # excluded: not the renderer's concern
    load_registry(root / "registry.yaml")
    (runs["bo"] / "snapshot-002000.pt").write_bytes(b"another model")
    with pytest.raises(DataError, match="bo's approved snapshot .* has changed since it was approved"):
        load_registry(root / "registry.yaml")
    assert load_registry(root / "registry.yaml", verify=False).approved["bo"].sha256 != hashlib.sha256(
        b"another model").hexdigest()
    (runs["bo"] / "snapshot-002000.pt").unlink()
    with pytest.raises(DataError, match="bo's approved snapshot .* is not there"):
        load_registry(root / "registry.yaml")


def test_registry_yaml_is_plain_and_ordered(show, capsys):
    root, _ = show
    assert gate(root, "--rules", str(root / "gate.yaml"), str(root / "runs")) == 0
    text = (root / "registry.yaml").read_text()
    data = yaml.safe_load(text)
    assert (data["format"], data["version"]) == ("likeness-registry", 1)
    assert list(data["persons"]) == sorted(USERS_TABLE)
    assert list(data["persons"]["ana"])[:5] == ["status", "decided", "reason", "snapshot", "sha256"]
    assert text.startswith("# likeness registry")


def test_a_public_model_approved_by_hand_loads_through_the_registry(tmp_path, capsys):
    """An artist may show a public NVIDIA model as it is: approved by hand, it loads like any model, safely."""
    import torch

    from foreign_formats import write_nvidia_pickle
    from training.networks import Generator, zs_from_seeds

    torch.manual_seed(3)
    G = Generator(img_resolution=16, z_dim=8, w_dim=8, mapping_layers=1, channel_base=64, channel_max=16).eval()
    public = tmp_path / "metfaces.pkl"
    write_nvidia_pickle(public, G_ema=G)
    registry = tmp_path / "registry.yaml"
    assert main(["gate", "approve", "guest", "--snapshot", str(public), "--registry", str(registry),
                 "--reason", "a public model shown as it is"]) == 0
    (model,) = load_registry(registry).approved.values()
    assert model.sha256 == hashlib.sha256(public.read_bytes()).hexdigest()
    z = zs_from_seeds([0, 1], 8)
    with torch.no_grad():
        assert torch.allclose(model.load_generator()(z), G(z), atol=1e-5)
