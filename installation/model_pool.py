"""The approved generators a show may draw, held on the render device, and what happens when one of them fails.

Models enter only through `registry.yaml`: an approved entry whose file still has the sha256 the gate recorded.
An excluded person, or a file that changed since it was approved, is refused (and said once) unless
`allow_unapproved`, which loads it anyway and marks it, so the screen and the log can say so. A model that fails
to load, or later draws NaN, is retired: its windows fall back to another loaded person, or to black when none is
left, and the log says why once. Nothing here stops a show that still has one working model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import torch

from evaluation.registry import APPROVED, read_registry, resolve_from_registry
from training.errors import DataError, UsageError
from training.hashing import file_sha256

log = logging.getLogger("likeness.render")


@dataclass
class PooledModel:
    person: str
    G: torch.nn.Module
    snapshot: Path
    sha256: str
    approved: bool = True  # False: loaded only because allow_unapproved was given
    entry: dict = field(default_factory=dict, repr=False)


class ModelPool:
    """person -> generator on `device`, with fallbacks for people whose model is missing or broken."""

    def __init__(self, models: dict[str, PooledModel], refused: dict[str, str]):
        self.models = dict(sorted(models.items()))
        self.refused = dict(refused)  # person -> why it is not drawn

    @classmethod
    def from_registry(cls, path: str | Path, *, device: torch.device | str = "cpu", allow_unapproved: bool = False,
                      reduced: torch.dtype | None = None, people: list[str] | None = None) -> "ModelPool":
        """Load the registry's approved people (or `people` of them); say once why anyone is left out."""
        path = Path(path)
        if not path.is_file():
            raise UsageError(f"registry {path} does not exist; make it with `likeness gate --rules gate.yaml RUN...`")
        persons = read_registry(path)
        if not persons:
            raise DataError(f"{path} names no one; gate some runs first (`likeness gate --rules gate.yaml RUN...`)")
        models, refused = {}, {}
        for name, entry in persons.items():
            if people is not None and name not in people:
                continue
            try:
                models[name] = _load_entry(path, name, entry, device, allow_unapproved, reduced)
            except _Refused as why:
                refused[name] = str(why)
                log.warning("%s is not drawn: %s", name, why)
        pool = cls(models, refused)
        if not pool.models:
            reasons = "; ".join(f"{k}: {v}" for k, v in sorted(refused.items())) or "none approved"
            raise DataError(f"{path}: no model can be drawn ({reasons}); approve a model with `likeness gate` or "
                            "pass --allow-unapproved to draw excluded ones with a warning")
        pool.check_architectures()
        return pool

    @property
    def people(self) -> list[str]:
        return list(self.models)

    @property
    def unapproved(self) -> list[str]:
        return [name for name, m in self.models.items() if not m.approved]

    def check_architectures(self) -> None:
        """Refuse models the renderer cannot draw (conditional ones; images that are not RGB)."""
        problems = {}
        for name, model in self.models.items():
            G = model.G
            if getattr(G, "c_dim", 0):
                problems[name] = f"it is class-conditional ({G.c_dim} classes); the renderer draws unconditional models"
            elif getattr(G, "img_channels", 3) != 3:
                problems[name] = f"it makes {G.img_channels}-channel images; the renderer draws RGB models"
        self.retire_all(problems)
        if not self.models:
            raise DataError("no model of an architecture the renderer draws is left: " +
                            "; ".join(f"{k}: {v}" for k, v in self.refused.items()))

    def retire(self, person: str, why: str) -> None:
        """Stop drawing a person (said once); their windows fall back from the next frame on."""
        self.retire_all({person: why})

    def retire_all(self, problems: dict[str, str]) -> None:
        """Stop drawing several people at once, so the log names the stand-in each will really get."""
        gone = [person for person in problems if person in self.models]
        for person in gone:
            del self.models[person]
            self.refused[person] = problems[person]
        for person in gone:
            log.warning("%s is no longer drawn: %s; their windows show %s", person, problems[person],
                        self.fallback(person) or "black")

    def resolve(self, person: str) -> str | None:
        """The person actually drawn for a window assigned `person`: themselves, a fallback, or None (black)."""
        return person if person in self.models else self.fallback(person)

    def fallback(self, person: str) -> str | None:
        """A stable stand-in: the loaded person following `person` in name order (wrapping), so windows of one
        missing sitter always go to the same other sitter."""
        if not self.models:
            return None
        names = sorted(self.models)
        later = [n for n in names if n > person]
        return later[0] if later else names[0]


class _Refused(Exception):
    pass


def _load_entry(registry: Path, name: str, entry: dict, device, allow_unapproved: bool,
                reduced: torch.dtype | None) -> PooledModel:
    approved = entry.get("status") == APPROVED
    if not approved and not allow_unapproved:
        raise _Refused(f"excluded by the gate ({entry.get('reason') or 'no reason recorded'})")
    if not entry.get("snapshot"):
        raise _Refused("the registry names no snapshot")
    snapshot = resolve_from_registry(str(entry["snapshot"]), registry)
    if not snapshot.is_file():
        raise _Refused(f"its snapshot {snapshot} is not there")
    sha = file_sha256(snapshot, use_cache=False)  # read it all: a file edited in place may keep size and mtime
    if entry.get("sha256") != sha:
        if not allow_unapproved:
            raise _Refused(f"its snapshot {snapshot} changed since it was approved (sha256 differs)")
        approved = False
    from training.importers.importing import load_any_generator

    try:
        G = load_any_generator(snapshot, device=device)
    except Exception as err:  # a broken file must not stop the others
        raise _Refused(f"its snapshot {snapshot} does not load ({str(err).splitlines()[0] if str(err) else err!r})")
    if reduced is not None and torch.device(device).type == "cuda":
        G.set_precision(reduced)
    if not approved:
        log.warning("%s is drawn WITHOUT approval (--allow-unapproved)", name)
    return PooledModel(name, G, snapshot, sha, approved, entry)
