"""Which snapshot is best, and keeping it: lowest FID among comparable measurements, pinned against retention.

FIDs are comparable only when measured the same way: the same number of fakes (FID is biased by it), the same real
set and the same Inception weights. Among a run's measurements we compare the most thorough ones (the largest
number of fakes) and take the lowest FID; ties go to the earlier snapshot.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from evaluation.metrics_log import latest, setting_key
from training.run_folder import pin_snapshot, read_pins, snapshot_nimg, unpin_snapshot

BEST_PIN = "best FID"
APPROVED_PIN = "approved"
PIN_SEPARATOR = "; "


def fid_records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in latest(records) if r["metric"] == "fid" and r.get("value") is not None]


def same_setting(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Measured with the same number of fakes drawn the same way, against the same reals, with the same network."""
    return setting_key(a)[1:] == setting_key(b)[1:]


def comparable_group(records: list[dict[str, Any]], num_fakes: int | None = None,
                     like: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The FID records measured like `like` (same fakes, reals and weights), or else with `num_fakes` fakes
    (default: the largest number any FID used)."""
    fids = fid_records(records)
    if like is not None:
        return [r for r in fids if same_setting(r, like)]
    if not fids:
        return []
    if num_fakes is None:
        num_fakes = max(int(r["num_fakes"]) for r in fids)
    return [r for r in fids if int(r["num_fakes"]) == num_fakes]


def best_fid(records: list[dict[str, Any]], num_fakes: int | None = None,
             like: dict[str, Any] | None = None) -> dict[str, Any] | None:
    group = comparable_group(records, num_fakes, like)
    if not group:
        return None
    return min(group, key=lambda r: (float(r["value"]), r.get("kimg") or 0.0, r["snapshot"]))


def companion(records: list[dict[str, Any]], fid_record: dict[str, Any], metric: str) -> dict[str, Any] | None:
    """The newest `metric` record measured in the same setting as `fid_record`."""
    key = setting_key(fid_record)
    found = [r for r in latest(records) if r["metric"] == metric and setting_key(r) == key]
    return found[-1] if found else None


# -- pins --------------------------------------------------------------------------------------------------------

def _parts(reason: str) -> list[str]:
    return [p for p in reason.split(PIN_SEPARATOR) if p]


def pin_reason(run_dir: str | os.PathLike, name: str, tag: str, text: str, *, exclusive: bool) -> bool:
    """Add `text` (which starts with `tag`) to the pin reasons of snapshot `name`, keeping its other reasons.

    exclusive: the tag belongs to one snapshot of the run ("best FID"): other snapshots lose it, and are unpinned
    when it was their only reason. Returns whether pins.json changed."""
    run_dir = Path(run_dir)
    if snapshot_nimg(Path(name).name) is None or not (run_dir / name).is_file():
        return False
    changed = False
    pins = read_pins(run_dir)
    wanted = [p for p in _parts(pins.get(name, "")) if not p.startswith(tag)] + [text]
    if _parts(pins.get(name, "")) != wanted:
        pin_snapshot(run_dir, name, PIN_SEPARATOR.join(wanted))
        changed = True
    if exclusive:
        for other, reason in read_pins(run_dir).items():
            if other == name:
                continue
            kept = [p for p in _parts(reason) if not p.startswith(tag)]
            if kept != _parts(reason):
                changed = True
                if kept and (run_dir / other).is_file():
                    pin_snapshot(run_dir, other, PIN_SEPARATOR.join(kept))
                else:
                    unpin_snapshot(run_dir, other)
    return changed


def pin_best(run_dir: str | os.PathLike, record: dict[str, Any]) -> bool:
    text = f"{BEST_PIN} {record['value']:.4g} ({record['num_fakes']} fakes)"
    return pin_reason(run_dir, record["snapshot"], BEST_PIN, text, exclusive=True)
