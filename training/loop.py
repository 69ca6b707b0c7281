"""The training loop: steps, ticks, snapshots. One function, `train(plan, env)`, run by every process.

A step runs the phases Gmain, Greg (every g_reg_interval steps), Dmain, Dreg (every d_reg_interval steps) over
this rank's rounds, sums gradients into one flat buffer per network, all-reduces it, steps Adam, then updates
G_ema. Nothing in a step waits for the GPU: losses are summed on the device and read at tick ends, data arrives
through pinned memory from persistent workers, and the decisions of when to end a tick or snapshot are integer
arithmetic on the image count, so every rank makes them at the same step.

Ticks end every --tick kimg (and after the first step, for early feedback); snapshots land at the first step at or
past each multiple of --snap kimg, whatever the tick boundaries, so an interrupted and resumed run writes the
same snapshots as an uninterrupted one.
"""

from __future__ import annotations

import copy
import math
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from training.checkpoint import build_network
from training.distributed import DistEnv, FlatGrads, StopRequest, all_reduce_sum_
from training.errors import LikenessError
from training.grids import FakesGrid, tile
from training.loss import PHASES, LossSettings, Stats, StyleGAN2Loss
from training.networks import Discriminator, Generator
from training.run_folder import RunLock, RunWriter, clear_unstarted, forget_after, new_run_dir, write_config
from training.sampling import batches, make_loader, mix_seed, rank_rounds, round_seed
from training.train_config import Plan, label_table

STAT_ORDER = ("loss_G", "loss_D", "loss_D_real", "loss_D_fake", "r1_penalty", "pl_penalty", "score_real",
              "score_fake")


# -- networks and optimisers ---------------------------------------------------------------------------------------


@dataclass
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


def _adam(params: list[torch.nn.Parameter], lr: float, interval: int, betas: list[float], eps: float,
          device: torch.device) -> torch.optim.Adam:
    """NVIDIA's lazy-regularisation correction: with a reg pass every `interval` steps, lr and betas are raised
    to interval / (interval + 1)."""
    ratio = interval / (interval + 1)
    fast = {"fused": True} if device.type == "cuda" else {"foreach": True}
    return torch.optim.Adam(params, lr=lr * ratio, betas=tuple(b ** ratio for b in betas), eps=eps, **fast)


def _load_opt_state(opt: torch.optim.Adam, state: dict[str, Any]) -> None:
    """Adam moments from a snapshot, keeping this machine's implementation flags: a CPU run's state resumes as
    fused CUDA Adam (the flags decide where the `step` counters are placed while loading)."""
    flags = [{k: g[k] for k in ("fused", "foreach", "capturable")} for g in opt.param_groups]
    groups = [dict(g, **f) for g, f in zip(state["param_groups"], flags)]
    opt.load_state_dict(dict(state, param_groups=groups))


