"""Inception feature statistics (mean, covariance, count): computed from image sets, saved, loaded and cached.

The covariance is NVIDIA's: float64 running sums of x and x x^T, then E[x x^T] - mu mu^T (dividing by N, not
N - 1), so that our FIDs are the numbers `fid50k_full` prints. pytorch-fid's np.cov divides by N - 1; at 50,000
images the two differ by 0.002%, at a few hundred noticeably.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from training.atomic import atomic_output
from training.dataset import ImageDataset
from training.errors import DataError, LikenessError
from training.hashing import cache_dir

MIN_IMAGES = 2
STATS_FORMAT = "likeness-inception-stats-1"


@dataclass
class FeatureStats:
    """What FID needs of an image set, plus where it came from, so a saved file can be trusted later."""

    mu: np.ndarray  # float64 [D]
    sigma: np.ndarray  # float64 [D, D]
    n: int | None  # None for files made elsewhere that do not record it
    inception_sha256: str | None = None
    source: str = ""
    dataset_sha256: str | None = None


def mean_cov(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (divide-by-N) covariance of [N, D] features, in float64."""
    x = np.asarray(features, dtype=np.float64)
    mu = x.mean(axis=0)
    centred = x - mu
    return mu, centred.T @ centred / x.shape[0]


class FeatureAccumulator:
    """Streams batches of features into float64 sums on their device; optionally keeps the features themselves."""

    def __init__(self, keep_features: bool = False):
        self.keep_features = keep_features
        self.n = 0
        self._sum: torch.Tensor | None = None
        self._outer: torch.Tensor | None = None
        self._kept: list[np.ndarray] = []

    def add(self, features: torch.Tensor) -> None:
        x = features.detach().to(torch.float64)
        if self._sum is None:
            self._sum = torch.zeros(x.shape[1], dtype=torch.float64, device=x.device)
            self._outer = torch.zeros(x.shape[1], x.shape[1], dtype=torch.float64, device=x.device)
        self._sum += x.sum(dim=0)
        self._outer += x.T @ x
        self.n += x.shape[0]
        if self.keep_features:
            self._kept.append(features.detach().float().cpu().numpy())

    def stats(self, **provenance) -> FeatureStats:
        if self.n < MIN_IMAGES:
            raise DataError(f"FID needs at least {MIN_IMAGES} images, got {self.n}")
        mu = (self._sum / self.n).cpu().numpy()
        sigma = (self._outer / self.n).cpu().numpy() - np.outer(mu, mu)
        return FeatureStats(mu=mu, sigma=sigma, n=self.n, **provenance)

    def features(self) -> np.ndarray:
        if not self.keep_features:
            raise RuntimeError("this accumulator was made with keep_features=False")
        return np.concatenate(self._kept) if self._kept else np.zeros((0, 0), np.float32)


# -- image sets -> features ----------------------------------------------------------------------------------------

class _Readable(torch.utils.data.Dataset):
    """Items of a dataset, or the message of the error reading one: a LikenessError raised inside a DataLoader
    worker would reach the user wrapped in a multi-line traceback, so it travels as text instead."""

    def __init__(self, dataset: ImageDataset, count: int):
        self.dataset = dataset
        self.count = count

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> torch.Tensor | str:
        try:
            return self.dataset[index]
        except LikenessError as err:
            return str(err)


def _stack_or_error(items: list) -> torch.Tensor | str:
    for item in items:
        if isinstance(item, str):
            return item
    return torch.stack(items)


def default_workers(device: torch.device) -> int:
    """PNG decoding keeps up with a GPU only in parallel; on the CPU the network is the bottleneck by 100x."""
    return min(8, os.cpu_count() or 1) if device.type == "cuda" else 0


def dataset_features(dataset: ImageDataset, extractor, *, max_items: int | None = None, batch_size: int = 64,
                     workers: int | None = None, keep_features: bool = False,
                     desc: str = "features", show_progress: bool = True) -> FeatureAccumulator:
    """Run every image (or the first `max_items`, in order, as NVIDIA does) through `extractor`, in batches."""
    from tqdm import tqdm

    count = len(dataset) if max_items is None else min(len(dataset), max_items)
    if count < MIN_IMAGES:
        raise DataError(f"{dataset.path} holds {count} image{'s' if count != 1 else ''}; FID needs at least "
                        f"{MIN_IMAGES} (and is only meaningful with thousands)")
    device = extractor.device
    workers = default_workers(device) if workers is None else workers
    loader = torch.utils.data.DataLoader(_Readable(dataset, count), batch_size=batch_size, shuffle=False,
                                         num_workers=workers, collate_fn=_stack_or_error,
                                         pin_memory=device.type == "cuda")
    acc = FeatureAccumulator(keep_features=keep_features)
    with tqdm(total=count, desc=desc, unit="img", disable=None if show_progress else True,
              dynamic_ncols=True) as bar:
        for batch in loader:
            if isinstance(batch, str):
                raise DataError(batch)
            acc.add(extractor(batch))
            bar.update(batch.shape[0])
    return acc


