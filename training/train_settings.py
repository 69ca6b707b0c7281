"""The resolved training settings of a run, typed: the `training` block of config.json as the loop reads it.

config.json stays plain JSON (the run folder's contract, written by train_config); the loop reads it through
this class, so a misspelt setting is an AttributeError at the line that misspells it, not a KeyError deep in a
run, and a reader sees every setting the loop depends on in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class TrainingSettings:
    """What the training step and the run loop need (names and meanings as NVIDIA's train.py)."""

    cfg: str  # the preset it came from
    kimg: float  # stop after this many thousand images shown
    batch: int  # global batch over every process and round
    batch_gpu: int  # images per process per round
    tick: float  # kimg between progress lines / log.jsonl entries
    snap: float  # kimg between snapshots
    keep: int  # newest snapshots kept (0: all)
    seed: int
    lr_G: float
    lr_D: float
    gamma: float  # R1 weight; 0 turns R1 off
    ema_kimg: float
    ema_rampup: float | None
    g_reg_interval: int
    d_reg_interval: int
    style_mixing_prob: float
    pl_weight: float
    pl_batch_shrink: int
    pl_decay: float
    adam_betas: tuple[float, float]
    adam_eps: float
    mirror: bool
    augment: str
    cond: bool
    precision: str  # auto | fp32 | bf16 | fp16
    compile: bool
    workers: int
    deterministic: bool
    world_size: int
    grid: float | None = None  # kimg between extra fakes grids (None: only with snapshots)

    @classmethod
    def from_config(cls, training: dict[str, Any]) -> TrainingSettings:
        """From config.json's `training` block; keys the loop does not use are ignored."""
        values = {f.name: training[f.name] for f in fields(cls) if f.name in training}
        values["adam_betas"] = tuple(values["adam_betas"])
        return cls(**values)

    @property
    def rounds(self) -> int:
        """Rounds per step over all processes: the global batch in batch_gpu pieces."""
        return self.batch // self.batch_gpu
