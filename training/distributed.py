"""Several processes, one training: torchrun's environment, gradient all-reduce, agreeing to stop.

`likeness train` under `torchrun --nproc-per-node N` reads RANK / WORLD_SIZE / LOCAL_RANK from the environment,
joins a process group (NCCL on CUDA, gloo on CPU), and sums each phase's flat gradient across ranks. Losses are
already divided by the number of rounds in the global batch, so the sum is the mean gradient of the global batch,
whatever the number of processes. Only rank 0 writes files.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from dataclasses import dataclass

import torch

from training.errors import UsageError


@dataclass(frozen=True)
class DistEnv:
    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as err:
        raise UsageError(f"the environment variable {name}={value!r} is not an integer") from err


def pick_device(choice: str, local_rank: int, world_size: int = 1) -> torch.device:
    """'auto' takes this process's GPU when CUDA is there, else the CPU (the one `--device` rule: training.devices)."""
    from training.devices import resolve_device

    return resolve_device(choice, local_rank if world_size > 1 else None)


def setup(device_choice: str = "auto") -> DistEnv:
    """Join torchrun's process group when WORLD_SIZE > 1; a plain single process otherwise."""
    world_size = _env_int("WORLD_SIZE", 1)
    rank = _env_int("RANK", 0)
    local_rank = _env_int("LOCAL_RANK", 0)
    device = pick_device(device_choice, local_rank, world_size)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if world_size > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        kwargs = {"device_id": device} if device.type == "cuda" else {}
        torch.distributed.init_process_group(backend=backend, rank=rank, world_size=world_size, **kwargs)
    return DistEnv(rank=rank, world_size=world_size, local_rank=local_rank, device=device)


def teardown(env: DistEnv) -> None:
    if env.enabled and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def all_reduce_sum_(tensor: torch.Tensor, env: DistEnv) -> torch.Tensor:
    if env.enabled:
        torch.distributed.all_reduce(tensor, op=torch.distributed.ReduceOp.SUM)
    return tensor


def barrier(env: DistEnv) -> None:
    if env.enabled:
        torch.distributed.barrier()


class FlatGrads:
    """One flat buffer holding a module's gradients (each `param.grad` is a view into it) plus spare slots.

    Autograd accumulates into existing `.grad` tensors in place, so rounds sum straight into the buffer; a phase
    then needs one all-reduce and one nan_to_num for the whole module instead of one per parameter. The spare
    slots after the gradients carry small per-phase sums (path-length means, w sums) in the same all-reduce.
    Never call `optimizer.zero_grad()` on these parameters: it would detach the views. Use `zero_()`.
    """

    def __init__(self, params: list[torch.nn.Parameter], extra: int, device: torch.device):
        self.params = params
        total = sum(p.numel() for p in params)
        self.flat = torch.zeros([total + extra], device=device, dtype=torch.float32)
        offset = 0
        for p in params:
            if p.dtype != torch.float32:
                raise ValueError("FlatGrads expects float32 parameters")
            p.grad = self.flat[offset:offset + p.numel()].view_as(p)
            offset += p.numel()
        self.extra = self.flat[total:]

    def zero_(self) -> None:
        self.flat.zero_()

    def reduce_(self, env: DistEnv) -> None:
        """Sum across ranks, then replace NaN/inf as NVIDIA does so that one bad round cannot poison the weights."""
        all_reduce_sum_(self.flat, env)
        self.flat.nan_to_num_(nan=0.0, posinf=1e5, neginf=-1e5)

    def check_views(self) -> None:
        """Raise if something replaced a `.grad` (e.g. zero_grad): the buffer would silently stop seeing it."""
        for p in self.params:
            if p.grad is None or p.grad.data_ptr() < self.flat.data_ptr() or \
                    p.grad.data_ptr() >= self.flat.data_ptr() + self.flat.numel() * self.flat.element_size():
                raise RuntimeError("a parameter's .grad no longer points into its FlatGrads buffer")


class StopRequest:
    """Ctrl-C / SIGTERM: finish the step, write a snapshot, exit. All ranks must stop after the same step.

    One process: the flag is read directly. Several: each step every rank contributes its flag to a MAX
    all-reduce, and the decision after step b uses the result of step b-1 on CUDA (read once that step's event
    has completed, so the host never waits on the step it just queued), or of step b on CPU where collectives
    are synchronous anyway. A second Ctrl-C in a single process aborts at once (no snapshot); under torchrun,
    which forwards its own signals, repeats are ignored.
    """

    def __init__(self, env: DistEnv, announce: bool = True):
        self.env = env
        self.announce = announce
        self.signal_name: str | None = None
        self._previous: dict[int, object] = {}
        self._slots: list[tuple[torch.Tensor, torch.cuda.Event]] | None = None
        self._step = 0

    # -- handlers ----------------------------------------------------------------------------------------------

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame) -> None:
        name = signal.Signals(signum).name
        if self.signal_name is None:
            self.signal_name = name
            if self.announce:
                again = "" if self.env.enabled else " (press Ctrl-C again to abort without one)"
                print(f"\n{name}: finishing this step, then writing a snapshot{again}", file=sys.stderr, flush=True)
            return
        if not self.env.enabled and signum == signal.SIGINT:
            self.restore()
            raise KeyboardInterrupt

    # -- agreement ---------------------------------------------------------------------------------------------

    def should_stop(self) -> bool:
        """Call once per step, on every rank, after the step was queued."""
        local = self.signal_name is not None
        if not self.env.enabled:
            return local
        device = self.env.device
        flag = torch.full([1], 1.0 if local else 0.0, device=device)
        torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
        if device.type != "cuda":
            return bool(flag.item() > 0)
        if self._slots is None:
            self._slots = [(torch.zeros([1], pin_memory=True), torch.cuda.Event()) for _ in range(2)]
        host, event = self._slots[self._step % 2]
        host.copy_(flag, non_blocking=True)
        event.record()
        self._step += 1
        if self._step < 2:
            return False
        prev_host, prev_event = self._slots[self._step % 2]  # the slot written one step earlier
        prev_event.synchronize()
        return bool(prev_host.item() > 0)
