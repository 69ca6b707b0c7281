"""The FID gate: for each sitter, the best measured snapshot across their runs, approved when it meets the rules.

Rules (gate.yaml):

    fid_max: 50                 # the default for everyone (required here or per person)
    kid_max: 0.02               # optional
    memorisation_max: 0.05      # optional: the largest share of near-copies (0.05 = 5%)
    coverage_min: 0.5           # optional: the smallest share of real frames covered by fakes
    diversity_min: 0.8          # optional: the smallest diversity ratio (fakes' over reals'; 1 = as varied)
    persons:
      bo: {fid_max: 120}        # per-person thresholds override the defaults

Best snapshot: among the FID measurements in the runs' metrics.jsonl whose snapshot is still there unchanged, the
most thorough ones (largest number of fakes; the reference Inception weights before any other), then the lowest
FID. Only numbers measured the same way are compared, against the same real set (dataset sha256): when a person's
runs were measured against different sets, the set of the newest measurement is taken and the verdict says so. Approved when its FID (and KID, near-copy share when the
rules ask) are at or below the thresholds; otherwise excluded, with the reason in words. Manual decisions
(`likeness gate approve / exclude`) are kept by every automatic run until `likeness gate reset PERSON`.
"""

from __future__ import annotations

import datetime
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluation.best import APPROVED_PIN, companion, pin_reason
from evaluation.inception import REFERENCE_SHA256
from evaluation.metrics_log import latest, read_metrics
from evaluation.registry import (APPROVED, AUTO, EXCLUDED, MANUAL, path_for_registry, read_registry,
                                 resolve_from_registry, write_registry)
from training.errors import DataError, UsageError, name_some
from training.hashing import file_sha256
from training.run_folder import read_config, snapshot_nimg
from training.yaml_load import Positioned, load_yaml_positions

RULE_KEYS = ("fid_max", "kid_max", "memorisation_max", "coverage_min", "diversity_min")
TOP_KEYS = (*RULE_KEYS, "persons")
RULE_WORDS = {"fid_max": "FID", "kid_max": "KID", "memorisation_max": "near-copy share", "coverage_min": "coverage",
              "diversity_min": "diversity"}
METRIC_OF_RULE = {"fid_max": "fid", "kid_max": "kid", "memorisation_max": "memorisation", "coverage_min": "coverage",
                  "diversity_min": "diversity"}
SHARE_RULES = ("memorisation_max", "coverage_min")  # between 0 and 1


# -- rules -----------------------------------------------------------------------------------------------------------

@dataclass
class Rules:
    default: dict[str, float]
    persons: dict[str, dict[str, float]]

    def for_person(self, person: str) -> dict[str, float]:
        return {**self.default, **self.persons.get(person, {})}


