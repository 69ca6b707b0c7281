#!/usr/bin/env python3
"""Training speed of `likeness train`: sec/kimg after warm-up and peak GPU memory, as one JSON line.

The setting of the issue's comparison with NVIDIA's code (stylegan3 `--cfg=stylegan2`, measured at 11.5 sec/kimg
on an H100): config F at 256x256, channel_base 32768, channel_max 512, 8 mapping layers, batch 32 on one GPU, no
augmentation, no mirroring, R1 every 16 steps, path length every 4. The dataset is synthetic (smooth random
colour fields with an ellipse, PNGs in a zip, made on the fly), so nothing needs downloading.

It runs the real command (`likeness train`, in this process) and reads its log.jsonl: the speed is that of the
tool users run, including data loading, EMA and the tick bookkeeping; ticks that end before --warmup kimg are
left out (cuDNN autotuning, compilation, allocator growth).

    python benchmarks/train_speed.py                      # 40 kimg at 256 px on the GPU
    python benchmarks/train_speed.py --compile --out benchmarks/train_speed.jsonl
    python benchmarks/train_speed.py --tiny               # a seconds-long smoke test on the CPU
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import platform
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import PIL.Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from json_lines import emit  # noqa: E402 (benchmarks/, the script's own folder, is on the path)


def synthetic_frames(count: int, size: int, seed: int) -> list[np.ndarray]:
    """Random but structured images: a smooth colour field (upsampled 6x6 noise) with a light ellipse on it."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    frames = []
    for _ in range(count):
        field = PIL.Image.fromarray(rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)).resize((size, size),
                                                                                               PIL.Image.BICUBIC)
        img = np.asarray(field, dtype=np.float32) / 255
        cx, cy, rx, ry = rng.uniform(0.35, 0.65), rng.uniform(0.35, 0.65), rng.uniform(0.15, 0.3), \
            rng.uniform(0.2, 0.35)
        inside = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 < 1
        img[inside] = img[inside] * 0.3 + np.array([0.85, 0.7, 0.6]) * 0.7
        frames.append((img.clip(0, 1) * 255).astype(np.uint8))
    return frames


def write_dataset(path: Path, count: int, size: int, seed: int = 0) -> Path:
    """A dataset zip in NVIDIA's dataset_tool layout, like `likeness prepare` writes."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for i, frame in enumerate(synthetic_frames(count, size, seed)):
            buf = io.BytesIO()
            PIL.Image.fromarray(frame).save(buf, format="png", compress_level=1)
            idx = f"{i:08d}"
            zf.writestr(f"{idx[:5]}/img{idx}.png", buf.getvalue())
        zf.writestr("dataset.json", json.dumps({"labels": None, "likeness": {"person": "benchmark"}}))
    return path


def summarise(log_path: Path, warmup_kimg: float) -> dict:
    """sec/kimg over the ticks that started after warm-up, and the peak GPU memory of any tick."""
    ticks = [r for r in map(json.loads, log_path.read_text().splitlines()) if "tick" in r]
    measured, start = [], 0.0
    for record in ticks:
        if start >= warmup_kimg:
            measured.append((record["kimg"] - start, record["sec_per_tick"]))
        start = record["kimg"]
    if not measured:
        raise SystemExit(f"no tick ended after the {warmup_kimg} kimg warm-up; raise --kimg or lower --warmup")
    kimg = sum(k for k, _ in measured)
    seconds = sum(s for _, s in measured)
    return dict(sec_per_kimg=round(seconds / kimg, 4), img_per_s=round(kimg * 1000 / seconds, 2),
                measured_kimg=round(kimg, 3), ticks=len(measured),
                peak_gpu_mem_gb=max((r.get("gpu_mem_peak_gb", 0.0) for r in ticks), default=0.0),
                final_loss_G=ticks[-1].get("loss_G"), final_loss_D=ticks[-1].get("loss_D"))


def device_name(device: str) -> str:
    import torch

    if device != "cpu" and torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return f"CPU ({platform.processor() or platform.machine()})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kimg", type=float, default=40, help="training length (default: 40)")
    parser.add_argument("--warmup", type=float, default=8, help="kimg left out of the figure (default: 8)")
    parser.add_argument("--tick", type=float, default=4, help="tick length in kimg (default: 4)")
    parser.add_argument("--resolution", type=int, default=256)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--batch-gpu", type=int, help="default: --batch (one round per step)")
    parser.add_argument("--images", type=int, default=2000, help="frames in the synthetic dataset")
    parser.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16", "fp16"))
    parser.add_argument("--compile", action="store_true", help="pass --compile to likeness train")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--out", type=Path, help="append the JSON line to this file too")
    parser.add_argument("--keep-run", type=Path, help="keep the run folder under this directory")
    parser.add_argument("--tiny", action="store_true", help="smoke test: 32 px, tiny networks, CPU, seconds")
    args = parser.parse_args(argv)

    arch = ["--cfg", "stylegan2", "--cbase", "32768", "--cmax", "512", "--map", "8"]
    if args.tiny:
        args.resolution, args.batch, args.images, args.workers = 32, 8, 64, 0
        args.kimg, args.warmup, args.tick, args.device = 0.064, 0.016, 0.016, "cpu"
        arch = ["--cfg", "stylegan2", "--cbase", "512", "--cmax", "64", "--map", "2", "--w-dim", "64"]

    from likeness.cli import main as likeness_main

    with tempfile.TemporaryDirectory(prefix="likeness-bench-") as tmp:
        tmp = Path(tmp)
        data = write_dataset(tmp / "synthetic.zip", args.images, args.resolution)
        outdir = args.keep_run or tmp / "runs"
        command = ["train", "--data", str(data), "--out", str(outdir), *arch, "--batch", str(args.batch),
                   "--batch-gpu", str(args.batch_gpu or args.batch), "--kimg", str(args.kimg), "--tick",
                   str(args.tick), "--snap", str(args.kimg), "--keep", "1", "--workers", str(args.workers),
                   "--precision", args.precision, "--device", args.device, "--augment", "none"]
        if args.compile:
            command.append("--compile")
        code = likeness_main(command)
        if code != 0:
            return code
        (run_dir,) = sorted(outdir.glob("benchmark/*"))[-1:]
        result = summarise(run_dir / "log.jsonl", args.warmup)

    import torch

    line = dict(benchmark="train_speed", date=datetime.date.today().isoformat(), device=device_name(args.device),
                torch=str(torch.__version__), resolution=args.resolution, batch=args.batch,
                batch_gpu=args.batch_gpu or args.batch, kimg=args.kimg, warmup_kimg=args.warmup,
                precision=args.precision, compile=args.compile, tiny=args.tiny,
                command=" ".join(["likeness", *command]).replace(str(data), "SYNTHETIC.zip")
                .replace(str(outdir), "RUNS"), **result)
    emit(line, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
