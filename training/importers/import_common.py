"""What the NVIDIA and rosinality importers share: channel tables, fitting weights by name, plain provenance data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from training.errors import DataError


def channel_table(channel_base: int, channel_max: int, resolutions: list[int]) -> dict[int, int]:
    """Channels per resolution as our networks (and NVIDIA's) compute them."""
    return {res: min(channel_base // res, channel_max) for res in resolutions}


def channel_params(table: Mapping[int, int], declared: tuple[int | None, int | None] = (None, None)
                   ) -> tuple[int, int] | None:
    """(channel_base, channel_max) that reproduce `table` exactly, or None when no pair can.

    The declared pair wins when it fits; otherwise the smallest channel_base that fits is taken (every fitting
    value builds the same network).
    """
    resolutions = sorted(table)
    base, cmax = declared
    if base is not None and cmax is not None and channel_table(base, cmax, resolutions) == dict(table):
        return int(base), int(cmax)
    cmax = max(table.values())
    low, high = 1, None
    for res, ch in table.items():
        if ch <= 0:
            return None
        if ch == cmax:
            low = max(low, cmax * res)  # base // res must reach the cap
        else:
            low = max(low, ch * res)  # base // res == ch exactly
            high = min(high, ch * res + res - 1) if high is not None else ch * res + res - 1
    if high is not None and low > high:
        return None
    if channel_table(low, cmax, resolutions) != dict(table):
        return None
    return low, cmax


def fit_network(kind: str, kwargs: dict[str, Any], state: dict[str, torch.Tensor], source: str) -> torch.nn.Module:
    """Build our G or D from `kwargs` and copy `state` in by name; any missing, extra or misshapen tensor is refused.

    `source` names the network in messages ("the pickle's G_ema"). Returns the network in eval mode.
    """
    from training.networks import Discriminator, Generator

    cls = {"G": Generator, "D": Discriminator}[kind]
    try:
        net = cls(**kwargs)
    except (TypeError, ValueError) as err:
        raise DataError(f"{source} has a configuration our networks cannot build ({err})") from err
    ours = net.state_dict()
    missing = [k for k in ours if k not in state]
    extra = [k for k in state if k not in ours]
    if missing or extra:
        raise DataError(f"{source} does not have the tensors of a StyleGAN2 config-F {kind} (missing: "
                        f"{', '.join(missing[:3]) or 'none'}; unexpected: {', '.join(extra[:3]) or 'none'})")
    for key, value in ours.items():
        if tuple(state[key].shape) != tuple(value.shape):
            raise DataError(f"{source}: {key} has shape {tuple(state[key].shape)} where our network has "
                            f"{tuple(value.shape)}: a channel layout our networks cannot represent")
        if not (state[key].is_floating_point() or state[key].dtype == value.dtype):
            raise DataError(f"{source}: {key} holds {state[key].dtype} values, not floating point")
    with torch.no_grad():
        for key, value in ours.items():
            value.copy_(state[key].detach().to(value.dtype))
    if not all(torch.isfinite(v).all() for v in net.state_dict().values() if v.is_floating_point()):
        raise DataError(f"{source} holds NaN or infinite weights")
    return net.eval().requires_grad_(False)


def state_of(net: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A state dict of plain contiguous tensors, as a checkpoint stores it."""
    return {k: v.detach().contiguous().clone() for k, v in net.state_dict().items()}


def plain(obj: Any, depth: int = 0) -> Any:
    """JSON-like copy (dict, list, str, numbers, None) that `torch.load(weights_only=True)` reads back."""
    if depth > 20:
        return "..."
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Mapping):
        return {str(k): plain(v, depth + 1) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [plain(v, depth + 1) for v in obj]
    if isinstance(obj, torch.Tensor):
        return f"tensor{tuple(obj.shape)}"
    if hasattr(obj, "__dict__") and type(obj).__name__ == "Namespace":
        return plain(vars(obj), depth + 1)
    return repr(obj)[:200]