def _rule_value(doc: Positioned, keys: tuple[str, ...], value: Any) -> float:
    name, key = ".".join(keys), keys[-1]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise UsageError(f"{doc.where(*keys)}: {name} must be a number of 0 or more, got {_short(value)}")
    if key in SHARE_RULES and value > 1:
        raise UsageError(f"{doc.where(*keys)}: {name} is a share between 0 and 1 (0.05 = 5%), got {value!r}")
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def load_rules(path: str | os.PathLike) -> Rules:
    """gate.yaml, checked whole before anything is decided: unknown or repeated keys are named, not ignored."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"rules file {path} does not exist; write one with at least `fid_max: 50`")
    doc = load_yaml_positions(path, error=UsageError, hint="fix it (example: `fid_max: 50`)")
    data = doc.data
    if not isinstance(data, dict):
        raise UsageError(f"{path} must be a mapping of rules such as `fid_max: 50`")
    unknown = [str(k) for k in data if k not in TOP_KEYS]
    persons = data.get("persons") or {}
    if not isinstance(persons, dict):
        raise UsageError(f"{doc.where('persons')}: persons must map names to rules, e.g. "
                         "`persons: {ana: {fid_max: 40}}`")
    for name, rules in persons.items():
        if not isinstance(rules, dict):
            raise UsageError(f"{doc.where('persons', name)}: persons.{name} must be a mapping of rules, e.g. "
                             "`{fid_max: 40}`")
        unknown += [f"persons.{name}.{k}" for k in rules if k not in RULE_KEYS]
    if unknown:
        raise UsageError(f"{path}: unknown key{'s' if len(unknown) > 1 else ''} {name_some(unknown)}; the rules are "
                         f"{', '.join(RULE_KEYS)} and persons.NAME.{{{','.join(RULE_KEYS)}}}")
    default = {k: _rule_value(doc, (k,), data[k]) for k in RULE_KEYS if data.get(k) is not None}
    per_person = {str(name): {k: _rule_value(doc, ("persons", name, k), v) for k, v in rules.items()
                              if v is not None} for name, rules in persons.items()}
    return Rules(default, per_person)


# -- runs ------------------------------------------------------------------------------------------------------------

@dataclass
class Run:
    path: Path
    config: dict[str, Any]
    records: list[dict[str, Any]]

    @property
    def person(self) -> str:
        return str(self.config.get("person") or "")


def find_runs(paths: list[str]) -> list[Path]:
    """Run folders named directly, or found one or two levels below a folder (runs/ana, runs/)."""
    found: list[Path] = []
    for text in paths:
        path = Path(text)
        if not path.is_dir():
            raise UsageError(f"{path} is not a folder; give run folders (runs/<person>/<NNNNN>-...) or a folder "
                             "holding them")
        if (path / "config.json").is_file():
            found.append(path)
            continue
        below = sorted(p.parent for p in [*path.glob("*/config.json"), *path.glob("*/*/config.json")])
        if not below:
            raise UsageError(f"{path} holds no run folders (no config.json in it or below it)")
        found += below
    return list(dict.fromkeys(p.resolve() for p in found))


def load_runs(paths: list[str]) -> dict[str, list[Run]]:
    """Runs grouped by the person they belong to."""
    by_person: dict[str, list[Run]] = {}
    for path in find_runs(paths):
        config = read_config(path)
        run = Run(path, config, latest(read_metrics(path)))
        if not run.person:
            raise DataError(f"{path}/config.json names no person; it was not made by `likeness train`")
        by_person.setdefault(run.person, []).append(run)
    return by_person


# -- the decision ----------------------------------------------------------------------------------------------------

def _still_there(run: Run, record: dict[str, Any]) -> bool:
    path = run.path / record["snapshot"]
    return path.is_file() and file_sha256(path) == record["snapshot_sha256"]


def best_candidate(runs: list[Run]) -> tuple[Run, dict[str, Any], str | None] | None:
    """The best FID record across a person's runs, among the most thoroughly measured against one real set, whose
    snapshot still exists; plus a note when FIDs against other real sets were left out."""
    candidates = [(run, r) for run in runs for r in run.records
                  if r["metric"] == "fid" and r.get("value") is not None and _still_there(run, r)]
    if not candidates:
        return None
    candidates, note = same_real_set(candidates)

    def thoroughness(record: dict[str, Any]) -> tuple:
        # more fakes, then the reference weights, then (only FIDs of one network compare) the network's sha256
        return (int(record["num_fakes"]), record.get("inception_sha256") == REFERENCE_SHA256,
                str(record.get("inception_sha256")))

    most = max(thoroughness(r) for _, r in candidates)
    group = [(run, r) for run, r in candidates if thoroughness(r) == most]
    run, record = min(group, key=lambda c: (float(c[1]["value"]), c[0].path.name, c[1].get("kimg") or 0.0))
    return run, record, note


def same_real_set(candidates: list[tuple[Run, dict[str, Any]]]) -> tuple[list[tuple[Run, dict[str, Any]]], str | None]:
    """Only FIDs against one real set compare: that of the newest measurement (by its time, then run name)."""
    sets = {r.get("dataset_sha256") for _, r in candidates}
    if len(sets) == 1:
        return candidates, None
    run, newest = max(candidates, key=lambda c: (str(c[1].get("time") or ""), c[0].path.name))
    chosen = newest.get("dataset_sha256")
    kept = [(run_, r) for run_, r in candidates if r.get("dataset_sha256") == chosen]
    left_out = sorted({run_.path.name for run_, r in candidates if r.get("dataset_sha256") != chosen})
    note = (f"compared only FIDs against the real set of the newest run {run.path.name} ({newest.get('dataset')}, "
            f"sha256 {str(chosen)[:12]}); {len(sets) - 1} other real set(s) left out (run(s) {', '.join(left_out)})")
    return kept, note


def fmt_against(value: float, threshold: float) -> str:
    """The value with enough decimals that it visibly differs from the threshold it is compared with."""
    magnitude = math.floor(math.log10(abs(value))) if value else 0
    for digits in range(1 if abs(value) >= 1 else 2 - magnitude, 12):  # FID 9.0, KID 0.0123 (3 significant)
        text = f"{value:.{digits}f}"
        if float(text) != threshold or value == threshold:
            return text
    return repr(value)


def judge(values: dict[str, float | None], rules: dict[str, float]) -> tuple[bool, str]:
    """(approved, reason in words) of measured values against the thresholds."""
    failed, passed = [], []
    for key in RULE_KEYS:
        if key not in rules:
            continue
        limit, word, value = rules[key], RULE_WORDS[key], values.get(METRIC_OF_RULE[key])
        shown_limit = f"{limit:g}"
        if value is None:
            failed.append(f"{word} was not measured (the rules set {key} {shown_limit}; measure it with "
                          f"`likeness evaluate --metrics {METRIC_OF_RULE[key]}`)")
        elif key == "memorisation_max":
            shown = f"{100 * value:.1f}%"
            if value > limit:
                failed.append(f"near-copies {shown} are above the limit {100 * limit:g}%")
            else:
                passed.append(f"near-copies {shown} are within the limit {100 * limit:g}%")
        elif key.endswith("_min"):
            if value < limit:
                failed.append(f"{word} {fmt_against(value, limit)} is below the minimum {shown_limit}")
            else:
                passed.append(f"{word} {fmt_against(value, limit)} meets the minimum {shown_limit}")
        elif value > limit:
            failed.append(f"{word} {fmt_against(value, limit)} is above the threshold {shown_limit}")
        else:
            passed.append(f"{word} {fmt_against(value, limit)} is within the threshold {shown_limit}")
    if failed:
        return False, "; ".join(failed)
    return True, "; ".join(passed)


def decide(person: str, runs: list[Run], rules: dict[str, float], registry: Path) -> dict[str, Any]:
    """The automatic registry entry of one person."""
    if "fid_max" not in rules:
        raise UsageError(f"the rules set no fid_max for {person}; add `fid_max: N` at the top of the rules file or "
                         f"under persons.{person}")
    entry: dict[str, Any] = {"decided": AUTO, "threshold": rules["fid_max"],
                             **{key: rules.get(key) for key in RULE_KEYS if key != "fid_max"}}
    found = best_candidate(runs)
    if found is None:
        measured = any(r["metric"] == "fid" for run in runs for r in run.records)
        entry.update(status=EXCLUDED, run=path_for_registry(runs[0].path, registry),
                     reason="no measured snapshot is still there unchanged (deleted or replaced since it was "
                            "measured); evaluate the run again" if measured else
                     f"not evaluated: no FID in metrics.jsonl; run `likeness evaluate {runs[0].path}` first")
        return entry
    run, fid, note = found
    values: dict[str, Any] = {"fid": fid["value"]}
    for metric in ("kid", "memorisation", "coverage", "diversity"):
        record = companion(run.records, fid, metric)
        values[metric] = record["value"] if record else None
    approved, reason = judge(values, rules)
    if note:
        reason = f"{reason} ({note})"
    provenance = (run.config.get("dataset") or {}).get("provenance") or {}
    entry.update(
        status=APPROVED if approved else EXCLUDED, reason=reason,
        snapshot=path_for_registry(run.path / fid["snapshot"], registry), sha256=fid["snapshot_sha256"],
        kimg=fid.get("kimg"), fid=round(float(fid["value"]), 4),
        kid=None if values["kid"] is None else round(float(values["kid"]), 6),
        **{m: None if values[m] is None else round(float(values[m]), 6) for m in ("memorisation", "coverage",
                                                                                  "diversity")},
        num_fakes=fid.get("num_fakes"), num_reals=fid.get("num_reals"), run=path_for_registry(run.path, registry),
        dataset=fid.get("dataset"), dataset_sha256=fid.get("dataset_sha256"),
        inception_sha256=fid.get("inception_sha256"), consent=provenance.get("consent"))
    return entry


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _same_decision(old: dict[str, Any] | None, new: dict[str, Any]) -> bool:
    if old is None:
        return False
    strip = lambda e: {k: v for k, v in e.items() if k != "decided_at" and v is not None}  # noqa: E731
    return strip(old) == strip(new)


# -- the commands ----------------------------------------------------------------------------------------------------

@dataclass
class GateOutcome:
    persons: dict[str, dict[str, Any]]  # the whole registry after the run
    gated: list[str]  # persons of this run's RUNs
    kept_manual: list[str]
    changed: bool
    notes: list[str]


def run_gate(rules_path: str | os.PathLike, run_paths: list[str], registry: str | os.PathLike) -> GateOutcome:
    """Decide every person of the given runs; keep manual decisions and persons not named here; write atomically."""
    registry = Path(registry)
    rules = load_rules(rules_path)
    by_person = load_runs(run_paths)
    old = read_registry(registry)
    notes = [f"note: the rules name {name}, but no run of {name} was given" for name in sorted(rules.persons)
             if name not in by_person]
    persons = dict(old)
    kept = []
    for person in sorted(by_person):
        if old.get(person, {}).get("decided") == MANUAL:
            kept.append(person)
            continue
        entry = decide(person, by_person[person], rules.for_person(person), registry)
        entry["decided_at"] = old[person].get("decided_at") if _same_decision(old.get(person), entry) else _now()
        persons[person] = entry
    changed = write_registry(registry, persons)
    for person in sorted(by_person):
        _pin_approved(persons[person], registry)
    return GateOutcome(persons, sorted(by_person), kept, changed, notes)


def _pin_approved(entry: dict[str, Any], registry: Path) -> None:
    """An approved snapshot inside a run folder is pinned there, so that training's retention keeps it."""
    if entry.get("status") != APPROVED or not entry.get("snapshot"):
        return
    snapshot = resolve_from_registry(str(entry["snapshot"]), registry)
    if snapshot_nimg(snapshot.name) is not None and (snapshot.parent / "config.json").is_file():
        pin_reason(snapshot.parent, snapshot.name, APPROVED_PIN, f"{APPROVED_PIN} in {registry.resolve()}",
                   exclusive=False)


