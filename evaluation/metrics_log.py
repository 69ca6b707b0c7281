"""`metrics.jsonl` in a run folder: one JSON line per (snapshot, metric) measurement, appended, never rewritten.

A line records what was measured and against what, so that a number can be trusted (or refused) later:

    time, run, person, snapshot (file name in the run folder), snapshot_sha256, kimg, metric, value,
    num_reals, num_fakes, inception_sha256, dataset (path), dataset_sha256, fakes {seeds, truncation_psi,
    noise_mode, labels}, device, likeness_version, details {metric-specific}

Metrics: those registered in evaluation/measures (fid, kid, precision, recall, precision_video, memorisation,
separability, coverage, diversity, map).
A measurement is identified by `measurement_key`: the same snapshot content, metric, number of fakes, real set,
Inception weights and fake settings. Measuring it again (`--force`) appends a new line; readers take the newest.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from training.errors import DataError
from training.run_folder import write_guard

METRICS_NAME = "metrics.jsonl"


def metric_groups() -> dict[str, tuple[str, ...]]:
    """--metrics names -> the records they write, from the registry (evaluation/measures)."""
    from evaluation.measures import METRICS

    return {m.name: m.records for m in METRICS}


def metrics_path(run_dir: str | os.PathLike) -> Path:
    return Path(run_dir) / METRICS_NAME


def read_metrics(run_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """Every record of a run, oldest first. A line cut short by a kill is skipped; anything else unreadable is an
    error, because silently dropping measurements would change which snapshot is best."""
    path = metrics_path(run_dir)
    if not path.is_file():
        return []
    lines = path.read_text().splitlines()
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            if number == len(lines):
                continue  # the last line of a killed append
            raise DataError(f"{path} line {number} is not JSON; repair or remove that line") from None
        if not isinstance(record, dict) or "metric" not in record or "snapshot_sha256" not in record:
            raise DataError(f"{path} line {number} is not a likeness metrics record; repair or remove that line")
        records.append(record)
    return records


def append_records(run_dir: str | os.PathLike, records: list[dict[str, Any]]) -> None:
    """All lines of one snapshot in a single write, so a kill leaves at most one partial last line."""
    if not records:
        return
    path = metrics_path(run_dir)
    data = "".join(json.dumps(r, sort_keys=False, allow_nan=False) + "\n" for r in records)
    with write_guard(str(path)):
        with open(path, "a") as f:
            if f.tell() > 0 and not _ends_with_newline(path):
                f.write("\n")  # a killed earlier append left a partial line: keep ours readable
            f.write(data)
            f.flush()
            os.fsync(f.fileno())


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


def fakes_key(fakes: dict[str, Any]) -> tuple:
    return (fakes.get("truncation_psi"), fakes.get("noise_mode"), fakes.get("labels"))


def measurement_key(record: dict[str, Any]) -> tuple:
    """What makes two lines the same measurement (the later one replaces the earlier in every view)."""
    return (record["snapshot_sha256"], record["metric"], record.get("num_fakes"), record.get("dataset_sha256"),
            record.get("inception_sha256"), fakes_key(record.get("fakes") or {}))


def latest(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The newest record of each measurement, in the order they were first measured."""
    newest: dict[tuple, dict[str, Any]] = {}
    for record in records:
        key = measurement_key(record)
        newest.pop(key, None)  # re-insert: order by the newest line
        newest[key] = record
    return list(newest.values())


def setting_key(record: dict[str, Any]) -> tuple:
    """Records with the same setting form one row of a report: same snapshot, fakes, real set and weights."""
    return (record["snapshot_sha256"], record.get("num_fakes"), record.get("dataset_sha256"),
            record.get("inception_sha256"), fakes_key(record.get("fakes") or {}))
