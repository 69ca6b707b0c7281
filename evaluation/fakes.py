"""Generated images for the metrics: fake i is seed i, so any image the report shows can be made again.

z of fake i is `numpy.random.RandomState(i).randn(z_dim)`, as NVIDIA's generate.py draws seed i, so fake 17 of an
evaluation is `likeness generate SNAPSHOT --seeds 17`. A conditional model gets, for fake i, the label of dataset
frame `labels[i]`, drawn once for all fakes from a seeded generator, so the labels follow the dataset's label
distribution as in NVIDIA's metrics. Fakes are made and measured batch by batch on the device (images never pile
up in memory); under torchrun each process makes one contiguous share and the features are gathered in seed order,
so the metrics do not depend on the number of processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from evaluation.inception import FEATURE_DIM, full_fp32, generator_to_uint8
from training.distributed import DistEnv
from training.errors import DataError
from training.networks import zs_from_seeds

NOISE_MODES = ("const", "random")
LABEL_SEED = 0


@dataclass(frozen=True)
class FakeSpec:
    """How the fakes of one evaluation are drawn; recorded with every metric so that they can be drawn again."""

    num: int
    truncation_psi: float = 1.0
    noise_mode: str = "random"
    conditional: bool = False

    def record(self) -> dict[str, Any]:
        return {"seeds": [0, self.num - 1], "truncation_psi": self.truncation_psi, "noise_mode": self.noise_mode,
                "labels": f"dataset labels drawn with numpy default_rng({LABEL_SEED})" if self.conditional else None}


def fake_labels(generator: torch.nn.Module, dataset, num: int) -> torch.Tensor | None:
    """[num, c_dim] labels for a conditional generator (None otherwise), following the dataset's distribution."""
    from training.train_config import label_dim, label_table

    c_dim = int(getattr(generator, "c_dim", 0))
    if c_dim == 0:
        return None
    if dataset.labels is None:
        raise DataError(f"the model is conditional ({c_dim} classes) but {dataset.path} has no labels to draw its "
                        "fakes' labels from; evaluate against the labelled dataset it was trained on")
    if label_dim(dataset) > c_dim or (dataset.labels.ndim == 2 and dataset.labels.shape[1] != c_dim):
        raise DataError(f"the model has c_dim {c_dim} but {dataset.path}'s labels do not fit it")
    table = label_table(dataset, c_dim)
    rows = np.random.default_rng(LABEL_SEED).integers(len(dataset), size=num)
    return table[torch.from_numpy(rows)]


@torch.inference_mode()
def render(generator: torch.nn.Module, seeds: list[int] | range, spec: FakeSpec, labels: torch.Tensor | None,
           device: torch.device) -> torch.Tensor:
    """uint8 [N, C, H, W] images of the given seeds (their labels are labels[seed]), quantised as NVIDIA's metrics
    quantise them; a NaN or infinite pixel is a DataError."""
    seeds = list(seeds)
    z = zs_from_seeds(seeds, generator.z_dim).to(device)
    c = None if labels is None else labels[torch.as_tensor(seeds)].to(device)
    if spec.noise_mode == "random":
        torch.manual_seed(seeds[0] if seeds else 0)  # reproducible for the same batches
    with full_fp32():
        images = generator(z, c, truncation_psi=spec.truncation_psi, noise_mode=spec.noise_mode)
    return generator_to_uint8(images.float())


def shard(num: int, env: DistEnv) -> range:
    """This process's contiguous share of seeds 0..num-1 (equal shares but the last)."""
    chunk = -(-num // env.world_size)
    return range(min(num, env.rank * chunk), min(num, (env.rank + 1) * chunk))


def fake_features(generator: torch.nn.Module, extractor, spec: FakeSpec, labels: torch.Tensor | None,
                  seeds: range, *, batch_size: int, desc: str = "fakes", show_progress: bool = True) -> torch.Tensor:
    """[len(seeds), 2048] Inception features of the fakes of `seeds`, made and measured `batch_size` at a time."""
    from tqdm import tqdm

    out = torch.empty([len(seeds), FEATURE_DIM], dtype=torch.float32, device=extractor.device)
    with tqdm(total=len(seeds), desc=desc, unit="img", disable=None if show_progress else True,
              dynamic_ncols=True) as bar:
        for start in range(0, len(seeds), batch_size):
            batch = seeds[start:start + batch_size]
            images = render(generator, batch, spec, labels, extractor.device)
            out[start:start + len(batch)] = extractor(images)
            bar.update(len(batch))
    return out


def gather_in_order(local: torch.Tensor, num: int, env: DistEnv) -> torch.Tensor:
    """Every process's share, concatenated in seed order (each process gets the whole [num, D])."""
    if not env.enabled:
        return local
    chunk = -(-num // env.world_size)
    padded = torch.zeros([chunk, local.shape[1]], dtype=local.dtype, device=local.device)
    padded[:local.shape[0]] = local
    parts = [torch.empty_like(padded) for _ in range(env.world_size)]
    torch.distributed.all_gather(parts, padded)
    return torch.cat(parts)[:num]
