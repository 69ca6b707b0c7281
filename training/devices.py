"""Which torch device a `--device` name means, with one message for every way a name can be wrong.

Every command resolves `--device` here (through `training.cli_common`), so `likeness generate M --device foo` and
`likeness train --device foo` refuse it in the same words. Names: auto (the GPU if PyTorch sees one, else the
CPU), cpu, cuda, cuda:N.
"""

from __future__ import annotations

import re

import torch

from training.errors import UsageError

DEVICE_NAMES = "auto, cpu, cuda or cuda:N"
_NAME = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def device_name_problem(name: str) -> str | None:
    """Why `name` is not a device name, or None when it is one (a syntax check: no GPU is looked for)."""
    if _NAME.match(name):
        return None
    return f"{name!r} is not a device; use {DEVICE_NAMES}"


def resolve_device(name: str | torch.device | None = "auto", local_rank: int | None = None) -> torch.device:
    """The device `name` asks for, after checking this machine has it.

    `local_rank` (given only under torchrun with several processes: this process's LOCAL_RANK) turns auto and cuda
    into that process's own GPU.
    """
    if isinstance(name, torch.device):
        name = str(name)
    name = "auto" if name is None else str(name)
    problem = device_name_problem(name)
    if problem:
        raise UsageError(f"--device: {problem}")
    if name == "cpu" or (name == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise UsageError(f"--device {name} asks for a GPU but PyTorch sees none here; use --device cpu")
    count = torch.cuda.device_count()
    if ":" in name:
        index = int(name.split(":")[1])
        if local_rank is not None:
            raise UsageError(f"--device {name} names one GPU but torchrun started several processes; give "
                             "--device cuda (each process takes the GPU of its LOCAL_RANK)")
        if index >= count:
            raise UsageError(f"--device {name}: this machine has {count} GPU{'s' if count != 1 else ''} "
                             f"(cuda:0 to cuda:{count - 1})")
        return torch.device("cuda", index)
    index = local_rank or 0
    if index >= count:
        raise UsageError(f"process with LOCAL_RANK {index} has no GPU (this machine has {count}); lower "
                         "--nproc-per-node")
    return torch.device("cuda", index)
