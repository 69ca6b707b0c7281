"""`likeness evaluate`: measure every snapshot of a run against the real frames and log the numbers.

For each snapshot: N fakes (seed i for fake i, fresh noise per image, truncation 1 by default) through Inception, then
every registered metric (evaluation/measures: FID, KID, precision/recall, memorisation, separability, coverage along
the sitting, diversity, the map). Real
features are computed once per dataset and cached. Each snapshot's results are appended to the run's
metrics.jsonl as soon as they exist, so an interrupted evaluation keeps what it finished, and a measurement that is
already in the log is not repeated unless forced. Afterwards the best snapshot (lowest FID) is pinned so that
training's retention never deletes it, and the report is rewritten.

Under torchrun each process makes and measures its share of the fakes; rank 0 measures the reals, computes the
metrics and writes.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

import training
from evaluation.fakes import NOISE_MODES, FakeSpec, fake_features, fake_labels, gather_in_order, shard
from evaluation.memorisation import DEFAULT_PERCENTILE, DEFAULT_WINDOW_S, FrameIndex, frame_index
from evaluation.metrics_log import append_records, latest, measurement_key, metric_groups, read_metrics
from evaluation.stats import MIN_IMAGES, FeatureStats, cached_real_stats
from training.dataset import ImageDataset
from training.errors import DataError, UsageError, name_some
from training.hashing import file_sha256
from training.run_folder import list_snapshots, read_config, snapshot_nimg

FID_RELIABLE_REALS = 2048
DEFAULT_NUM_FAKES = 50_000


@dataclass
class EvaluateOptions:
    num_fakes: int = DEFAULT_NUM_FAKES
    metrics: tuple[str, ...] | None = None  # --metrics names (evaluation/measures); None: every registered one
    batch: int = 64
    device: str = "auto"
    truncation_psi: float = 1.0
    noise_mode: str = "random"
    force: bool = False
    copy_percentile: float = DEFAULT_PERCENTILE
    copy_window_s: float = DEFAULT_WINDOW_S
    workers: int | None = None
    inception: str | None = None
    report: bool = True
    progress: bool = True

    def record_metrics(self) -> list[str]:
        """The metrics.jsonl metric names these --metrics produce, in a fixed order."""
        from evaluation.measures import record_names

        return record_names(self.metrics)


@dataclass
class SnapshotJob:
    path: Path
    name: str  # as metrics.jsonl records it: the file name inside the run folder, else the absolute path
    sha256: str
    missing: list[str]


@dataclass
class EvaluateResult:
    run_dir: Path
    measured: list[str] = field(default_factory=list)  # snapshot names measured now
    skipped: list[str] = field(default_factory=list)  # everything asked for was already in metrics.jsonl
    best: dict[str, Any] | None = None
    report: Path | None = None


# -- what to evaluate ----------------------------------------------------------------------------------------------

def parse_metrics(text: str) -> tuple[str, ...]:
    groups = metric_groups()
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in groups]
    if unknown or not names:
        raise UsageError(f"--metrics {text!r}: unknown {name_some(unknown) or '(none given)'}; choose from "
                         f"{','.join(groups)}")
    return tuple(dict.fromkeys(names))


def open_run(run: str | Path) -> tuple[Path, dict[str, Any]]:
    run_dir = Path(run)
    if run_dir.is_file():
        raise UsageError(f"{run_dir} is a file; give the run folder (runs/<person>/<NNNNN>-...) and pick snapshots "
                         "with --snapshot")
    if not run_dir.is_dir():
        raise UsageError(f"run folder {run_dir} does not exist")
    if not (run_dir / "config.json").is_file():
        raise UsageError(f"{run_dir} has no config.json: it is not a likeness run folder; give a folder that "
                         "`likeness train` made (runs/<person>/<NNNNN>-...)")
    return run_dir, read_config(run_dir)


def resolve_dataset(run_dir: Path, config: dict[str, Any], data: str | None) -> tuple[ImageDataset, str | None]:
    """--data, else the dataset recorded in config.json if it is still there unchanged; plus a note to print."""
    recorded = config.get("dataset") or {}
    if data is not None:
        dataset = ImageDataset(data)
        note = None
        if recorded.get("sha256") and dataset.sha256() != recorded["sha256"]:
            note = (f"note: {data} is not the dataset this run was trained on ({recorded.get('path')}); its "
                    "numbers measure the model against these frames instead")
        return dataset, note
    path = recorded.get("path")
    if not path or not Path(path).exists():
        raise UsageError(f"the dataset {run_dir.name} was trained on ({path or 'not recorded'}) is not there; give "
                         "its new place with --data DATASET")
    dataset = ImageDataset(path)
    if recorded.get("sha256") and dataset.sha256() != recorded["sha256"]:
        raise UsageError(f"{path} has changed since {run_dir.name} was trained on it (sha256 differs); give the "
                         "training dataset with --data DATASET")
    return dataset, None


def check_fits(dataset: ImageDataset, g_kwargs: dict[str, Any], what: str) -> None:
    """The reals must be images the generator could have made: same resolution and channels."""
    res, channels = g_kwargs.get("img_resolution"), g_kwargs.get("img_channels", 3)
    shape = dataset.shape
    if (shape.width, shape.height) != (res, res):
        raise DataError(f"{what} makes {res}x{res} images but {dataset.path} has {shape.width}x{shape.height} "
                        f"frames; evaluate against the dataset it was trained on, or one prepared with --size {res}")
    if shape.channels != channels:
        raise DataError(f"{what} makes {channels}-channel images but {dataset.path} has {shape.channels}-channel "
                        "frames; evaluate against the dataset it was trained on")


def resolve_snapshots(run_dir: Path, names: list[str] | None) -> list[Path]:
    if not names:
        snapshots = list_snapshots(run_dir)
        if not snapshots:
            raise UsageError(f"{run_dir} has no snapshots yet; train longer (snapshots come every --snap kimg)")
        return snapshots
    out = []
    for name in names:
        path = Path(name)
        candidates = [path, run_dir / name] if not path.is_absolute() else [path]
        found = next((p for p in candidates if p.is_file()), None)
        if found is None:
            raise UsageError(f"--snapshot {name} is neither a file nor a snapshot in {run_dir}; see "
                             f"`ls {run_dir}` for the snapshot-NNNNNN.pt files")
        out.append(found)
    return list(dict.fromkeys(out))


def snapshot_name(run_dir: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(run_dir.resolve()).as_posix()
    except ValueError:
        return str(path.resolve())


# -- the metrics -----------------------------------------------------------------------------------------------------

def compute_metrics(wanted: list[str], real_stats: FeatureStats, real: torch.Tensor, fake: torch.Tensor,
                    dataset: ImageDataset, index: FrameIndex, opts: EvaluateOptions) -> list[tuple[str, Any, dict]]:
    """(metric, value, details) for each wanted record, by the registered metrics that write them; value None with
    a note where the sets are too small."""
    from evaluation.measures import METRICS, Inputs

    inputs = Inputs(real=real, fake=fake, real_stats=real_stats, dataset=dataset, index=index,
                    copy_window_s=opts.copy_window_s, copy_percentile=opts.copy_percentile)
    out: list[tuple[str, Any, dict]] = []
    for metric in METRICS:
        if any(name in wanted for name in metric.records):
            out += [m for m in metric.compute(inputs) if m[0] in wanted]
    return out


def base_record(run_dir: Path, config: dict[str, Any], job: SnapshotJob, kimg: float | None,
                dataset: ImageDataset, real_stats: FeatureStats, spec: FakeSpec, device: torch.device) -> dict:
    return {
        "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "run": run_dir.name,
        "person": config.get("person"),
        "snapshot": job.name,
        "snapshot_sha256": job.sha256,
        "kimg": kimg,
        "metric": None,
        "value": None,
        "num_reals": real_stats.n,
        "num_fakes": spec.num,
        "inception_sha256": real_stats.inception_sha256,
        "dataset": str(dataset.path.resolve()),
        "dataset_sha256": dataset.sha256(),
        "fakes": spec.record(),
        "device": str(device),
        "likeness_version": training.__version__,
        "details": {},
    }


def describe_results(name: str, kimg: float | None, results: list[tuple[str, Any, dict]], num_fakes: int,
                     seconds: float) -> str:
    """One line per snapshot, the numbers an artist looks at first (each metric's own words)."""
    from evaluation.measures import METRICS

    values = {metric: (value, details) for metric, value, details in results}
    parts = [f"{name:<24}", f"kimg {kimg:9.3f}" if kimg is not None else "kimg         ?"]
    for metric in METRICS:
        parts += metric.summary(values)
    parts.append(f"({num_fakes} fakes, {seconds:.1f} s)")
    return "  ".join(parts)


# -- the run ---------------------------------------------------------------------------------------------------------

def _setup(device: str):
    """torchrun's process group when launched under it; otherwise one process on the chosen device."""
    import os

    from training.devices import resolve_device
    from training import distributed

    if int(os.environ.get("WORLD_SIZE", "1") or 1) > 1:
        if device not in ("auto", "cpu", "cuda"):
            raise UsageError(f"under torchrun --device must be auto, cpu or cuda (each process takes the GPU of its "
                             f"LOCAL_RANK), not {device}")
        return distributed.setup(device)
    return distributed.DistEnv(rank=0, world_size=1, local_rank=0, device=resolve_device(device))


def evaluate_run(run: str | Path, data: str | None, snapshots: list[str] | None, opts: EvaluateOptions,
                 say: Callable[[str], None] = print) -> EvaluateResult:
    """Measure the run's snapshots (all, or `snapshots`) and append the results to its metrics.jsonl."""
    from training import distributed

    if opts.num_fakes < MIN_IMAGES:
        raise UsageError(f"--num-fakes {opts.num_fakes}: the metrics need at least {MIN_IMAGES} fakes (and FID is "
                         "only comparable with 50000, fid50k_full's number)")
    if opts.noise_mode not in NOISE_MODES:
        raise UsageError(f"--noise-mode {opts.noise_mode}: choose from {', '.join(NOISE_MODES)}")
    run_dir, config = open_run(run)
    dataset, note = resolve_dataset(run_dir, config, data)
    if len(dataset) < MIN_IMAGES:
        raise DataError(f"{dataset.path} holds {len(dataset)} image; evaluation needs at least {MIN_IMAGES} real "
                        "frames (and FID is only meaningful with thousands)")
    g_kwargs = config.get("G_kwargs") or {}
    if "img_resolution" in g_kwargs:  # fail before any network is loaded; each snapshot is checked again
        check_fits(dataset, g_kwargs, run_dir.name)
    paths = resolve_snapshots(run_dir, snapshots)
    env = _setup(opts.device)
    benchmark = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = True  # fixed batch shapes: let cuDNN pick its fastest kernels, as NVIDIA's code
    try:
        return _evaluate(run_dir, config, dataset, note, paths, opts, env, say)
    finally:
        torch.backends.cudnn.benchmark = benchmark
        distributed.teardown(env)


def _evaluate(run_dir: Path, config: dict[str, Any], dataset: ImageDataset, note: str | None, paths: list[Path],
              opts: EvaluateOptions, env, say: Callable[[str], None]) -> EvaluateResult:
    from evaluation.inception import InceptionFeatures
    from training import distributed

    main = env.is_main
    show = say if main else (lambda text: None)
    extractor = InceptionFeatures(opts.inception, env.device)
    index = frame_index(dataset, opts.copy_window_s)
    spec = FakeSpec(num=opts.num_fakes, truncation_psi=opts.truncation_psi, noise_mode=opts.noise_mode,
                    conditional=int((config.get("G_kwargs") or {}).get("c_dim", 0)) > 0)
    if note:
        show(note)
    jobs = _plan(run_dir, paths, dataset, extractor.sha256, spec, opts)
    distributed.barrier(env)  # every process has read metrics.jsonl before rank 0 appends to it
    result = EvaluateResult(run_dir)
    for job in jobs:  # a refused or mismatched file must fail before minutes of Inception work on the reals
        if job.missing:
            _load_payload(job, dataset)
    real_stats = real = None
    for job in jobs:
        if not job.missing:
            show(f"{job.name:<24}  already measured ({', '.join(opts.record_metrics())} with {spec.num} fakes); "
                 "--force measures it again")
            result.skipped.append(job.name)
            continue
        if real_stats is None:
            real_stats, real = _reals(dataset, extractor, opts, main)
        started = time.perf_counter()
        generator, kimg = _load_generator(job, dataset, env.device)
        labels = fake_labels(generator, dataset, spec.num)
        local = fake_features(generator, extractor, spec, labels, shard(spec.num, env), batch_size=opts.batch,
                              desc=job.name, show_progress=opts.progress and main)
        fake = gather_in_order(local, spec.num, env)
        del generator
        if main:
            results = compute_metrics(job.missing, real_stats, real, fake, dataset, index, opts)
            base = base_record(run_dir, config, job, kimg, dataset, real_stats, spec, env.device)
            append_records(run_dir, [{**base, "metric": m, "value": v, "details": d} for m, v, d in results])
            show(describe_results(job.name, kimg, results, spec.num, time.perf_counter() - started))
        result.measured.append(job.name)
    if main:
        _finish(run_dir, dataset, spec, extractor.sha256, opts, env.device, result, show)
    distributed.barrier(env)  # no process leaves while rank 0 still writes
    return result


def _plan(run_dir: Path, paths: list[Path], dataset: ImageDataset, inception_sha256: str, spec: FakeSpec,
          opts: EvaluateOptions) -> list[SnapshotJob]:
    """Which metrics each snapshot still lacks (all of them with --force)."""
    done = {measurement_key(r) for r in latest(read_metrics(run_dir))}
    probe = {"num_fakes": spec.num, "dataset_sha256": dataset.sha256(), "inception_sha256": inception_sha256,
             "fakes": spec.record()}
    jobs = []
    for path in paths:
        sha = file_sha256(path)
        missing = [m for m in opts.record_metrics()
                   if opts.force or measurement_key({**probe, "snapshot_sha256": sha, "metric": m}) not in done]
        jobs.append(SnapshotJob(path, snapshot_name(run_dir, path), sha, missing))
    return jobs


def _reals(dataset: ImageDataset, extractor, opts: EvaluateOptions, main: bool):
    """Rank 0 measures (or reads from the cache) every real frame; the other processes only make fakes."""
    if not main:
        return FeatureStats(mu=np.zeros(0), sigma=np.zeros((0, 0)), n=0), torch.zeros(0)
    stats, features = cached_real_stats(dataset, extractor, batch_size=opts.batch, workers=opts.workers,
                                         show_progress=opts.progress)
    return stats, torch.from_numpy(features).to(extractor.device)


def _load_payload(job: SnapshotJob, dataset: ImageDataset) -> dict[str, Any]:
    """The snapshot's contents, read without running code from it, checked to fit the dataset."""
    from training.importers.importing import load_any_checkpoint

    payload = load_any_checkpoint(job.path)
    check_fits(dataset, payload.get("G_kwargs") or {}, job.name)
    return payload


def _load_generator(job: SnapshotJob, dataset: ImageDataset, device: torch.device):
    from training.checkpoint import generator_from_payload

    payload = _load_payload(job, dataset)
    generator = generator_from_payload(payload, job.path, device=device)
    if device.type == "cuda":
        generator.set_precision(generator_precision(generator), channels_last=True)
    progress = payload.get("progress") or {}
    nimg = progress.get("cur_nimg", snapshot_nimg(job.path.name))
    return generator, None if nimg is None else round(nimg / 1000, 3)


def generator_precision(generator: torch.nn.Module):
    """Keep the reduced dtype the network already has; only the memory layout changes for speed."""
    for module in generator.modules():
        if hasattr(module, "reduced_dtype"):
            return module.reduced_dtype
    return torch.bfloat16


def _finish(run_dir: Path, dataset: ImageDataset, spec: FakeSpec, inception_sha256: str, opts: EvaluateOptions,
            device: torch.device, result: EvaluateResult, show) -> None:
    from evaluation.best import best_fid, pin_best

    if result.measured and len(dataset) < FID_RELIABLE_REALS:
        show(f"note: the real set has {len(dataset)} frames, fewer than {FID_RELIABLE_REALS:,}: FID is biased "
             "upward here, so compare it only with FIDs measured on this same set (KID, unbiased, is given beside "
             "it)")
    records = read_metrics(run_dir)
    like = {"snapshot_sha256": "", "num_fakes": spec.num, "dataset_sha256": dataset.sha256(),
            "inception_sha256": inception_sha256, "fakes": spec.record()}
    best = best_fid(records, like=like)
    result.best = best
    if best is not None:
        pinned = not Path(best["snapshot"]).is_absolute() and (run_dir / best["snapshot"]).is_file()
        if pinned:
            pin_best(run_dir, best)
        show(f"best: {best['snapshot']} (FID {best['value']:.3f} with {best['num_fakes']} fakes)"
             + (", pinned in pins.json so that training never deletes it" if pinned else ""))
    if opts.report:
        from evaluation.report import write_report

        result.report = write_report(run_dir, dataset=dataset, device=device, like=like)
        show(f"report: {result.report}")
