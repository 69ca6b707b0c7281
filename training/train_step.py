"""The maths of training: one process's networks, optimisers and progress, and the step that advances them.

A step runs the phases Gmain, Greg (every g_reg_interval steps), Dmain, Dreg (every d_reg_interval steps) over
this rank's rounds, sums gradients into one flat buffer per network, all-reduces it, steps Adam, then updates
G_ema. Nothing in a step waits for the GPU: losses are summed on the device and read at tick ends (`read_stats`).
Nothing here writes a file or prints: the run folder and the terminal belong to training/loop.py.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import torch

from training.checkpoint import build_network
from training.distributed import DistEnv, FlatGrads, all_reduce_sum_
from training.loss import PHASES, LossSettings, Stats, StyleGAN2Loss
from training.networks import Discriminator, Generator
from training.sampling import mix_seed, rank_rounds, round_seed
from training.train_config import Plan, label_table
from training.train_settings import TrainingSettings


@dataclass(frozen=True)
class Phase:
    name: str
    index: int  # fixed per name, part of the round seed
    net: str  # "G" | "D"
    interval: int


def build_networks(plan: Plan) -> tuple[torch.nn.Module, torch.nn.Module, torch.nn.Module]:
    """G, D, G_ema on the CPU: fresh (seeded), from the parent (--init) or from the snapshot (--resume)."""
    cfg = plan.config
    payload = plan.payload
    if plan.mode == "new":
        torch.manual_seed(mix_seed(cfg["training"]["seed"], 0x1A17))
        G = Generator(**cfg["G_kwargs"])
        D = Discriminator(**cfg["D_kwargs"])
        G_ema = copy.deepcopy(G)
    else:
        g_state = payload.get("G") or payload["G_ema"]
        G = build_network("G", cfg["G_kwargs"], g_state)
        G_ema = build_network("G", cfg["G_kwargs"], payload.get("G_ema") or g_state)
        if "D" in payload:
            D = build_network("D", cfg["D_kwargs"], payload["D"])
        else:  # --init from a generator-only public model
            torch.manual_seed(mix_seed(cfg["training"]["seed"], 0x1A17))
            D = Discriminator(**cfg["D_kwargs"])
    for net in (G, D, G_ema):
        net.requires_grad_(False)
    return G, D, G_ema.eval()


def _precision(choice: str, device: torch.device) -> tuple[torch.dtype | None, bool]:
    """(reduced dtype for the top blocks, whether the CPU computes in it) for --precision."""
    if choice == "auto":
        return (torch.bfloat16 if device.type == "cuda" else None), False
    dtype = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[choice]
    return dtype, dtype is not None and device.type == "cpu"


def _adam(params: list[torch.nn.Parameter], lr: float, interval: int, s: TrainingSettings,
          device: torch.device) -> torch.optim.Adam:
    """NVIDIA's lazy-regularisation correction: with a reg pass every `interval` steps, lr and betas are raised
    to interval / (interval + 1)."""
    ratio = interval / (interval + 1)
    fast = {"fused": True} if device.type == "cuda" else {"foreach": True}
    return torch.optim.Adam(params, lr=lr * ratio, betas=tuple(b ** ratio for b in s.adam_betas), eps=s.adam_eps,
                            **fast)


def _load_opt_state(opt: torch.optim.Adam, state: dict[str, Any]) -> None:
    """Adam moments from a snapshot, keeping this machine's implementation flags: a CPU run's state resumes as
    fused CUDA Adam (the flags decide where the `step` counters are placed while loading)."""
    flags = [{k: g[k] for k in ("fused", "foreach", "capturable")} for g in opt.param_groups]
    groups = [dict(g, **f) for g, f in zip(state["param_groups"], flags)]
    opt.load_state_dict(dict(state, param_groups=groups))


def to_cpu(obj: Any) -> Any:
    """A detached CPU copy of every tensor in a nest of dicts, lists and tuples (for a snapshot)."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return {k: to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_cpu(v) for v in obj)
    return obj