def _to_cpu(obj: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj


# -- the loop ------------------------------------------------------------------------------------------------------


def _crossed(before: int, after: int, interval_kimg: float | None) -> bool:
    if interval_kimg is None:
        return False
    step = max(1, round(interval_kimg * 1000))
    return after // step > before // step


def _format_time(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d {seconds % 86400 // 3600:02d}h"


def _reseed(seed: int, device: torch.device) -> None:
    """Seed the CPU generator and this GPU's only (torch.manual_seed would loop over every visible GPU)."""
    torch.default_generator.manual_seed(seed)
    if device.type == "cuda":
        torch.cuda.manual_seed(seed)


def _configure_torch(t: dict[str, Any], device: torch.device) -> None:
    torch.backends.cudnn.benchmark = not t["deterministic"]
    # NVIDIA keeps the float32 layers out of TF32 for accuracy; the reduced-precision blocks carry the speed.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    if t["deterministic"]:
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.deterministic = True


class Trainer:
    """State of one process's training; `run()` is the loop."""

    def __init__(self, plan: Plan, env: DistEnv, stop: StopRequest, out=sys.stdout):
        self.plan = plan
        self.env = env
        self.stop = stop
        self.out = out
        self.cfg = plan.config
        self.t = self.cfg["training"]
        self.device = env.device
        _configure_torch(self.t, self.device)

        G, D, G_ema = build_networks(plan)
        dtype, on_cpu = _precision(self.t["precision"], self.device)
        channels_last = self.device.type == "cuda"
        for net in (G, D, G_ema):
            net.to(self.device)
            net.set_precision(dtype, channels_last=channels_last, on_cpu=on_cpu)
        self.G, self.D, self.G_ema = G, D, G_ema

        t = self.t
        self.opts = {
            "G": _adam(list(G.parameters()), t["lr_G"], t["g_reg_interval"], t["adam_betas"], t["adam_eps"],
                       self.device),
            "D": _adam(list(D.parameters()), t["lr_D"], t["d_reg_interval"], t["adam_betas"], t["adam_eps"],
                       self.device)}
        extra = G.w_dim + 1
        self.grads = {"G": FlatGrads(list(G.parameters()), extra, self.device),
                      "D": FlatGrads(list(D.parameters()), extra, self.device)}
        self.phases = [Phase("Gmain", 0, "G", 1), Phase("Dmain", 2, "D", 1)]
        if t["pl_weight"] > 0:
            self.phases.insert(1, Phase("Greg", 1, "G", t["g_reg_interval"]))
        if t["gamma"] > 0:
            self.phases.append(Phase("Dreg", 3, "D", t["d_reg_interval"]))
        assert all(PHASES[p.index] == p.name for p in self.phases)

        fast = {}
        if t["compile"]:
            fast = dict(G_mapping=torch.compile(G.mapping), G_synthesis=torch.compile(G.synthesis),
                        D_fast=torch.compile(D))
        self.loss = StyleGAN2Loss(G, D, LossSettings(r1_gamma=t["gamma"], style_mixing_prob=t["style_mixing_prob"],
                                                     pl_weight=t["pl_weight"], pl_batch_shrink=t["pl_batch_shrink"],
                                                     pl_decay=t["pl_decay"]), **fast)
        self.stats = Stats(self.device)

        self.cur_nimg = 0
        self.batch_idx = 0
        self.cur_tick = 0
        self.elapsed_before = 0.0
        if plan.mode == "resume":
            self._restore(plan.payload)
        self.c_dim = G.c_dim
        self.labels = label_table(plan.dataset, self.c_dim).to(self.device) if self.c_dim else None
        self.rounds_global = t["batch"] // t["batch_gpu"]
        self.my_rounds = rank_rounds(env.rank, env.world_size, self.rounds_global)
        self.writer: RunWriter | None = None
        self.lock: RunLock | None = None
        self.last_snapshot_nimg = self.cur_nimg if plan.mode == "resume" else None
        for grads in self.grads.values():
            grads.check_views()

    def _restore(self, payload: dict[str, Any]) -> None:
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

    # -- output --------------------------------------------------------------------------------------------------

    def say(self, text: str) -> None:
        if self.env.is_main:
            from tqdm import tqdm

            tqdm.write(text, file=self.out)
            self.out.flush()

    def open_run_folder(self) -> None:
        """Rank 0 only: create or reopen the folder, lock it, write config, reals and the initial fakes."""
        plan, cfg = self.plan, self.cfg
        # read the reals first: a damaged frame among them must not leave a half-made run folder behind
        reals = None if plan.mode == "resume" else [plan.dataset[i].numpy() for i in cfg["grid"]["reals"]]
        if plan.mode == "resume" or plan.restart:
            run_dir = plan.run_dir
        else:
            run_dir = new_run_dir(plan.outdir, cfg["person"], cfg["desc"])
            cfg["run"] = str(run_dir.relative_to(plan.outdir)) if run_dir.is_relative_to(plan.outdir) else \
                str(run_dir)
        self.lock = RunLock(run_dir)
        self.lock.acquire()
        if plan.mode == "resume":
            forget_after(run_dir, self.cur_nimg)
        elif plan.restart:
            clear_unstarted(run_dir)
        t = self.t
        fractional = any(v is not None and float(v) != int(float(v)) for v in (t["snap"], t["grid"]))
        self.writer = RunWriter(run_dir, cfg, int(t["keep"]), fractional)
        if plan.mode == "resume":
            self.writer.last_snapshot = plan.snapshot
            self.writer.log.append(dict(event="resume", nimg=self.cur_nimg, kimg=self.cur_nimg / 1000,
                                        snapshot=plan.snapshot.name, time=time.time(),
                                        changed=cfg["resumes"][-1]["changed"]))
        write_config(run_dir, cfg)
        self.writer.open_tensorboard(resumed_at=self.cur_nimg if plan.mode == "resume" else None)
        if plan.mode == "resume":
            own_grid = run_dir / ("fakes" + plan.snapshot.name[len("snapshot-"):-len(".pt")] + ".png")
            if not own_grid.exists():  # killed between writing the snapshot and its grid
                self.writer.grid(self.render_fakes(), own_grid.name)
        else:
            grid = cfg["grid"]
            self.writer.grid(tile(np.stack(reals), grid["cols"], grid["rows"]), "reals.png")
            self.writer.grid(self.render_fakes(), "fakes_init.png")

    def fakes_grid(self) -> FakesGrid:
        grid = self.cfg["grid"]
        labels = None
        if self.c_dim:
            labels = label_table(self.plan.dataset, self.c_dim)[torch.tensor(grid["reals"])]
        return FakesGrid(grid["seeds"], self.G.z_dim, labels, grid["cols"], grid["rows"])

    def render_fakes(self):
        if not hasattr(self, "_fakes"):
            self._fakes = self.fakes_grid()
        return self._fakes.render(self.G_ema, self.t["batch_gpu"], self.device)

    def payload(self) -> dict[str, Any]:
        rng = {"cpu": torch.get_rng_state(),
               "cuda": [torch.cuda.get_rng_state(self.device)] if self.device.type == "cuda" else []}
        dataset = dict(likeness=self.plan.dataset.provenance, sha256=self.cfg["dataset"]["sha256"])
        return dict(G_kwargs=self.cfg["G_kwargs"], D_kwargs=self.cfg["D_kwargs"],
                    G=_to_cpu(self.G.state_dict()), G_ema=_to_cpu(self.G_ema.state_dict()),
                    D=_to_cpu(self.D.state_dict()), opt_G=_to_cpu(self.opts["G"].state_dict()),
                    opt_D=_to_cpu(self.opts["D"].state_dict()),
                    progress=dict(cur_nimg=self.cur_nimg, cur_tick=self.cur_tick, batch_idx=self.batch_idx,
                                  kimg=self.cur_nimg / 1000, elapsed_s=self.elapsed()),
                    rng=rng, loss_state=dict(pl_mean=_to_cpu(self.loss.pl_mean)), config=self.cfg,
                    dataset=dataset, chain=self.cfg.get("chain", []))

    def elapsed(self) -> float:
        return self.elapsed_before + time.time() - self.start_time

    # -- one step ------------------------------------------------------------------------------------------------

    def step(self, images: torch.Tensor, frames: torch.Tensor) -> None:
        t, device = self.t, self.device
        batch_gpu = t["batch_gpu"]
        real = (images.to(device, non_blocking=True).to(torch.float32) / 127.5 - 1).split(batch_gpu)
        real_c = [None] * len(real)
        if self.labels is not None:
            real_c = self.labels[frames.to(device, non_blocking=True)].split(batch_gpu)
        nets = {"G": self.G, "D": self.D}
        for phase in self.phases:
            if self.batch_idx % phase.interval != 0:
                continue
            grads = self.grads[phase.net]
            grads.zero_()
            self.G.requires_grad_(phase.net == "G")
            self.D.requires_grad_(phase.net == "D")
            self.loss.start_phase(phase.name)
            gain = phase.interval / self.rounds_global
            for local, global_round in enumerate(self.my_rounds):
                _reseed(round_seed(t["seed"], self.batch_idx, phase.index, global_round), device)
                gen_z = torch.randn([batch_gpu, self.G.z_dim], device=device)
                gen_c = None
                if self.labels is not None:
                    gen_c = self.labels[torch.randint(len(self.labels), [batch_gpu], device=device)]
                self.loss.accumulate(phase.name, real[local], real_c[local], gen_z, gen_c, gain, self.stats,
                                     grads.extra)
            nets[phase.net].requires_grad_(False)
            grads.reduce_(self.env)
            self.loss.finish_phase(phase.name, grads.extra, self.rounds_global, t["batch"])
            self.opts[phase.net].step()
        self._update_ema()
        self.cur_nimg += t["batch"]
        self.batch_idx += 1

    def _update_ema(self) -> None:
        t = self.t
        ema_nimg = t["ema_kimg"] * 1000
        if t["ema_rampup"] is not None:
            ema_nimg = min(ema_nimg, self.cur_nimg * t["ema_rampup"])
        beta = 0.5 ** (t["batch"] / max(ema_nimg, 1e-8))
        with torch.no_grad():
            torch._foreach_lerp_(list(self.G_ema.parameters()), list(self.G.parameters()), 1.0 - beta)
            torch._foreach_copy_(list(self.G_ema.buffers()), list(self.G.buffers()))

    # -- tick end ------------------------------------------------------------------------------------------------

    def read_stats(self) -> dict[str, float]:
        names = sorted(self.stats.sums)
        if not names:
            return {}
        values = torch.stack([self.stats.sums[n] for n in names])
        all_reduce_sum_(values, self.env)
        values = values.tolist()
        out = {n: v / (self.stats.counts[n] * self.env.world_size) for n, v in zip(names, values)}
        self.stats.reset()
        return out

    def tick_record(self, tick_nimg: int, tick_seconds: float, maintenance: float) -> dict[str, Any]:
        losses = self.read_stats()
        record = dict(tick=self.cur_tick, kimg=round(self.cur_nimg / 1000, 3), nimg=self.cur_nimg,
                      time=time.time(), elapsed_s=round(self.elapsed(), 3), sec_per_tick=round(tick_seconds, 4),
                      sec_per_kimg=round(tick_seconds / (tick_nimg / 1000), 4),
                      img_per_s=round(tick_nimg / max(tick_seconds, 1e-9), 3), maintenance_s=round(maintenance, 3))
        for name in STAT_ORDER:
            if name in losses:
                record[name] = losses[name]
        record["pl_mean"] = float(self.loss.pl_mean)
        if self.device.type == "cuda":
            record["gpu_mem_peak_gb"] = round(torch.cuda.max_memory_allocated(self.device) / 2 ** 30, 3)
            torch.cuda.reset_peak_memory_stats(self.device)
        record["cpu_mem_peak_gb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20, 3)
        return record

    def status_line(self, r: dict[str, Any]) -> str:
        fields = [f"tick {r['tick']:<5d}", f"kimg {r['kimg']:<9.3f}", f"time {_format_time(r['elapsed_s']):<9s}",
                  f"sec/tick {r['sec_per_tick']:<7.2f}", f"sec/kimg {r['sec_per_kimg']:<8.2f}",
                  f"img/s {r['img_per_s']:<8.1f}"]
        names = dict(loss_G="G", loss_D="D", r1_penalty="R1", pl_penalty="PL")
        fields += [f"{short} {r[key]:.3f}" for key, short in names.items() if key in r]
        if "gpu_mem_peak_gb" in r:
            fields.append(f"gpumem {r['gpu_mem_peak_gb']:.2f}")
        bad = [key for key in STAT_ORDER if key in r and not math.isfinite(r[key])]
        if bad:
            fields.append(f"WARNING non-finite {', '.join(bad)}")
        return "  ".join(fields)

    # -- the loop ------------------------------------------------------------------------------------------------

    def run(self) -> int:
        t, env = self.t, self.env
        self.start_time = time.time()
        total_nimg = int(round(t["kimg"] * 1000))
        if env.is_main:
            self.open_run_folder()
            self.announce()
        loader = make_loader(self.plan.dataset, mirror=bool(t["mirror"]), seed=t["seed"], batch=t["batch"],
                             batch_gpu=t["batch_gpu"], rank=env.rank, world_size=env.world_size,
                             start_step=self.batch_idx, workers=int(t["workers"]),
                             pin_memory=self.device.type == "cuda")
        data = batches(loader)
        pbar = None
        if env.is_main:
            from tqdm import tqdm

            pbar = tqdm(total=round(total_nimg / 1000, 3), initial=round(self.cur_nimg / 1000, 3), unit="kimg",
                        dynamic_ncols=True, disable=None, file=sys.stderr,
                        bar_format="{l_bar}{bar}| {n:.2f}/{total:.2f} kimg [{elapsed}<{remaining}{postfix}]")
        stop_reason = None
        try:
            tick_start_nimg = self.cur_nimg
            tick_start_time = time.time()
            maintenance = tick_start_time - self.start_time
            first = True
            while True:
                images, frames = next(data)
                before = self.cur_nimg
                self.step(images, frames)
                if pbar is not None:
                    pbar.update(t["batch"] / 1000)
                done = self.cur_nimg >= total_nimg
                stopping = self.stop.should_stop()
                snap_due = _crossed(before, self.cur_nimg, t["snap"])
                grid_due = _crossed(before, self.cur_nimg, t["grid"])
                tick_due = self.cur_nimg >= tick_start_nimg + t["tick"] * 1000 or first
                first = False
                if not (done or stopping or snap_due or grid_due or tick_due):
                    continue

                record = self.tick_record(self.cur_nimg - tick_start_nimg, time.time() - tick_start_time,
                                          maintenance)
                self.cur_tick += 1  # ticks completed, as a snapshot written now must record
                maintenance_start = time.time()
                write_snapshot = snap_due or done or (stopping and self.last_snapshot_nimg != self.cur_nimg)
                if env.is_main:
                    self.end_tick(record, write_snapshot, grid_due)
                    if pbar is not None:
                        pbar.set_postfix_str(f"{record['sec_per_kimg']:.2f} sec/kimg", refresh=False)
                if write_snapshot:
                    self.last_snapshot_nimg = self.cur_nimg
                tick_start_nimg = self.cur_nimg
                tick_start_time = time.time()
                maintenance = tick_start_time - maintenance_start
                if done:
                    break
                if stopping:
                    stop_reason = self.stop.signal_name or "a signal on another rank"
                    break
        except torch.OutOfMemoryError as err:
            raise LikenessError(f"the GPU ran out of memory with --batch-gpu {t['batch_gpu']}; lower --batch-gpu "
                                "(the batch stays --batch, accumulated over more rounds)") from err
        finally:
            if pbar is not None:
                pbar.close()
            del data
            if self.writer is not None:
                self.writer.close()
            if self.lock is not None:
                self.lock.release()
        run_dir = self.writer.run_dir if self.writer else None
        if stop_reason is not None:
            self.say(f"stopped by {stop_reason} at {self.cur_nimg / 1000:.3f} kimg; continue with: "
                     f"likeness train --resume {run_dir}")
            return 143 if stop_reason == "SIGTERM" else 130
        self.say(f"done: {self.cur_nimg / 1000:.3f} kimg in {run_dir}")
        return 0

    def end_tick(self, record: dict[str, Any], write_snapshot: bool, write_grid: bool) -> None:
        """Rank 0: log the tick, then write the snapshot and grid it names (named first, so that a resume can
        delete what the lost work wrote)."""
        label = self.writer.label(self.cur_nimg) if write_snapshot or write_grid else None
        if label is not None:
            record["grid"] = f"fakes{label}.png"
        if write_snapshot:
            record["snapshot"] = f"snapshot-{label}.pt"
        self.writer.tick(record)
        self.say(self.status_line(record))
        if write_snapshot:
            self.writer.snapshot(self.payload(), label)
        if label is not None:
            self.writer.grid(self.render_fakes(), record["grid"])
        if write_snapshot:
            self.say(f"wrote {record['snapshot']} and {record['grid']}")

    def announce(self) -> None:
        t, cfg, env = self.t, self.cfg, self.env
        ds = cfg["dataset"]
        n_g = sum(p.numel() for p in self.G.parameters())
        n_d = sum(p.numel() for p in self.D.parameters())
        self.say(f"run folder: {self.writer.run_dir}")
        for note in self.plan.notes:
            self.say(note)
        self.say(f"dataset: {ds['path']} ({ds['size']} images, {ds['resolution']}x{ds['resolution']}x"
                 f"{ds['channels']}{', mirrored' if t['mirror'] else ''}, sha256 {ds['sha256'][:12]})")
        self.say(f"networks: G {n_g / 1e6:.2f}M parameters, D {n_d / 1e6:.2f}M; --cfg {t['cfg']}, gamma "
                 f"{t['gamma']:g}, lr G {t['lr_G']:g} D {t['lr_D']:g}, ema {t['ema_kimg']:g} kimg")
        self.say(f"batch {t['batch']} = {env.world_size} process{'es' if env.world_size > 1 else ''} x "
                 f"{self.rounds_global // env.world_size} round(s) x {t['batch_gpu']}; device {self.device.type}, "
                 f"precision {t['precision']}{', compiled' if t['compile'] else ''}; "
                 f"training to {t['kimg']:g} kimg, snapshot every {t['snap']:g} kimg")


def train(plan: Plan, env: DistEnv, out=sys.stdout) -> int:
    """Run the plan in this process (one rank of a torchrun job, or alone). Returns the exit code."""
    stop = StopRequest(env, announce=env.is_main)
    stop.install()
    try:
        return Trainer(plan, env, stop, out=out).run()
    finally:
        stop.restore()
