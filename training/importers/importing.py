"""Any model file likeness can use -> our checkpoint payload: ours, NVIDIA pickles, rosinality checkpoints.

`load_any_checkpoint(path)` is what `train --init`, `generate` and the renderer call: it recognises the format from
the file's first bytes and content (never from its name), imports foreign models in memory, and returns the same
payload shape `load_checkpoint` gives for ours (`G_kwargs`, `G`, `G_ema`, and `D_kwargs`, `D` when the file has a
discriminator). An imported payload has no optimiser state and no progress; it carries `imported_from` (source path,
sha256, format, and what the source said about itself). Nothing in any file is executed: NVIDIA pickles go through
`safe_unpickle`, torch files through `torch.load(weights_only=True)`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

from training.checkpoint import FORMAT, FORMAT_VERSION, generator_from_payload, load_checkpoint
from training.errors import DataError, UsageError
from training.importers.import_common import plain, state_of

NVIDIA = "nvidia-pickle"
ROSINALITY = "rosinality"
LIKENESS = "likeness-checkpoint"
# A torch.save file in the legacy (pre-1.6, non-zip) layout opens with this pickled magic number.
LEGACY_TORCH_MAGIC = b"\x80\x02\x8a\nl\xfc\x9cF\xf9 j\xa8P\x19."
TRAINING_SET_KEYS = ("class_name", "path", "resolution", "use_labels", "max_size", "xflip", "random_seed")


def load_any_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """A checkpoint payload for any model file we can read; DataError (one line) for anything else."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{path} is a folder; give the model file itself (.pt or .pkl)")
    if not path.is_file():
        raise UsageError(f"model file {path} does not exist")
    head = _head(path)
    if head.startswith(b"PK\x03\x04") and _is_ours(path):
        return load_checkpoint(path)
    if head.startswith(b"PK\x03\x04") or head.startswith(LEGACY_TORCH_MAGIC):
        data = _load_torch_file(path, head)
        from training.importers.import_rosinality import is_rosinality

        if is_rosinality(data):
            return _import_rosinality(path, data)
        raise DataError(f"{path} is a torch file but neither a likeness checkpoint nor a rosinality StyleGAN2 "
                        "checkpoint (no g_ema or g state dict)")
    if head[:1] == b"\x80":
        return _import_nvidia(path)
    raise DataError(f"{path} is neither an NVIDIA network pickle (.pkl), a rosinality checkpoint (.pt) nor a "
                    "likeness checkpoint" + (" (the file is empty)" if not head else ""))


def load_any_generator(path: str | os.PathLike, *, device: str | torch.device = "cpu", ema: bool = True
                       ) -> torch.nn.Module:
    """The generator of any model file (G_ema unless ema=False), in eval mode, gradients off, on `device`."""
    return generator_from_payload(load_any_checkpoint(path), path, device=device, ema=ema)


def is_likeness_checkpoint(path: str | os.PathLike) -> bool:
    """Whether `path` is one of our checkpoints (by content, cheaply), as opposed to a model to import."""
    path = Path(path)
    return path.is_file() and _head(path).startswith(b"PK\x03\x04") and _is_ours(path)


def _is_ours(path: Path) -> bool:
    """A torch zip whose pickled structure names our format: read that small record only, not the tensors."""
    try:
        with zipfile.ZipFile(path) as archive:
            name = next((n for n in archive.namelist() if n.endswith("/data.pkl") or n == "data.pkl"), None)
            return name is not None and FORMAT.encode() in archive.read(name)
    except (zipfile.BadZipFile, OSError, KeyError):
        return False


# ---------------------------------------------------------------------------------------------------------------
# NVIDIA


def _import_nvidia(path: Path) -> dict[str, Any]:
    from training.importers import import_nvidia
    from training.importers.safe_unpickle import PersistentRecord, restricted_load

    with open(path, "rb") as f:
        try:
            data = restricted_load(f)
        except DataError as err:
            raise DataError(f"{path}: {err}") from err
    if isinstance(data, PersistentRecord):
        data = {"G_ema": data}  # a bare network pickled on its own
    if not isinstance(data, dict) or not any(isinstance(data.get(k), PersistentRecord) for k in ("G", "G_ema")):
        keys = ", ".join(map(str, list(data)[:6])) if isinstance(data, dict) else type(data).__name__
        raise DataError(f"{path} is a pickle but not an NVIDIA network snapshot (no G or G_ema network; it holds "
                        f"{keys})")
    payload: dict[str, Any] = {}
    networks: dict[str, Any] = {}
    for key, kind in (("G_ema", "G"), ("G", "G"), ("D", "D")):
        record = data.get(key)
        if record is None:
            continue
        if not isinstance(record, PersistentRecord):
            raise DataError(f"{path}: {key} is not an NVIDIA network object")
        kwargs, net = import_nvidia.import_record(kind, record, f"{path.name}'s {key}")
        payload[f"{kind}_kwargs" if key != "G" else "_G_kwargs"] = kwargs
        payload[key] = state_of(net)
        networks[key] = {"class": record.class_name, "module": record.module,
                         "repository": import_nvidia.REPOSITORIES.get(record.module or "", "unrecognised source"),
                         "module_src_sha256": record.module_src_sha256, "persistence_version": plain(record.version),
                         "init_args": plain(record.init_args), "init_kwargs": plain(record.init_kwargs)}
    notes = _complete_generators(payload, path)
    training_set = data.get("training_set_kwargs")
    source = {
        "networks": networks,
        "contents": sorted(str(k) for k in data),
        "augment_pipe": "present, not imported" if data.get("augment_pipe") is not None else None,
        "training_set_kwargs": ({k: plain(training_set.get(k)) for k in TRAINING_SET_KEYS if k in training_set}
                                if isinstance(training_set, dict) else None),
        "notes": notes,
    }
    return _payload(path, NVIDIA, payload, source)