def _reseed(seed: int, device: torch.device) -> None:
    """Seed the CPU generator and this GPU's only (torch.manual_seed would loop over every visible GPU)."""
    torch.default_generator.manual_seed(seed)
    if device.type == "cuda":
        torch.cuda.manual_seed(seed)


def _configure_torch(s: TrainingSettings) -> None:
    torch.backends.cudnn.benchmark = not s.deterministic
    # NVIDIA keeps the float32 layers out of TF32 for accuracy; the reduced-precision blocks carry the speed.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    if s.deterministic:
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.deterministic = True


def _phases(s: TrainingSettings) -> list[Phase]:
    phases = [Phase("Gmain", 0, "G", 1), Phase("Dmain", 2, "D", 1)]
    if s.pl_weight > 0:
        phases.insert(1, Phase("Greg", 1, "G", s.g_reg_interval))
    if s.gamma > 0:
        phases.append(Phase("Dreg", 3, "D", s.d_reg_interval))
    assert all(PHASES[p.index] == p.name for p in phases)
    return phases


class TrainingState:
    """Networks, optimisers, loss state and progress of one process; `step()` trains on one global batch."""

    def __init__(self, plan: Plan, env: DistEnv):
        s = self.settings = TrainingSettings.from_config(plan.config["training"])
        self.env = env
        self.device = device = env.device
        _configure_torch(s)

        G, D, G_ema = build_networks(plan)
        dtype, on_cpu = _precision(s.precision, device)
        for net in (G, D, G_ema):
            net.to(device)
            net.set_precision(dtype, channels_last=device.type == "cuda", on_cpu=on_cpu)
        self.G, self.D, self.G_ema = G, D, G_ema
        self.opts = {"G": _adam(list(G.parameters()), s.lr_G, s.g_reg_interval, s, device),
                     "D": _adam(list(D.parameters()), s.lr_D, s.d_reg_interval, s, device)}
        extra = G.w_dim + 1
        self.grads = {"G": FlatGrads(list(G.parameters()), extra, device),
                      "D": FlatGrads(list(D.parameters()), extra, device)}
        self.phases = _phases(s)
        fast = {}
        if s.compile:
            fast = dict(G_mapping=torch.compile(G.mapping), G_synthesis=torch.compile(G.synthesis),
                        D_fast=torch.compile(D))
        self.loss = StyleGAN2Loss(G, D, LossSettings(r1_gamma=s.gamma, style_mixing_prob=s.style_mixing_prob,
                                                     pl_weight=s.pl_weight, pl_batch_shrink=s.pl_batch_shrink,
                                                     pl_decay=s.pl_decay), **fast)
        self.stats = Stats(device)
        self.c_dim = G.c_dim
        self.labels = label_table(plan.dataset, self.c_dim).to(device) if self.c_dim else None
        self.my_rounds = rank_rounds(env.rank, env.world_size, s.rounds)

        self.cur_nimg = 0  # images shown, over all processes
        self.batch_idx = 0  # steps taken
        self.cur_tick = 0  # ticks completed
        self.elapsed_before = 0.0  # seconds of training before this process started (resumes)
        if plan.mode == "resume":
            self.restore(plan.payload)
        for grads in self.grads.values():
            grads.check_views()

    def restore(self, payload: dict[str, Any]) -> None:
        """Optimisers, path-length mean, progress and RNG states from a snapshot (`--resume`)."""
        _load_opt_state(self.opts["G"], payload["opt_G"])
        _load_opt_state(self.opts["D"], payload["opt_D"])
        loss_state = payload.get("loss_state") or {}
        if "pl_mean" in loss_state:
            self.loss.pl_mean.copy_(loss_state["pl_mean"].to(self.device))
        progress = payload["progress"]
        self.cur_nimg = int(progress["cur_nimg"])
        self.batch_idx = int(progress["batch_idx"])
        self.cur_tick = int(progress.get("cur_tick", 0))
        self.elapsed_before = float(progress.get("elapsed_s", 0.0))
        rng = payload.get("rng") or {}
        if isinstance(rng.get("cpu"), torch.Tensor):
            torch.set_rng_state(rng["cpu"])
        if self.device.type == "cuda" and rng.get("cuda"):
            torch.cuda.set_rng_state(rng["cuda"][0], self.device)

    def state_dicts(self, elapsed_s: float) -> dict[str, Any]:
        """Everything a snapshot needs to continue exactly: weights, optimisers, progress, RNG, loss state."""
        rng = {"cpu": torch.get_rng_state(),
               "cuda": [torch.cuda.get_rng_state(self.device)] if self.device.type == "cuda" else []}
        return dict(G=to_cpu(self.G.state_dict()), G_ema=to_cpu(self.G_ema.state_dict()),
                    D=to_cpu(self.D.state_dict()), opt_G=to_cpu(self.opts["G"].state_dict()),
                    opt_D=to_cpu(self.opts["D"].state_dict()),
                    progress=dict(cur_nimg=self.cur_nimg, cur_tick=self.cur_tick, batch_idx=self.batch_idx,
                                  kimg=self.cur_nimg / 1000, elapsed_s=elapsed_s),
                    rng=rng, loss_state=dict(pl_mean=to_cpu(self.loss.pl_mean)))

    def step(self, images: torch.Tensor, frames: torch.Tensor) -> None:
        """One global batch: every phase due at this step, its gradients summed over all processes, then EMA."""
        s, device = self.settings, self.device
        real = (images.to(device, non_blocking=True).to(torch.float32) / 127.5 - 1).split(s.batch_gpu)
        real_c = [None] * len(real)
        if self.labels is not None:
            real_c = self.labels[frames.to(device, non_blocking=True)].split(s.batch_gpu)
        nets = {"G": self.G, "D": self.D}
        for phase in self.phases:
            if self.batch_idx % phase.interval != 0:
                continue
            grads = self.grads[phase.net]
            grads.zero_()
            self.G.requires_grad_(phase.net == "G")
            self.D.requires_grad_(phase.net == "D")
            self.loss.start_phase(phase.name)
            gain = phase.interval / s.rounds
            for local, global_round in enumerate(self.my_rounds):
                _reseed(round_seed(s.seed, self.batch_idx, phase.index, global_round), device)
                gen_z = torch.randn([s.batch_gpu, self.G.z_dim], device=device)
                gen_c = None
                if self.labels is not None:
                    gen_c = self.labels[torch.randint(len(self.labels), [s.batch_gpu], device=device)]
                self.loss.accumulate(phase.name, real[local], real_c[local], gen_z, gen_c, gain, self.stats,
                                     grads.extra)
            nets[phase.net].requires_grad_(False)
            grads.reduce_(self.env)
            self.loss.finish_phase(phase.name, grads.extra, s.rounds, s.batch)
            self.opts[phase.net].step()
        self._update_ema()
        self.cur_nimg += s.batch
        self.batch_idx += 1

    def _update_ema(self) -> None:
        s = self.settings
        ema_nimg = s.ema_kimg * 1000
        if s.ema_rampup is not None:
            ema_nimg = min(ema_nimg, self.cur_nimg * s.ema_rampup)
        beta = 0.5 ** (s.batch / max(ema_nimg, 1e-8))
        with torch.no_grad():
            torch._foreach_lerp_(list(self.G_ema.parameters()), list(self.G.parameters()), 1.0 - beta)
            torch._foreach_copy_(list(self.G_ema.buffers()), list(self.G.buffers()))

    def read_stats(self) -> dict[str, float]:
        """Mean of each loss statistic since the last call, over all processes (every rank must call it)."""
        names = sorted(self.stats.sums)
        if not names:
            return {}
        values = torch.stack([self.stats.sums[n] for n in names])
        all_reduce_sum_(values, self.env)
        values = values.tolist()
        out = {n: v / (self.stats.counts[n] * self.env.world_size) for n, v in zip(names, values)}
        self.stats.reset()
        return out
