"""From a `likeness train` request (TrainOptions) to the run's config: new run, `--resume` or `--init`.

All checks that can fail on bad input happen here, before any file is written or any network is built, and every
process of a torchrun job reaches the same verdict from the same inputs.

The config is plain JSON (config.json and every snapshot's 'config' entry):
    person, run, dataset {path, sha256, size, resolution, channels, labels, provenance},
    training {cfg, kimg, batch, batch_gpu, tick, snap, grid, keep, seed, lr_G, lr_D, gamma, ema_kimg, ema_rampup,
              g_reg_interval, d_reg_interval, style_mixing_prob, pl_weight, pl_batch_shrink, pl_decay, adam_betas,
              adam_eps, mirror, augment, cond, precision, compile, workers, deterministic, world_size},
    G_kwargs, D_kwargs, grid {cols, rows, seeds, reals}, init, chain, resumes, versions, command.
"""

from __future__ import annotations

import datetime
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

import training
from training.checkpoint import load_checkpoint
from training.dataset import ImageDataset
from training.errors import DataError, UsageError
from training.grids import grid_shape, reals_indices
from training.hashing import file_sha256
from training.presets import preset
from training.run_folder import list_snapshots, read_config, safe_name, snapshot_nimg
from training.train_options import TrainOptions

RUN_FORMAT = "likeness-run"
RUN_FORMAT_VERSION = 1
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
AUGMENTS = ("none",)
DEFAULTS = dict(tick=4.0, snap=200.0, grid=None, keep=5, seed=0, workers=3, precision="auto", compile=False,
                deterministic=False, mirror=False, augment="none", cond=False)
# Settings a resume may change: they decide how long, how fast and how visibly the run goes on, not what it learns.
# (--batch-gpu regroups the minibatch-stddev groups and the rounds: same training, not bit-identical.)
MUTABLE_ON_RESUME = ("kimg", "tick", "snap", "grid", "keep", "workers", "precision", "compile", "deterministic",
                     "batch_gpu")
# Command-line flag -> where it lives in the config (for comparing a resume's flags with config.json).
FLAG_KEYS: dict[str, list[tuple[str, str]]] = {
    "cfg": [("training", "cfg")], "batch": [("training", "batch")],
    "lr": [("training", "lr_G"), ("training", "lr_D")], "glr": [("training", "lr_G")],
    "dlr": [("training", "lr_D")], "gamma": [("training", "gamma")], "mirror": [("training", "mirror")],
    "augment": [("training", "augment")], "seed": [("training", "seed")], "cond": [("training", "cond")],
    "cbase": [("G_kwargs", "channel_base"), ("D_kwargs", "channel_base")],
    "cmax": [("G_kwargs", "channel_max"), ("D_kwargs", "channel_max")],
    "map": [("G_kwargs", "mapping_layers")], "w_dim": [("G_kwargs", "w_dim")],
    "mbstd_group": [("D_kwargs", "mbstd_group_size")], "person": [("person", "")],
}


@dataclass
class Plan:
    """What `likeness train` will do: the config, the dataset, and where the weights start from."""

    mode: str  # "new" | "resume" | "init"
    config: dict[str, Any]
    dataset: ImageDataset
    run_dir: Path | None = None  # resume: the existing folder; new/init: chosen by rank 0 when training starts
    outdir: Path | None = None
    snapshot: Path | None = None  # resume / init: the checkpoint file
    payload: dict[str, Any] | None = field(default=None, repr=False)
    notes: list[str] = field(default_factory=list)
    restart: bool = False  # --resume of a run folder that never wrote a snapshot: start it afresh, in place


# -- helpers -------------------------------------------------------------------------------------------------------


def _explicit(opts: TrainOptions, name: str) -> bool:
    return opts.given(name)


def _dataset_block(dataset: ImageDataset) -> dict[str, Any]:
    return dict(path=str(dataset.path.resolve()), sha256=dataset.sha256(), size=len(dataset),
                resolution=dataset.resolution, channels=dataset.shape.channels, labels=dataset.labels is not None,
                provenance=dataset.provenance)


def open_trainable(path: str | os.PathLike) -> ImageDataset:
    dataset = ImageDataset(path)
    dataset.require_trainable()
    if dataset.resolution < 8:
        raise DataError(f"{dataset.path} has {dataset.resolution}x{dataset.resolution} images; the discriminator "
                        "needs at least 8x8; re-create it with `likeness prepare --size N`")
    return dataset


