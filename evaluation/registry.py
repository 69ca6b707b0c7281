"""registry.yaml: which sitters' models may enter a show, and why. Written by `likeness gate`, read by the renderer.

    format: likeness-registry
    version: 1
    persons:
      ana:
        status: approved            # approved | excluded
        decided: auto               # auto (the gate's rules) | manual (gate approve / exclude)
        reason: FID 9.1 is within the threshold 50
        snapshot: runs/ana/00001-ana-10fps-.../snapshot-001200.pt   # relative to this file when they share a root
        sha256: 3f1c...             # of the snapshot file; the renderer refuses a file that does not match
        kimg: 1200.0
        fid: 9.1234
        kid: 0.001234
        memorisation: 0.012         # share of near-copies, when measured
        threshold: 50               # the FID threshold it was judged by (kid_max, memorisation_max when set)
        num_fakes: 50000
        num_reals: 18000
        run: runs/ana/00001-ana-10fps-...
        dataset: /data/ana-10fps.zip
        dataset_sha256: 88a0...
        inception_sha256: 7ff4...
        consent: the note stored in the dataset
        decided_at: '2026-11-23T18:00:00+00:00'   # changes only when the decision does

Persons are sorted by name and keys come in a fixed order, so the same decisions give the same bytes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from training.atomic import atomic_write_bytes
from training.errors import DataError, UsageError
from training.hashing import file_sha256
from training.yaml_load import load_yaml

FORMAT = "likeness-registry"
VERSION = 1
APPROVED, EXCLUDED = "approved", "excluded"
AUTO, MANUAL = "auto", "manual"
ENTRY_KEYS = ("status", "decided", "reason", "snapshot", "sha256", "kimg", "fid", "kid", "memorisation", "coverage",
              "diversity", "threshold", "kid_max", "memorisation_max", "coverage_min", "diversity_min", "num_fakes", "num_reals", "run", "dataset", "dataset_sha256",
              "inception_sha256", "consent", "decided_at")
HEADER = ("# likeness registry: which sitters' models may enter a show. Written by `likeness gate`; change a "
          "decision with\n# `likeness gate approve|exclude PERSON ...` rather than by hand (the renderer checks "
          "each snapshot's sha256).\n")


# -- paths -----------------------------------------------------------------------------------------------------------

def path_for_registry(path: str | os.PathLike, registry: str | os.PathLike) -> str:
    """`path` relative to the registry's folder when both live under one top folder, else absolute."""
    target = Path(path).resolve()
    base = Path(registry).resolve().parent
    if os.path.commonpath([target, base]) == os.sep:
        return str(target)
    return os.path.relpath(target, base)


def resolve_from_registry(text: str, registry: str | os.PathLike) -> Path:
    path = Path(text)
    return path if path.is_absolute() else (Path(registry).resolve().parent / path)


# -- reading and writing ---------------------------------------------------------------------------------------------

def read_registry(path: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """The persons of an existing registry ({} when there is none yet); a damaged file is an error, never ignored:
    rewriting it would silently drop decisions."""
    path = Path(path)
    if not path.exists():
        return {}
    data = load_yaml(path, error=DataError, hint="repair it or move it away before gating again")
    if data is None:
        return {}
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("persons", {}), dict):
        raise DataError(f"{path} is not a likeness registry (no 'format: {FORMAT}'); name another registry file or "
                        "move this one away")
    version = data.get("version", 0)
    if isinstance(version, bool) or not isinstance(version, int):
        raise DataError(f"{path}: version must be a whole number such as {VERSION}, got {str(version)[:40]!r}; repair it")
    if version > VERSION:
        raise DataError(f"{path} was written by a newer likeness (registry version {data['version']}); upgrade")
    persons = data.get("persons") or {}
    for name, entry in persons.items():
        if not isinstance(entry, dict) or entry.get("status") not in (APPROVED, EXCLUDED):
            raise DataError(f"{path}: the entry of {name} has no status approved or excluded; repair it")
    return {str(k): dict(v) for k, v in persons.items()}


def ordered(entry: dict[str, Any]) -> dict[str, Any]:
    """Known keys in their fixed order, empty ones left out, unknown ones (added by hand) kept at the end."""
    out = {k: entry[k] for k in ENTRY_KEYS if entry.get(k) is not None}
    out.update({k: v for k, v in sorted(entry.items()) if k not in ENTRY_KEYS and v is not None})
    return out


def render_registry(persons: dict[str, dict[str, Any]]) -> bytes:
    data = {"format": FORMAT, "version": VERSION,
            "persons": {name: ordered(persons[name]) for name in sorted(persons)}}
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=120)
    return (HEADER + body).encode()


def write_registry(path: str | os.PathLike, persons: dict[str, dict[str, Any]]) -> bool:
    """Write atomically; returns False (and leaves the file alone) when the bytes would not change."""
    path = Path(path)
    data = render_registry(persons)
    if path.is_file() and path.read_bytes() == data:
        return False
    if not path.parent.exists():
        raise UsageError(f"the folder {path.parent} does not exist; create it first or choose another --registry")
    atomic_write_bytes(path, data)
    return True


# -- for the renderer ------------------------------------------------------------------------------------------------

@dataclass
class ApprovedModel:
    person: str
    snapshot: Path  # absolute
    sha256: str
    fid: float | None
    threshold: float | None
    entry: dict[str, Any] = field(repr=False)

    def load_generator(self, device: str = "cpu"):
        """The approved generator, whatever the file's format (ours, or an NVIDIA / rosinality file approved by
        hand), read without running code from it."""
        from training.importers.importing import load_any_generator

        return load_any_generator(self.snapshot, device=device)


@dataclass
class Registry:
    path: Path
    approved: dict[str, ApprovedModel]
    excluded: dict[str, str]  # person -> reason


def load_registry(path: str | os.PathLike, *, verify: bool = True, use_hash_cache: bool = False) -> Registry:
    """The approved models of a registry, each snapshot checked against its recorded sha256.

    A missing or changed snapshot is a DataError naming the person: a show must not quietly play another model
    than the one that passed the gate. `use_hash_cache` trusts the hash cache (path, size, mtime) instead of
    reading every file again."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"registry {path} does not exist; make it with `likeness gate --rules gate.yaml RUN...`")
    persons = read_registry(path)
    approved, excluded = {}, {}
    for name, entry in sorted(persons.items()):
        if entry["status"] == EXCLUDED:
            excluded[name] = str(entry.get("reason") or "")
            continue
        if not entry.get("snapshot") or not entry.get("sha256"):
            raise DataError(f"{path}: {name} is approved but names no snapshot and sha256; approve again with "
                            "`likeness gate approve`")
        snapshot = resolve_from_registry(str(entry["snapshot"]), path)
        if verify:
            if not snapshot.is_file():
                raise DataError(f"{path}: {name}'s approved snapshot {snapshot} is not there; restore it or gate again")
            if file_sha256(snapshot, use_cache=use_hash_cache) != entry["sha256"]:
                raise DataError(f"{path}: {name}'s approved snapshot {snapshot} has changed since it was approved "
                                "(sha256 differs); restore the approved file or gate again")
        approved[name] = ApprovedModel(name, snapshot, str(entry["sha256"]), entry.get("fid"), entry.get("threshold"),
                                       entry)
    return Registry(path, approved, excluded)