def _snapshot_person(path: Path) -> str | None:
    from training.importers.importing import is_likeness_checkpoint

    config_path = path.parent / "config.json"
    if config_path.is_file():
        try:
            return read_config(path.parent).get("person")
        except (UsageError, DataError):
            return None
    if is_likeness_checkpoint(path):
        from training.checkpoint import load_checkpoint

        payload = load_checkpoint(path)
        return (payload.get("config") or {}).get("person") or ((payload.get("dataset") or {}).get("provenance")
                                                               or {}).get("person")
    return None


def _measured(path: Path) -> dict[str, Any]:
    """What the snapshot's run folder measured of it (the most thorough FID and its companions), if anything."""
    if not (path.parent / "config.json").is_file():
        return {}
    run = Run(path.parent, read_config(path.parent), latest(read_metrics(path.parent)))
    sha = file_sha256(path)
    fids = [r for r in run.records if r["metric"] == "fid" and r["snapshot_sha256"] == sha and r.get("value") is not None]
    if not fids:
        return {}
    fid = max(fids, key=lambda r: (int(r["num_fakes"]), r.get("inception_sha256") == REFERENCE_SHA256))
    kid, mem = companion(run.records, fid, "kid"), companion(run.records, fid, "memorisation")
    provenance = (run.config.get("dataset") or {}).get("provenance") or {}
    return dict(kimg=fid.get("kimg"), fid=round(float(fid["value"]), 4),
                kid=round(float(kid["value"]), 6) if kid and kid["value"] is not None else None,
                memorisation=round(float(mem["value"]), 6) if mem and mem["value"] is not None else None,
                num_fakes=fid.get("num_fakes"), num_reals=fid.get("num_reals"), dataset=fid.get("dataset"),
                dataset_sha256=fid.get("dataset_sha256"), inception_sha256=fid.get("inception_sha256"),
                consent=provenance.get("consent"))


