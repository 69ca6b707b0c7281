"""One synthesis call for the windows of several models of the same architecture.

A 4x3 grid of twelve sitters otherwise costs twelve generator calls of batch 1 a frame, and on a GPU small calls
are bound by kernel launches, not arithmetic. Stacked, the twelve networks' weights become one set of tensors with
a leading model axis and `torch.func.vmap` runs the synthesis once over it: every convolution is grouped over the
models, which the modulated convolution already is over the samples. Whether that pays is measured, not assumed
(`benchmarks/cross_model_batch.py`: on a CPU it pays for tiny nets and loses for the demo model), so it is
`Renderer(cross_batch=True)`, off by default until the GPU step has measured it.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from typing import Hashable

import torch
from torch.func import functional_call, stack_module_state, vmap


def architecture(network: torch.nn.Module) -> tuple:
    """What must agree for networks to be stacked: class, every tensor's name, shape and dtype, and the device."""
    tensors = tuple((name, tuple(t.shape), t.dtype) for name, t in network.state_dict().items())
    first = next(iter(network.state_dict().values()), None)
    return type(network).__qualname__, str(first.device) if first is not None else "-", tensors


class StackedSynthesis:
    """Several same-architecture synthesis networks as one: ws [M, B, L, D] -> images [M, B, C, r, r].

    The stacked weights are a copy (the models stay usable on their own): one more copy of these models' synthesis
    weights in memory while the stack is kept.
    """

    def __init__(self, networks: list[torch.nn.Module]):
        if not networks:
            raise ValueError("StackedSynthesis needs at least one network")
        shapes = {architecture(n) for n in networks}
        if len(shapes) != 1:
            raise ValueError(f"only networks of one architecture can be stacked; got {len(shapes)} different ones")
        self.count = len(networks)
        self.params, self.buffers = stack_module_state(networks)
        self._template = copy.deepcopy(networks[0]).to("meta")  # the structure; the weights come from the stack

    def __call__(self, ws: torch.Tensor, *, max_resolution: int | None = None, noise_mode: str = "const"
                 ) -> torch.Tensor:
        if ws.ndim != 4 or ws.shape[0] != self.count:
            raise ValueError(f"ws must be [{self.count}, B, num_ws, w_dim], got {tuple(ws.shape)}")

        def one(params, buffers, model_ws):
            return functional_call(self._template, (params, buffers), (model_ws,),
                                   {"noise_mode": noise_mode, "max_resolution": max_resolution})

        return vmap(one)(self.params, self.buffers, ws)


def pad_to(ws: list[torch.Tensor]) -> torch.Tensor:
    """Per model [B_m, L, D] -> [M, max B_m, L, D], shorter ones padded with their last row (drawn, then dropped)."""
    most = max(w.shape[0] for w in ws)
    return torch.stack([torch.cat([w, w[-1:].expand(most - w.shape[0], -1, -1)]) if w.shape[0] < most else w
                        for w in ws])


class StackCache:
    """The last few stacks, by which models they hold: a show's scenes reuse a few groupings, and an unbounded
    cache would grow over an evening of changing line-ups."""

    def __init__(self, keep: int = 4):
        self.keep = keep
        self._stacks: OrderedDict[Hashable, StackedSynthesis] = OrderedDict()

    def get(self, key: Hashable, networks: list[torch.nn.Module]) -> StackedSynthesis:
        if key in self._stacks:
            self._stacks.move_to_end(key)
            return self._stacks[key]
        stack = StackedSynthesis(networks)
        self._stacks[key] = stack
        while len(self._stacks) > self.keep:
            self._stacks.popitem(last=False)
        return stack

    def clear(self) -> None:
        self._stacks.clear()

    def __len__(self) -> int:
        return len(self._stacks)
