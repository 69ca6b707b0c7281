"""The checkpoint format: one `.pt` file that `torch.load(weights_only=True)` opens without running any code.

Everything inside is tensors and plain data (dicts, lists, str, numbers): state dicts of G, G_ema, D and their
optimisers, the networks' constructor arguments, training progress and RNG states, the dataset's provenance
block, and the chain of runs it descends from. Never pickled classes, so a checkpoint from anyone is safe to open,
and the code that reads it can change without breaking old files.
"""

from __future__ import annotations

import os
import time
import zipfile
from pathlib import Path
from typing import Any

import torch

from training.atomic import atomic_output
from training.errors import DataError, UsageError

FORMAT = "likeness-checkpoint"
FORMAT_VERSION = 1


def plain(obj: Any, where: str = "payload") -> Any:
    """The payload as weights_only-loadable data: tensors, dicts, lists, tuples, str, numbers, bool, None.

    Subclasses of str/int/float (torch.__version__ is one) are turned into the base type, because the safe
    unpickler refuses their classes; anything else is a programming error, reported before a byte is written.
    """
    if obj is None or isinstance(obj, torch.Tensor) or type(obj) in (bool, int, float, str):
        return obj
    for base in (bool, str, int, float):  # bool first: it is an int too
        if isinstance(obj, base):
            return base(obj)
    if isinstance(obj, dict):
        return {plain(k, where): plain(v, f"{where}[{k!r}]") for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        items = [plain(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        return tuple(items) if isinstance(obj, tuple) else items
    raise TypeError(f"{where} holds a {type(obj).__name__}, which torch.load(weights_only=True) cannot read")


def save_checkpoint(path: str | os.PathLike, payload: dict[str, Any], *, force: bool = True) -> None:
    """Write atomically: temp file, fsync, rename. A full disk or a kill leaves the previous file valid."""
    data = plain({"format": FORMAT, "format_version": FORMAT_VERSION, "saved_at": time.time(), **payload})
    with atomic_output(path, force=force) as tmp:
        with open(tmp, "wb") as f:
            recorder = _WriteRecorder(f)
            try:
                torch.save(data, recorder)
            except Exception as err:
                if recorder.error is not None:
                    raise recorder.error from err  # the real cause (disk full...), not torch's zip-writer echo
                raise
            f.flush()
            os.fsync(f.fileno())


class _WriteRecorder:
    """File wrapper that remembers the OSError of a failed write: torch.save swallows it and reports only an
    inconsistent zip position, which says nothing about the full disk behind it."""

    def __init__(self, f):
        self.f = f
        self.error: OSError | None = None

    def write(self, data) -> int:
        try:
            return self.f.write(data)
        except OSError as err:
            self.error = self.error or err
            raise

    def flush(self) -> None:
        self.f.flush()


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read and validate a checkpoint; a truncated, foreign or corrupt file is a one-line DataError."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"checkpoint {path} does not exist")
    if not zipfile.is_zipfile(path):
        raise DataError(f"{path} is not a likeness checkpoint (not a torch zip file: truncated, or another "
                        "format; NVIDIA .pkl and rosinality .pt files go through `likeness import`)")
    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises RuntimeError, UnpicklingError, EOFError... for damaged files
        raise DataError(f"{path} cannot be read as a likeness checkpoint ({type(err).__name__}: "
                        f"{str(err).splitlines()[0] if str(err) else 'no detail'}); it is truncated or "
                        "corrupt: use an earlier snapshot") from err
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise DataError(f"{path} is a torch file but not a likeness checkpoint; convert foreign models with "
                        "`likeness import`")
    if data.get("format_version", 0) > FORMAT_VERSION:
        raise DataError(f"{path} was written by a newer likeness (checkpoint format "
                        f"{data['format_version']}); upgrade likeness to read it")
    return data


def build_network(kind: str, init_kwargs: dict, state_dict: dict[str, torch.Tensor]) -> torch.nn.Module:
    """Rebuild G or D from its constructor arguments and load its weights exactly (no missing or extra keys)."""
    from training.networks import Discriminator, Generator

    cls = {"G": Generator, "D": Discriminator}[kind]
    try:
        net = cls(**init_kwargs)
    except TypeError as err:
        raise DataError(f"the checkpoint's {kind} configuration is not one this likeness can build ({err})") from err
    try:
        missing, unexpected = net.load_state_dict(state_dict, strict=False)
    except RuntimeError as err:  # shapes that do not fit raise even when strict=False
        raise DataError(f"the checkpoint's {kind} weights do not fit its configuration "
                        f"({str(err).splitlines()[-1].strip()})") from err
    if missing or unexpected:
        raise DataError(f"the checkpoint's {kind} weights do not fit its configuration (missing: "
                        f"{', '.join(missing[:3]) or 'none'}; unexpected: {', '.join(unexpected[:3]) or 'none'})")
    return net


def generator_from_payload(payload: dict[str, Any], source: str | os.PathLike, *,
                           device: str | torch.device = "cpu", ema: bool = True) -> torch.nn.Module:
    """The generator a renderer or `generate` wants from a loaded payload: G_ema by default, eval, no gradients."""
    key = "G_ema" if ema and "G_ema" in payload else "G"
    if key not in payload:
        raise DataError(f"{source} holds no generator")
    net = build_network("G", payload["G_kwargs"], payload[key])
    return net.eval().requires_grad_(False).to(device)


def load_generator(path: str | os.PathLike, *, device: str | torch.device = "cpu", ema: bool = True) -> torch.nn.Module:
    """The generator of one of our checkpoints; `training.importers.importing.load_any_generator` also takes foreign files."""
    return generator_from_payload(load_checkpoint(path), path, device=device, ema=ema)
