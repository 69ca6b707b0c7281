"""Where a training step's randomness and images come from, as pure functions of (seed, step, phase, round).

Nothing here depends on the process's history or on how many processes share the work, which is what makes
`--resume` bit-exact and makes N GPUs compute what one GPU computes with N times the rounds:

- data order: the global index stream is the concatenation of per-epoch permutations drawn from (seed, epoch);
  step b consumes positions [b*batch, (b+1)*batch); those are cut into rounds of batch_gpu, and rank r of W takes
  rounds r, r+W, r+2W, ...
- everything random inside a round (z, labels of fakes, style-mixing cut-off, synthesis noise, path-length
  noise) is drawn after `torch.manual_seed(round_seed(seed, step, phase, round))`, with `round` the round's index
  within the global batch.
"""

from __future__ import annotations

import hashlib
import signal
from collections.abc import Iterator

import torch

from training.errors import LikenessError

_TAG_EPOCH = 1
_TAG_ROUND = 2
_SEED_MASK = (1 << 63) - 1


def mix_seed(*parts: int) -> int:
    """A 63-bit seed from integers; unrelated tuples give unrelated seeds (unlike seed + step arithmetic)."""
    data = b"".join(int(p).to_bytes(16, "little", signed=True) for p in parts)
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little") & _SEED_MASK


def round_seed(seed: int, step: int, phase_index: int, global_round: int) -> int:
    """The torch seed set before one round of one phase of one step."""
    return mix_seed(_TAG_ROUND, seed, step, phase_index, global_round)


def epoch_permutation(seed: int, epoch: int, size: int) -> torch.Tensor:
    """The order in which epoch `epoch` visits a dataset of `size` items."""
    generator = torch.Generator().manual_seed(mix_seed(_TAG_EPOCH, seed, epoch))
    return torch.randperm(size, generator=generator)


def rank_rounds(rank: int, world_size: int, rounds: int) -> list[int]:
    """Global round indices (within one step) that `rank` computes."""
    return list(range(rank, rounds, world_size))


class IndexStream:
    """Random access to the infinite global index stream; keeps only the current epoch's permutation."""

    def __init__(self, size: int, seed: int):
        if size <= 0:
            raise ValueError("the dataset is empty")
        self.size = size
        self.seed = seed
        self._epoch = -1
        self._perm: list[int] = []

    def _permutation(self, epoch: int) -> list[int]:
        if epoch != self._epoch:
            self._perm = epoch_permutation(self.seed, epoch, self.size).tolist()
            self._epoch = epoch
        return self._perm

    def take(self, start: int, count: int) -> list[int]:
        """Indices at global positions [start, start + count)."""
        out: list[int] = []
        pos = start
        while len(out) < count:
            epoch, offset = divmod(pos, self.size)
            chunk = self._permutation(epoch)[offset:offset + count - len(out)]
            out.extend(chunk)
            pos += len(chunk)
        return out


class StepBatchSampler:
    """Batch sampler for a DataLoader: one list per step, holding this rank's rounds of that step, in order.

    Iterated in the main process (DataLoader workers only decode), from `start_step` on, forever.
    """

    def __init__(self, size: int, seed: int, batch: int, batch_gpu: int, rank: int = 0, world_size: int = 1,
                 start_step: int = 0):
        if batch % (batch_gpu * world_size) != 0:
            raise ValueError(f"batch {batch} is not a multiple of batch_gpu {batch_gpu} x {world_size} processes")
        self.stream = IndexStream(size, seed)
        self.batch = batch
        self.batch_gpu = batch_gpu
        self.rounds = rank_rounds(rank, world_size, batch // batch_gpu)
        self.start_step = start_step

    def indices_for_step(self, step: int) -> list[int]:
        global_batch = self.stream.take(step * self.batch, self.batch)
        out: list[int] = []
        for r in self.rounds:
            out.extend(global_batch[r * self.batch_gpu:(r + 1) * self.batch_gpu])
        return out

    def __iter__(self) -> Iterator[list[int]]:
        step = self.start_step
        while True:
            yield self.indices_for_step(step)
            step += 1


# -- the DataLoader --------------------------------------------------------------------------------------------------


class TrainingImages(torch.utils.data.Dataset):
    """Item i -> (uint8 image, index of its frame); with mirror, items N..2N-1 are the frames flipped left-right
    (NVIDIA's --mirror=1: the dataset doubled, never a random flip)."""

    def __init__(self, base: torch.utils.data.Dataset, mirror: bool):
        self.base = base
        self.mirror = mirror
        self.frames = len(base)

    def __len__(self) -> int:
        return self.frames * (2 if self.mirror else 1)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        frame = index % self.frames
        image = self.base[frame]
        if index >= self.frames:
            image = image.flip(-1)
        return image, frame


def _worker_init(_: int) -> None:
    # Ctrl-C reaches the whole process group; the main process decides, the workers keep loading.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def make_loader(dataset: torch.utils.data.Dataset, *, mirror: bool, seed: int, batch: int, batch_gpu: int,
                rank: int, world_size: int, start_step: int, workers: int,
                pin_memory: bool) -> torch.utils.data.DataLoader:
    """Yields (uint8 images, frame indices) of this rank's rounds, step after step from `start_step`; workers
    only decode (persistent, prefetching), pinned memory lets the copy to the GPU overlap the step before."""
    images = TrainingImages(dataset, mirror)
    sampler = StepBatchSampler(len(images), seed, batch, batch_gpu, rank, world_size, start_step=start_step)
    return torch.utils.data.DataLoader(images, batch_sampler=sampler, num_workers=workers, pin_memory=pin_memory,
                                       persistent_workers=workers > 0, prefetch_factor=2 if workers > 0 else None,
                                       worker_init_fn=_worker_init if workers > 0 else None)


def worker_error_line(err: LikenessError) -> LikenessError:
    """The same error with the one line it was raised with: a DataLoader worker's error reaches the main process
    re-created around the worker's whole traceback ("Caught DataError in DataLoader worker process 0. Original
    Traceback ..."), which would make the dispatcher print thirty lines."""
    text = str(err)
    if "DataLoader worker" not in text or "Traceback" not in text:
        return err
    last = text.strip().splitlines()[-1]
    prefix = f"{type(err).__module__}.{type(err).__qualname__}: "
    return type(err)(last[len(prefix):] if last.startswith(prefix) else last)


def batches(loader: torch.utils.data.DataLoader) -> Iterator:
    """Iterate a loader; a worker's LikenessError comes out as its own one line."""
    iterator = iter(loader)
    while True:
        try:
            item = next(iterator)
        except StopIteration:
            return
        except LikenessError as err:
            raise worker_error_line(err) from None
        yield item