# ---------------------------------------------------------------------------------------------------------------
# rosinality


def _load_torch_file(path: Path, head: bytes) -> Any:
    if head.startswith(b"PK") and not zipfile.is_zipfile(path):
        raise DataError(f"{path} is a truncated or damaged torch zip file (its directory is missing)")
    try:
        with _namespace_allowed():
            return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError, KeyError, TypeError,
            AttributeError, zipfile.BadZipFile) as err:
        text = str(err).strip().splitlines()
        detail = next((line.strip() for line in text if "GLOBAL" in line or "Unsupported" in line),
                      text[0] if text else "no detail")
        raise DataError(f"{path} cannot be read as a torch file without running code from it "
                        f"({type(err).__name__}: {detail[:240]}); it is truncated, corrupt or holds objects "
                        "other than tensors and plain data") from err


def _namespace_allowed():
    """rosinality stores its argparse options; a Namespace only holds attributes, so weights_only may build it."""
    if hasattr(torch.serialization, "safe_globals"):
        return torch.serialization.safe_globals([argparse.Namespace])
    torch.serialization.add_safe_globals([argparse.Namespace])  # torch < 2.5: no scoped form
    return contextlib.nullcontext()


def _import_rosinality(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    from training.importers import import_rosinality as ros

    args = data.get("args")
    latent_avg = data.get("latent_avg")
    payload: dict[str, Any] = {}
    w_avg: dict[str, str] = {}
    for key, ours in (("g_ema", "G_ema"), ("g", "G")):
        if key in data:
            kwargs, net, how = ros.import_generator(data[key], args, latent_avg, f"{path.name}'s {key}")
            payload["G_kwargs" if ours == "G_ema" else "_G_kwargs"] = kwargs
            payload[ours] = state_of(net)
            w_avg[ours] = how
    if "d" in data:
        payload["D_kwargs"], net = ros.import_discriminator(data["d"], args, f"{path.name}'s d")
        payload["D"] = state_of(net)
    notes = _complete_generators(payload, path)
    for how in sorted(set(w_avg.values())):
        if how != "latent_avg":
            notes.append(f"w_avg (the centre of truncation) {how}")
    source = {
        "contents": sorted(str(k) for k in data),
        "args": plain(args) if args is not None else None,
        "w_avg": w_avg,
        "notes": notes,
    }
    return _payload(path, ROSINALITY, payload, source)


# ---------------------------------------------------------------------------------------------------------------
# Shared


def _complete_generators(payload: dict[str, Any], path: Path) -> list[str]:
    """Both G and G_ema must exist for training: copy the one that is missing, and say so."""
    notes = []
    g_kwargs = payload.pop("_G_kwargs", None)
    if "G_ema" in payload and g_kwargs is not None and g_kwargs != payload["G_kwargs"]:
        raise DataError(f"{path}: its G and G_ema have different configurations; cannot import both")
    if "G_ema" not in payload:
        payload["G_kwargs"] = g_kwargs
        payload["G_ema"] = {k: v.clone() for k, v in payload["G"].items()}
        notes.append("G_ema copied from G (the file has no EMA generator)")
    if "G" not in payload:
        payload["G"] = {k: v.clone() for k, v in payload["G_ema"].items()}
        notes.append("G copied from G_ema (the file has no training generator)")
    if "D" not in payload:
        notes.append("no discriminator in the file: training from it starts D from scratch")
    return notes


def _payload(path: Path, fmt: str, payload: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
    from training.hashing import file_sha256

    payload["imported_from"] = {"path": str(path.resolve()), "sha256": file_sha256(path), "format": fmt,
                                "source": source}
    return {"format": FORMAT, "format_version": FORMAT_VERSION, **payload}


def _head(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(len(LEGACY_TORCH_MAGIC))
    except OSError as err:
        raise UsageError(f"cannot read {path} ({err.strerror})") from err


def describe(payload: dict[str, Any]) -> str:
    """One line about a payload's generator: resolution, latent sizes, label size, networks present."""
    kw = payload["G_kwargs"]
    nets = [k for k in ("G", "G_ema", "D") if k in payload]
    label = f", {kw['c_dim']} classes" if kw.get("c_dim") else ""
    return (f"{kw['img_resolution']}x{kw['img_resolution']} {kw['img_channels']}-channel StyleGAN2, z {kw['z_dim']}, "
            f"w {kw['w_dim']}, {kw['mapping_layers']} mapping layers{label}; networks: {', '.join(nets)}")