def approve(registry: str | os.PathLike, person: str, snapshot: str | os.PathLike, reason: str) -> dict[str, Any]:
    """A manual approval: this snapshot for this person, whatever the rules say, until reset."""
    registry, path = Path(registry), Path(snapshot)
    if not reason.strip():
        raise UsageError("--reason must say why (it is kept in the registry), e.g. --reason 'FID 52 but the best "
                         "likeness; approved by the artist'")
    if not path.is_file():
        raise UsageError(f"--snapshot {path} does not exist")
    owner = _snapshot_person(path)
    if owner and owner != person:
        raise UsageError(f"{path} is a model of {owner}, not {person}; check the PERSON and --snapshot")
    persons = read_registry(registry)
    entry = {"status": APPROVED, "decided": MANUAL, "reason": reason.strip(),
             "snapshot": path_for_registry(path, registry), "sha256": file_sha256(path),
             **_measured(path), "decided_at": _now()}
    if (path.parent / "config.json").is_file():
        entry["run"] = path_for_registry(path.parent, registry)
    persons[person] = entry
    write_registry(registry, persons)
    _pin_approved(entry, registry)
    return entry


def exclude(registry: str | os.PathLike, person: str, reason: str) -> dict[str, Any]:
    """A manual exclusion; the entry keeps what the gate knew of the person's best snapshot, for the record."""
    registry = Path(registry)
    if not reason.strip():
        raise UsageError("--reason must say why (it is kept in the registry), e.g. --reason 'the sitter withdrew "
                         "consent on 2026-11-20'")
    persons = read_registry(registry)
    previous = persons.get(person, {})
    entry = {k: v for k, v in previous.items() if k not in ("status", "decided", "reason", "decided_at")}
    entry.update(status=EXCLUDED, decided=MANUAL, reason=reason.strip(), decided_at=_now())
    persons[person] = entry
    write_registry(registry, persons)
    return entry


def reset(registry: str | os.PathLike, person: str) -> bool:
    """Forget a manual decision: the next automatic `likeness gate` decides this person by the rules again."""
    registry = Path(registry)
    persons = read_registry(registry)
    if person not in persons:
        raise UsageError(f"{registry} has no entry for {person}")
    if persons[person].get("decided") != MANUAL:
        return False
    del persons[person]
    write_registry(registry, persons)
    return True


# -- the summary -------------------------------------------------------------------------------------------------

def summary_table(persons: dict[str, dict[str, Any]], names: list[str]) -> str:
    """Set, FID, verdict: the table artists keep for a show."""
    rows = [("set", "FID", "verdict")]
    for name in names:
        entry = persons[name]
        fid = entry.get("fid")
        verdict = entry["status"] + (" (manual)" if entry.get("decided") == MANUAL else "")
        rows.append((name, "-" if fid is None else f"{fid:.1f}", f"{verdict}: {entry.get('reason', '')}"))
    width = [max(len(r[i]) for r in rows) for i in range(2)]
    return "\n".join(f"{r[0]:<{width[0]}}  {r[1]:>{width[1]}}  {r[2]}" for r in rows)
