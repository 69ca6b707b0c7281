"""`--cfg` presets with the meaning of NVIDIA's stylegan2-ada-pytorch `train.py` table.

Users move between NVIDIA's tools and ours, so `--cfg paper256` must mean here what it means there. The numbers
below are NVIDIA's `cfg_specs` (checked against train.py of NVlabs/stylegan2-ada-pytorch); `auto` is derived from
the resolution and the GPU count with NVIDIA's formulas. NVIDIA's `cifar` row is left out: it turns off the
residual discriminator, path length and style mixing, which is not StyleGAN2 config F.

Constants NVIDIA's train.py and training loop apply to every one of these configs are returned too, so that the
training loop reads all of a preset from one place.
"""

from __future__ import annotations

from typing import Any

from training.errors import DataError, UsageError

PRESET_NAMES = ("auto", "stylegan2", "paper256", "paper512", "paper1024")

# ref_gpus: GPUs the numbers were tuned for; mb: total batch; mbstd: minibatch-stddev group; fmaps: channel_base
# multiplier (x 32768); lrate: Adam lr of G and D; gamma: R1 weight; ema: EMA half-life in kimg; ramp: EMA ramp-up;
# map: mapping layers.
_TABLE: dict[str, dict[str, Any]] = {
    "stylegan2": dict(ref_gpus=8, kimg=25000, mb=32, mbstd=4, fmaps=1, lrate=0.002, gamma=10, ema=10, ramp=None,
                      map=8),
    "paper256": dict(ref_gpus=8, kimg=25000, mb=64, mbstd=8, fmaps=0.5, lrate=0.0025, gamma=1, ema=20, ramp=None,
                     map=8),
    "paper512": dict(ref_gpus=8, kimg=25000, mb=64, mbstd=8, fmaps=1, lrate=0.0025, gamma=0.5, ema=20, ramp=None,
                     map=8),
    "paper1024": dict(ref_gpus=8, kimg=25000, mb=32, mbstd=4, fmaps=1, lrate=0.002, gamma=2, ema=10, ramp=None,
                      map=8),
}

# Shared by all of the above in NVIDIA's train.py, loss.py and training_loop.py.
_COMMON: dict[str, Any] = dict(
    channel_max=512,
    num_fp16_res=4,
    conv_clamp=256,
    z_dim=512,
    w_dim=512,
    adam_betas=[0.0, 0.99],
    adam_eps=1e-8,
    g_reg_interval=4,
    d_reg_interval=16,
    style_mixing_prob=0.9,
    pl_weight=2.0,
    pl_batch_shrink=2,
    pl_decay=0.01,
)


def _auto_spec(resolution: int, gpus: int) -> dict[str, Any]:
    """NVIDIA's `auto`: batch and capacity scaled to resolution so that one GPU's memory is never exceeded."""
    mb = max(min(gpus * min(4096 // resolution, 32), 64), gpus)
    return dict(
        ref_gpus=gpus,
        kimg=25000,
        mb=mb,
        mbstd=min(mb // gpus, 4),
        fmaps=1 if resolution >= 512 else 0.5,
        lrate=0.002 if resolution >= 1024 else 0.0025,
        gamma=0.0002 * resolution ** 2 / mb,
        ema=mb * 10 / 32,
        ramp=0.05,
        map=2,
    )


def preset(cfg: str, resolution: int, gpus: int = 1) -> dict[str, Any]:
    """Training and network settings of one `--cfg` as a plain, JSON-safe dict.

    `batch` is the total batch; `batch_gpu` is NVIDIA's per-GPU batch (batch // ref_gpus: on fewer GPUs than the
    config was tuned for, NVIDIA accumulates gradients over several rounds to reach `batch`). `mbstd_group` is the
    minibatch-stddev group size, which applies within one GPU's batch.
    """
    if cfg not in PRESET_NAMES:
        raise UsageError(f"unknown --cfg {cfg!r}; choose one of {', '.join(PRESET_NAMES)}")
    if resolution < 8 or resolution & (resolution - 1):
        raise DataError(f"resolution {resolution} is not a power of two of at least 8; re-create the dataset")
    if gpus < 1:
        raise UsageError(f"the GPU count must be at least 1, got {gpus}")
    spec = _auto_spec(resolution, gpus) if cfg == "auto" else _TABLE[cfg]
    return dict(
        cfg=cfg,
        resolution=resolution,
        gpus=gpus,
        ref_gpus=spec["ref_gpus"],
        kimg=spec["kimg"],
        batch=spec["mb"],
        batch_gpu=spec["mb"] // spec["ref_gpus"],
        mbstd_group=spec["mbstd"],
        channel_base=int(spec["fmaps"] * 32768),
        mapping_layers=spec["map"],
        lr=spec["lrate"],
        gamma=spec["gamma"],
        ema_kimg=spec["ema"],
        ema_rampup=spec["ramp"],
        **_COMMON,
    )