def dataset_stats(dataset: ImageDataset, extractor, *, max_items: int | None = None, batch_size: int = 64,
                  workers: int | None = None, with_dataset_sha256: bool = False,
                  desc: str = "features") -> FeatureStats:
    acc = dataset_features(dataset, extractor, max_items=max_items, batch_size=batch_size, workers=workers,
                           desc=desc)
    return acc.stats(inception_sha256=extractor.sha256, source=describe_dataset(dataset),
                     dataset_sha256=dataset.sha256() if with_dataset_sha256 else None)


def describe_dataset(dataset: ImageDataset) -> str:
    return f"{dataset.kind} {dataset.path.resolve()} ({len(dataset)} images, {dataset.shape})"


# -- .npz files ------------------------------------------------------------------------------------------------------

def save_stats(stats: FeatureStats, path: str | os.PathLike, *, force: bool = False,
               features: np.ndarray | None = None) -> None:
    """An .npz readable by pytorch-fid and clean-fid (`mu`, `sigma`) that also says what made it."""
    arrays = {
        "mu": np.asarray(stats.mu, np.float64),
        "sigma": np.asarray(stats.sigma, np.float64),
        "n": np.int64(-1 if stats.n is None else stats.n),
        "inception_sha256": np.str_(stats.inception_sha256 or ""),
        "source": np.str_(stats.source),
        "dataset_sha256": np.str_(stats.dataset_sha256 or ""),
        "format": np.str_(STATS_FORMAT),
    }
    if features is not None:
        arrays["features"] = np.asarray(features, np.float32)
    with atomic_output(path, force=force) as tmp:
        with open(tmp, "wb") as f:  # a file object: np.savez would append .npz to the temporary name
            np.savez(f, **arrays)


def load_stats(path: str | os.PathLike) -> FeatureStats:
    """Our files and other tools' (`mu` and `sigma` only); anything else is a one-line DataError."""
    path = Path(path)
    hint = "give a statistics file written by `likeness fid --save-stats` (an .npz with mu and sigma)"
    try:
        with np.load(path, allow_pickle=False) as data:
            if "mu" not in data.files or "sigma" not in data.files:
                raise DataError(f"{path} holds no mu and sigma; {hint}")
            mu = np.asarray(data["mu"], np.float64)
            sigma = np.asarray(data["sigma"], np.float64)
            n = int(data["n"]) if "n" in data.files else None
            text = {key: str(data[key]) if key in data.files else "" for key in
                    ("inception_sha256", "source", "dataset_sha256")}
    except DataError:
        raise
    except (OSError, ValueError, EOFError, KeyError, TypeError) as err:
        raise DataError(f"{path} is not a readable statistics file ({err}); {hint}") from err
    if mu.ndim != 1 or sigma.shape != (mu.shape[0], mu.shape[0]):
        raise DataError(f"{path} has mu of shape {mu.shape} and sigma of shape {sigma.shape}; sigma must be "
                        f"[D, D] for mu [D]; {hint}")
    if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
        raise DataError(f"{path} holds NaN or infinite statistics (made from a broken generator?); recompute it")
    return FeatureStats(mu=mu, sigma=sigma, n=None if n is None or n < 0 else n,
                        inception_sha256=text["inception_sha256"] or None,
                        source=text["source"] or f"statistics file {path.resolve()}",
                        dataset_sha256=text["dataset_sha256"] or None)


def load_features(path: str | os.PathLike) -> np.ndarray | None:
    """The per-image features a cache file keeps next to its statistics, or None."""
    with np.load(path, allow_pickle=False) as data:
        return np.asarray(data["features"], np.float32) if "features" in data.files else None


# -- the real-set cache ----------------------------------------------------------------------------------------------

def real_stats_cache_path(dataset_sha256: str, n: int, inception_sha256: str) -> Path:
    """One file per (dataset content, number of images, network): any change of the three is a different set."""
    return cache_dir() / "inception-stats" / f"{dataset_sha256}-n{n}-inception{inception_sha256[:16]}.npz"


def cached_real_stats(dataset: ImageDataset, extractor, *, max_items: int | None = None, batch_size: int = 64,
                      workers: int | None = None, show_progress: bool = True) -> tuple[FeatureStats, np.ndarray]:
    """Statistics and features of a dataset's first `max_items` images (all by default), computed once.

    Evaluating every snapshot of every sitter measures the same real frames again and again; their features
    (kept for KID, precision/recall and memorisation) and statistics are stored under the cache folder, keyed by
    the dataset's sha256, the number of images and the Inception weights' sha256.
    """
    count = len(dataset) if max_items is None else min(len(dataset), max_items)
    path = real_stats_cache_path(dataset.sha256(), count, extractor.sha256)
    if path.is_file():
        try:
            stats, features = load_stats(path), load_features(path)
            if stats.n == count and stats.inception_sha256 == extractor.sha256 and features is not None \
                    and features.shape[0] == count:
                return stats, features
        except (DataError, OSError, ValueError, KeyError):
            pass  # a damaged cache entry is recomputed and replaced
    acc = dataset_features(dataset, extractor, max_items=count, batch_size=batch_size, workers=workers,
                           keep_features=True, desc="real features", show_progress=show_progress)
    stats = acc.stats(inception_sha256=extractor.sha256, source=describe_dataset(dataset),
                      dataset_sha256=dataset.sha256())
    features = acc.features()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        save_stats(stats, path, force=True, features=features)
    except OSError:
        pass  # a read-only cache only costs a recomputation next time
    return stats, features
