"""What a `likeness train` command asks for, typed: the input of `train_config.make_plan`.

None means "not given": the preset (or the parent run, or the run being resumed) decides. The command line fills
these from its flags; a script can build them directly, e.g.
`make_plan(TrainOptions(data="ana-1fps.zip", kimg=200, outdir="runs"), world_size=1)`.
"""

from __future__ import annotations

from dataclasses import dataclass

from training.errors import UsageError

MAX_SEED = 2 ** 32 - 1


@dataclass
class TrainOptions:
    """One field per `likeness train` flag (the flag is the field name with '-' for '_')."""

    # what to train on and where
    data: str | None = None
    outdir: str | None = None  # where run folders go (the command line's -o/--out); None: runs
    person: str | None = None
    cond: bool | None = None
    # how long, and what gets written (kimg)
    kimg: float | None = None
    tick: float | None = None
    snap: float | None = None
    grid: float | None = None
    keep: int | None = None
    # hyperparameters
    cfg: str | None = None
    batch: int | None = None
    batch_gpu: int | None = None
    lr: float | None = None
    glr: float | None = None
    dlr: float | None = None
    gamma: float | None = None
    mirror: bool | None = None
    augment: str | None = None
    seed: int | None = None
    # architecture
    cbase: int | None = None
    cmax: int | None = None
    map: int | None = None
    w_dim: int | None = None
    mbstd_group: int | None = None
    # speed
    precision: str | None = None
    compile: bool | None = None
    workers: int | None = None
    device: str = "auto"
    deterministic: bool | None = None
    # continuing
    resume: str | None = None
    init: str | None = None
    dry_run: bool = False

    def validate(self) -> None:
        """Ranges of single options and the two that exclude each other; combinations wait for the config."""
        if self.resume is not None and self.init is not None:
            raise UsageError("--resume continues a run and --init starts a new one from a snapshot; give only one")
        if self.resume is None and self.data is None:
            raise UsageError("--data is required (a dataset zip from `likeness prepare`, an NVIDIA dataset_tool zip "
                             "or a folder of images); or continue a run with --resume RUN")
        for name in ("kimg", "tick", "snap", "grid", "lr", "glr", "dlr", "batch", "batch_gpu", "cbase", "cmax",
                     "map", "w_dim", "mbstd_group"):
            _at_least(getattr(self, name), name, allow_zero=False)
        for name in ("gamma", "keep", "workers"):
            _at_least(getattr(self, name), name, allow_zero=True)
        if self.seed is not None and not 0 <= self.seed <= MAX_SEED:
            raise UsageError(f"--seed must be between 0 and {MAX_SEED}, got {self.seed}")

    def given(self, name: str) -> bool:
        """Whether the option was set (a flag left out is None)."""
        return getattr(self, name, None) is not None


def _at_least(value: float | int | None, name: str, allow_zero: bool) -> None:
    if value is None:
        return
    if value < 0 or (value == 0 and not allow_zero):
        flag = "--" + name.replace("_", "-")
        raise UsageError(f"{flag} must be {'zero or more' if allow_zero else 'positive'}, got {value}")