def label_dim(dataset: ImageDataset) -> int:
    """c_dim of a dataset's labels: one-hot width for class indices, vector length for float labels."""
    if dataset.labels is None:
        return 0
    labels = dataset.labels
    return int(labels.max()) + 1 if labels.ndim == 1 else int(labels.shape[1])


def label_table(dataset: ImageDataset, c_dim: int) -> torch.Tensor:
    """[N, c_dim] float32 labels (one-hot for class indices), as NVIDIA's dataset.get_label returns them."""
    labels = dataset.labels
    if labels.ndim == 1:
        table = torch.zeros([len(labels), c_dim])
        table[torch.arange(len(labels)), torch.from_numpy(labels)] = 1
        return table
    return torch.from_numpy(labels).to(torch.float32)


def _person(opts: TrainOptions, dataset: ImageDataset) -> str:
    provenance = dataset.provenance or {}
    name = opts.person or provenance.get("person")
    if not name:
        raise UsageError(f"{dataset.path} does not say whose dataset it is; name the sitter with --person NAME")
    return safe_name(str(name), "person")


def _training_from_preset(spec: dict[str, Any]) -> dict[str, Any]:
    return dict(cfg=spec["cfg"], kimg=float(spec["kimg"]), batch=spec["batch"], batch_gpu=None,
                tick=DEFAULTS["tick"], snap=DEFAULTS["snap"], grid=DEFAULTS["grid"], keep=DEFAULTS["keep"],
                seed=DEFAULTS["seed"], lr_G=spec["lr"], lr_D=spec["lr"], gamma=spec["gamma"],
                ema_kimg=spec["ema_kimg"], ema_rampup=spec["ema_rampup"], g_reg_interval=spec["g_reg_interval"],
                d_reg_interval=spec["d_reg_interval"], style_mixing_prob=spec["style_mixing_prob"],
                pl_weight=spec["pl_weight"], pl_batch_shrink=spec["pl_batch_shrink"], pl_decay=spec["pl_decay"],
                adam_betas=list(spec["adam_betas"]), adam_eps=spec["adam_eps"], mirror=False, augment="none",
                cond=False, precision=DEFAULTS["precision"], compile=False, workers=DEFAULTS["workers"],
                deterministic=False, world_size=1)


def _architecture_from_preset(spec: dict[str, Any], opts: TrainOptions, dataset: ImageDataset,
                              c_dim: int) -> tuple[dict[str, Any], dict[str, Any]]:
    cbase = opts.cbase or spec["channel_base"]
    cmax = opts.cmax or spec["channel_max"]
    w_dim = opts.w_dim or spec["w_dim"]
    G_kwargs = dict(z_dim=w_dim, c_dim=c_dim, w_dim=w_dim, img_resolution=dataset.resolution,
                    img_channels=dataset.shape.channels, mapping_layers=opts.map or spec["mapping_layers"],
                    channel_base=cbase, channel_max=cmax, num_fp16_res=spec["num_fp16_res"],
                    conv_clamp=spec["conv_clamp"])
    D_kwargs = dict(c_dim=c_dim, img_resolution=dataset.resolution, img_channels=dataset.shape.channels,
                    channel_base=cbase, channel_max=cmax, num_fp16_res=spec["num_fp16_res"],
                    conv_clamp=spec["conv_clamp"], mbstd_group_size=opts.mbstd_group or spec["mbstd_group"])
    return G_kwargs, D_kwargs


def _apply_training_flags(training_cfg: dict[str, Any], opts: TrainOptions) -> None:
    """Explicit flags override whatever the preset (or the parent run) said."""
    simple = {"kimg": "kimg", "batch": "batch", "batch_gpu": "batch_gpu", "tick": "tick", "snap": "snap",
              "grid": "grid", "keep": "keep", "seed": "seed", "gamma": "gamma", "augment": "augment",
              "precision": "precision", "workers": "workers"}
    for flag, key in simple.items():
        if _explicit(opts, flag):
            training_cfg[key] = getattr(opts, flag)
    for flag in ("mirror", "cond", "compile", "deterministic"):
        if getattr(opts, flag, None):
            training_cfg[flag] = True
    if _explicit(opts, "lr"):
        training_cfg["lr_G"] = training_cfg["lr_D"] = opts.lr
    if _explicit(opts, "glr"):
        training_cfg["lr_G"] = opts.glr
    if _explicit(opts, "dlr"):
        training_cfg["lr_D"] = opts.dlr


def _check_batches(training_cfg: dict[str, Any], D_kwargs: dict[str, Any], world_size: int) -> None:
    batch = training_cfg["batch"]
    if training_cfg["batch_gpu"] is None:
        training_cfg["batch_gpu"] = max(1, batch // world_size)
    batch_gpu = training_cfg["batch_gpu"]
    if batch % (batch_gpu * world_size) != 0:
        raise UsageError(f"--batch {batch} is not a multiple of --batch-gpu {batch_gpu} x {world_size} "
                         f"process{'es' if world_size > 1 else ''}; choose a batch that splits evenly")
    group = D_kwargs.get("mbstd_group_size") or batch_gpu
    group = min(group, batch_gpu)
    if batch_gpu % group != 0:
        raise UsageError(f"--batch-gpu {batch_gpu} is not a multiple of the minibatch-stddev group {group}; use a "
                         f"multiple of {group} or set --mbstd-group")
    training_cfg["world_size"] = world_size


def _grid_block(dataset: ImageDataset, c_dim: int) -> dict[str, Any]:
    cols, rows = grid_shape(dataset.resolution)
    count = cols * rows
    return dict(cols=cols, rows=rows, seeds=list(range(count)), reals=reals_indices(len(dataset), count),
                labels_from="reals" if c_dim else None)


def _desc(dataset: ImageDataset, training_cfg: dict[str, Any], init: bool) -> str:
    stem = dataset.path.name
    for suffix in (".zip",):
        stem = stem[: -len(suffix)] if stem.endswith(suffix) else stem
    stem = safe_name(stem, "dataset name")
    desc = f"{stem}-{training_cfg['cfg']}-batch{training_cfg['batch']}-gamma{training_cfg['gamma']:g}"
    return desc + ("-init" if init else "")


def _base_config(opts: TrainOptions) -> dict[str, Any]:
    return dict(format=RUN_FORMAT, format_version=RUN_FORMAT_VERSION,
                versions=dict(likeness=training.__version__, torch=str(torch.__version__)),
                created=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                command=["likeness", *sys.argv[1:]] if sys.argv and "likeness" in sys.argv[0] else list(sys.argv),
                outdir=str(Path(opts.outdir or "runs").resolve()))


def _cond_dim(args_cond: bool, dataset: ImageDataset) -> int:
    if not args_cond:
        return 0
    if dataset.labels is None:
        raise UsageError(f"--cond trains on the dataset's labels but {dataset.path} has none (dataset.json "
                         "'labels'); drop --cond")
    return label_dim(dataset)


# -- new run -------------------------------------------------------------------------------------------------------


def plan_new(opts: TrainOptions, world_size: int) -> Plan:
    dataset = open_trainable(opts.data)
    spec = preset(opts.cfg or "auto", dataset.resolution, gpus=world_size)
    c_dim = _cond_dim(bool(opts.cond), dataset)
    training_cfg = _training_from_preset(spec)
    _apply_training_flags(training_cfg, opts)
    G_kwargs, D_kwargs = _architecture_from_preset(spec, opts, dataset, c_dim)
    _check_batches(training_cfg, D_kwargs, world_size)
    config = _base_config(opts)
    config.update(person=_person(opts, dataset), run=None, desc=_desc(dataset, training_cfg, init=False),
                  dataset=_dataset_block(dataset), training=training_cfg, G_kwargs=G_kwargs, D_kwargs=D_kwargs,
                  grid=_grid_block(dataset, c_dim), init=None, chain=[], resumes=[])
    return Plan(mode="new", config=config, dataset=dataset, outdir=Path(config["outdir"]))


# -- --init --------------------------------------------------------------------------------------------------------


def _load_parent(path: Path) -> dict[str, Any]:
    """Our snapshot, or a public model (NVIDIA .pkl, rosinality .pt) imported on the fly without running its code."""
    from training.importers.importing import load_any_checkpoint

    payload = load_any_checkpoint(path)
    if "G_kwargs" not in payload or ("G" not in payload and "G_ema" not in payload):
        raise DataError(f"{path} holds no generator weights; --init needs a training snapshot or a StyleGAN2 model")
    return payload


def _fresh_D_kwargs(G_kwargs: dict[str, Any], opts: TrainOptions, world_size: int) -> dict[str, Any]:
    """A discriminator to match a parent that came without one (a generator-only public model)."""
    spec = preset(opts.cfg or "auto", int(G_kwargs["img_resolution"]), gpus=world_size)
    return dict(c_dim=int(G_kwargs.get("c_dim", 0)), img_resolution=int(G_kwargs["img_resolution"]),
                img_channels=int(G_kwargs.get("img_channels", 3)), channel_base=G_kwargs["channel_base"],
                channel_max=G_kwargs["channel_max"], num_fp16_res=G_kwargs.get("num_fp16_res", 0),
                conv_clamp=G_kwargs.get("conv_clamp"), mbstd_group_size=opts.mbstd_group or spec["mbstd_group"])


def plan_init(opts: TrainOptions, world_size: int) -> Plan:
    snapshot = Path(opts.init)
    payload = _load_parent(snapshot)
    dataset = open_trainable(opts.data)
    G_kwargs = dict(payload["G_kwargs"])
    notes = []
    if "D" in payload and "D_kwargs" in payload:
        D_kwargs = dict(payload["D_kwargs"])
    else:
        D_kwargs = _fresh_D_kwargs(G_kwargs, opts, world_size)
        notes.append(f"{snapshot.name} has no discriminator: D starts from scratch, G and G_ema from the file")
    res = int(G_kwargs.get("img_resolution", -1))
    if res != dataset.resolution:
        raise DataError(f"{snapshot} is a {res}x{res} model but {dataset.path} has {dataset.resolution}x"
                        f"{dataset.resolution} images; --init needs the same resolution (re-create the dataset "
                        f"with `likeness prepare --size {res}`)")
    if int(G_kwargs.get("img_channels", 3)) != dataset.shape.channels:
        raise DataError(f"{snapshot} makes {G_kwargs.get('img_channels')}-channel images but {dataset.path} has "
                        f"{dataset.shape.channels}-channel images; --init needs the same")
    parent_config = payload.get("config") if isinstance(payload.get("config"), dict) else None
    parent_cond = bool(G_kwargs.get("c_dim", 0))
    cond = bool(opts.cond) if opts.cond else parent_cond
    c_dim = _cond_dim(cond, dataset)
    if c_dim != int(G_kwargs.get("c_dim", 0)):
        raise UsageError(f"{snapshot} has c_dim {G_kwargs.get('c_dim', 0)} but this dataset gives c_dim {c_dim}; "
                         "--init needs the same conditioning (labels) as the parent")
    arch_flags = {"cbase": ("channel_base", G_kwargs), "cmax": ("channel_max", G_kwargs),
                  "map": ("mapping_layers", G_kwargs), "w_dim": ("w_dim", G_kwargs)}
    for flag, (key, kwargs) in arch_flags.items():
        if _explicit(opts, flag) and getattr(opts, flag) != kwargs.get(key):
            raise UsageError(f"--{flag.replace('_', '-')} {getattr(opts, flag)} differs from the parent's {key} "
                             f"{kwargs.get(key)}; --init keeps the parent's architecture, drop the flag")
    if _explicit(opts, "mbstd_group"):
        D_kwargs["mbstd_group_size"] = opts.mbstd_group

    if parent_config is not None and not _explicit(opts, "cfg"):
        training_cfg = dict(parent_config["training"])
        for key in ("grid",):
            training_cfg.setdefault(key, None)
        training_cfg["batch_gpu"] = training_cfg.get("batch_gpu") if training_cfg.get("world_size") == world_size \
            else None
        notes.append(f"training settings inherited from the parent run (--cfg {training_cfg['cfg']}); "
                     "flags given here override them")
    else:
        spec = preset(opts.cfg or "auto", dataset.resolution, gpus=world_size)
        training_cfg = _training_from_preset(spec)
    training_cfg["cond"] = cond
    _apply_training_flags(training_cfg, opts)
    _check_batches(training_cfg, D_kwargs, world_size)

    sha = file_sha256(snapshot)
    parent_dataset = payload.get("dataset") or {}
    parent_entry = dict(snapshot=str(snapshot.resolve()), sha256=sha,
                        kimg=(payload.get("progress") or {}).get("kimg"),
                        run=(parent_config or {}).get("run"), person=(parent_config or {}).get("person"),
                        dataset=((parent_config or {}).get("dataset") or {}).get("path"),
                        dataset_sha256=parent_dataset.get("sha256"))
    if payload.get("imported_from"):
        source = payload["imported_from"]
        parent_entry.update(imported_format=source.get("format"), imported_sha256=source.get("sha256"))
        notes.append(f"{snapshot.name} is a {source.get('format')} model, imported without running code from it")
    chain = [parent_entry] + [dict(entry) for entry in payload.get("chain") or []]
    config = _base_config(opts)
    config.update(person=_person(opts, dataset), run=None, desc=_desc(dataset, training_cfg, init=True),
                  dataset=_dataset_block(dataset), training=training_cfg, G_kwargs=G_kwargs, D_kwargs=D_kwargs,
                  grid=_grid_block(dataset, c_dim), init=parent_entry, chain=chain, resumes=[])
    return Plan(mode="init", config=config, dataset=dataset, outdir=Path(config["outdir"]), snapshot=snapshot,
                payload=payload, notes=notes)


# -- --resume ------------------------------------------------------------------------------------------------------


def _locate_resume(path: Path) -> tuple[Path, Path | None]:
    """(run folder, snapshot) from a run folder (its newest snapshot, None when it has none yet) or a snapshot
    inside one."""
    if path.is_dir():
        run_dir = path
        read_config(run_dir)
        snapshots = list_snapshots(run_dir)
        return run_dir, (snapshots[-1] if snapshots else None)
    if not path.exists():
        raise UsageError(f"--resume {path} does not exist; give a run folder or one of its snapshots")
    if snapshot_nimg(path.name) is None:
        raise UsageError(f"--resume {path} is neither a run folder nor a snapshot-NNNNNN.pt file")
    run_dir = path.parent
    if not (run_dir / "config.json").is_file():
        raise UsageError(f"{path} has no config.json beside it, so it is not part of a run to continue; start a "
                         "new run from it with --init")
    later = [p.name for p in list_snapshots(run_dir) if snapshot_nimg(p.name) > snapshot_nimg(path.name)]
    if later:
        raise UsageError(f"{run_dir} already has later snapshots ({', '.join(later[:3])}); resuming from "
                         f"{path.name} would overwrite them: move them away, or branch with --init {path}")
    return run_dir, path


def _differences(opts: TrainOptions, config: dict[str, Any], dataset: ImageDataset) -> list[str]:
    """The flags given on this command line whose values differ from the run's config.json."""
    diffs = []
    for flag, places in FLAG_KEYS.items():
        if not _explicit(opts, flag) or (flag in ("mirror", "cond") and not getattr(opts, flag)):
            continue
        value = getattr(opts, flag)
        if flag == "person":
            value = safe_name(value, "person")
        for section, key in places:
            stored = config.get(section) if key == "" else (config.get(section) or {}).get(key)
            if stored != value and not (isinstance(value, float) and isinstance(stored, (int, float))
                                        and float(stored) == value):
                diffs.append(f"{flag.replace('_', '-')} ({stored} in config.json, {value} asked)")
                break
    if dataset.sha256() != config["dataset"]["sha256"]:
        diffs.append(f"data ({config['dataset']['path']} with sha256 {config['dataset']['sha256'][:12]}..., "
                     f"{dataset.path} has {dataset.sha256()[:12]}...)")
    return diffs


def plan_resume(opts: TrainOptions, world_size: int) -> Plan:
    run_dir, snapshot = _locate_resume(Path(opts.resume))
    config = read_config(run_dir)
    data_path = opts.data or config["dataset"]["path"]
    if not Path(data_path).exists():
        raise UsageError(f"the run's dataset {data_path} is not there any more; give its new place with --data")
    dataset = open_trainable(data_path)
    diffs = _differences(opts, config, dataset)
    if diffs:
        raise UsageError(f"--resume: this command line differs from {run_dir / 'config.json'} in "
                         f"{'; '.join(diffs)}; drop those flags to continue the run, or start a new run from its "
                         "snapshot with --init")
    if snapshot is None:
        _apply_resume_flags(opts, config, world_size)
        return plan_restart(run_dir, config, dataset)
    try:
        payload = load_checkpoint(snapshot)
    except DataError as err:
        raise DataError(f"{err}; move {snapshot.name} out of the run folder to resume from the one before") from None
    for key in ("G", "G_ema", "D", "opt_G", "opt_D", "progress", "G_kwargs", "D_kwargs"):
        if key not in payload:
            raise DataError(f"{snapshot} has no '{key}' entry, so it cannot continue a run exactly; start a new run "
                            "from it with --init")
    if payload["G_kwargs"] != config["G_kwargs"] or payload["D_kwargs"] != config["D_kwargs"]:
        raise DataError(f"{snapshot} was made with other network settings than {run_dir / 'config.json'}; the "
                        "folder was tampered with: resume from a snapshot of this run")
    training_cfg = config["training"]
    changed = _apply_resume_flags(opts, config, world_size)
    config["dataset"]["path"] = str(dataset.path.resolve())
    config.setdefault("resumes", []).append(dict(
        snapshot=snapshot.name, nimg=int(payload["progress"]["cur_nimg"]), changed=changed,
        time=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        versions=dict(likeness=training.__version__, torch=str(torch.__version__))))
    notes = [f"resuming {run_dir} from {snapshot.name} at {payload['progress']['cur_nimg'] / 1000:.3f} kimg"]
    if training_cfg["kimg"] * 1000 <= payload["progress"]["cur_nimg"]:
        raise UsageError(f"{run_dir} already reached its --kimg {training_cfg['kimg']:g}; pass a larger --kimg to "
                         "train it further")
    return Plan(mode="resume", config=config, dataset=dataset, run_dir=run_dir, snapshot=snapshot, payload=payload,
                notes=notes)


def _apply_resume_flags(opts: TrainOptions, config: dict[str, Any], world_size: int) -> dict[str, list]:
    """The settings a resume may change (--kimg, --snap, ...; the number of processes): applied to the config,
    returned as {key: [old, new]}."""
    training_cfg = config["training"]
    changed = {}
    for key in MUTABLE_ON_RESUME:
        if _explicit(opts, key) or (key in ("compile", "deterministic") and getattr(opts, key, None)):
            value = getattr(opts, key)
            if training_cfg.get(key) != value:
                changed[key] = [training_cfg.get(key), value]
                training_cfg[key] = value
    if training_cfg.get("world_size") != world_size:
        changed["world_size"] = [training_cfg.get("world_size"), world_size]
        training_cfg["world_size"] = world_size
    _check_batches(training_cfg, config["D_kwargs"], world_size)
    return changed


def plan_restart(run_dir: Path, config: dict[str, Any], dataset: ImageDataset) -> Plan:
    """A run that stopped before its first snapshot (bad frame at start, killed during the first write): nothing
    to continue, so it starts again from the beginning in the same folder with the same config.json."""
    config["dataset"]["path"] = str(dataset.path.resolve())
    note = (f"{run_dir} has no snapshot yet (the first start stopped before writing one): starting it afresh with "
            "its config.json")
    parent = config.get("init")
    if not parent:
        return Plan(mode="new", config=config, dataset=dataset, run_dir=run_dir, outdir=run_dir.parent.parent,
                    notes=[note], restart=True)
    snapshot = Path(parent["snapshot"])
    if not snapshot.is_file() or file_sha256(snapshot) != parent["sha256"]:
        raise DataError(f"{run_dir} starts from {snapshot} (--init), which is missing or changed since; start a new "
                        "run with --init from the file you mean")
    return Plan(mode="init", config=config, dataset=dataset, run_dir=run_dir, outdir=run_dir.parent.parent,
                snapshot=snapshot, payload=_load_parent(snapshot), notes=[note], restart=True)


def make_plan(opts: TrainOptions, world_size: int) -> Plan:
    """The run `opts` describes, checked against the dataset, the parent or the run being resumed."""
    opts.validate()
    if opts.resume is not None:
        return plan_resume(opts, world_size)
    if opts.init is not None:
        return plan_init(opts, world_size)
    return plan_new(opts, world_size)
