"""The run loop: ticks, snapshots and the run folder. One function, `train(plan, env)`, run by every process.

The maths of a step lives in training/train_step.py (`TrainingState`); this module decides when a tick ends and
a snapshot or grid is due, and `RunReport` (rank 0 only) writes the run folder and the terminal lines. The
decisions are integer arithmetic on the image count, so every rank makes them at the same step.

Ticks end every --tick kimg (and after the first step, for early feedback); snapshots land at the first step at or
past each multiple of --snap kimg, whatever the tick boundaries, so an interrupted and resumed run writes the
same snapshots as an uninterrupted one.
"""

from __future__ import annotations

import math
import resource
import sys
import time
from typing import Any

import numpy as np
import torch

from training.distributed import DistEnv, StopRequest
from training.errors import LikenessError
from training.grids import FakesGrid, tile
from training.run_folder import RunLock, RunWriter, clear_unstarted, forget_after, new_run_dir, write_config
from training.sampling import batches, make_loader
from training.train_config import Plan, label_table
from training.train_step import TrainingState

STAT_ORDER = ("loss_G", "loss_D", "loss_D_real", "loss_D_fake", "r1_penalty", "pl_penalty", "score_real",
              "score_fake")


# -- when -----------------------------------------------------------------------------------------------------------


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


# -- what a tick reports ----------------------------------------------------------------------------------------------


def tick_record(state: TrainingState, elapsed_s: float, tick_nimg: int, tick_seconds: float,
                maintenance: float) -> dict[str, Any]:
    """The log.jsonl line of a tick (every rank computes it: the loss means are summed over all processes)."""
    losses = state.read_stats()
    record = dict(tick=state.cur_tick, kimg=round(state.cur_nimg / 1000, 3), nimg=state.cur_nimg,
                  time=time.time(), elapsed_s=round(elapsed_s, 3), sec_per_tick=round(tick_seconds, 4),
                  sec_per_kimg=round(tick_seconds / (tick_nimg / 1000), 4),
                  img_per_s=round(tick_nimg / max(tick_seconds, 1e-9), 3), maintenance_s=round(maintenance, 3))
    for name in STAT_ORDER:
        if name in losses:
            record[name] = losses[name]
    record["pl_mean"] = float(state.loss.pl_mean)
    if state.device.type == "cuda":
        record["gpu_mem_peak_gb"] = round(torch.cuda.max_memory_allocated(state.device) / 2 ** 30, 3)
        torch.cuda.reset_peak_memory_stats(state.device)
    record["cpu_mem_peak_gb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20, 3)
    return record


def status_line(r: dict[str, Any]) -> str:
    """The terminal line of a tick record."""
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


# -- the run folder and the terminal (rank 0) ---------------------------------------------------------------------


class RunReport:
    """Rank 0's side of a run: the folder (config, log, snapshots, grids), its lock, and the lines it prints.

    On other ranks it prints and writes nothing."""

    def __init__(self, plan: Plan, state: TrainingState, out=sys.stdout, progress: bool = True):
        self.plan = plan
        self.progress = progress  # the kimg bar (on a terminal); tick lines print either way
        self.cfg = plan.config
        self.state = state
        self.active = state.env.is_main
        self.out = out
        self.writer: RunWriter | None = None
        self.lock: RunLock | None = None
        self.fakes: FakesGrid | None = None  # made when first drawn

    @property
    def run_dir(self):
        return self.writer.run_dir if self.writer else None

    def say(self, text: str) -> None:
        if self.active:
            from tqdm import tqdm

            tqdm.write(text, file=self.out)
            self.out.flush()

    def render_fakes(self) -> np.ndarray:
        """The fixed seed grid drawn by G_ema (labels of the grid's reals for conditional models)."""
        if self.fakes is None:
            grid, c_dim = self.cfg["grid"], self.state.c_dim
            labels = label_table(self.plan.dataset, c_dim)[torch.tensor(grid["reals"])] if c_dim else None
            self.fakes = FakesGrid(grid["seeds"], self.state.G.z_dim, labels, grid["cols"], grid["rows"])
        return self.fakes.render(self.state.G_ema, self.state.settings.batch_gpu, self.state.device)

    def open(self) -> None:
        """Create or reopen the folder, lock it, write config, reals and the initial fakes, say what runs."""
        if not self.active:
            return
        plan, cfg, s = self.plan, self.cfg, self.state.settings
        cur_nimg = self.state.cur_nimg
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
            forget_after(run_dir, cur_nimg)
        elif plan.restart:
            clear_unstarted(run_dir)
        fractional = any(v is not None and float(v) != int(float(v)) for v in (s.snap, s.grid))
        self.writer = RunWriter(run_dir, cfg, int(s.keep), fractional)
        if plan.mode == "resume":
            self.writer.last_snapshot = plan.snapshot
            self.writer.log.append(dict(event="resume", nimg=cur_nimg, kimg=cur_nimg / 1000,
                                        snapshot=plan.snapshot.name, time=time.time(),
                                        changed=cfg["resumes"][-1]["changed"]))
        write_config(run_dir, cfg)
        self.writer.open_tensorboard(resumed_at=cur_nimg if plan.mode == "resume" else None)
        if plan.mode == "resume":
            own_grid = run_dir / ("fakes" + plan.snapshot.name[len("snapshot-"):-len(".pt")] + ".png")
            if not own_grid.exists():  # killed between writing the snapshot and its grid
                self.writer.grid(self.render_fakes(), own_grid.name)
        else:
            grid = cfg["grid"]
            self.writer.grid(tile(np.stack(reals), grid["cols"], grid["rows"]), "reals.png")
            self.writer.grid(self.render_fakes(), "fakes_init.png")
        self.announce()

    def snapshot_payload(self, elapsed_s: float) -> dict[str, Any]:
        dataset = dict(likeness=self.plan.dataset.provenance, sha256=self.cfg["dataset"]["sha256"])
        return dict(G_kwargs=self.cfg["G_kwargs"], D_kwargs=self.cfg["D_kwargs"],
                    **self.state.state_dicts(elapsed_s), config=self.cfg, dataset=dataset,
                    chain=self.cfg.get("chain", []))

    def end_tick(self, record: dict[str, Any], write_snapshot: bool, write_grid: bool, elapsed_s: float) -> None:
        """Log the tick, then write the snapshot and grid it names (named first, so that a resume can delete what
        the lost work wrote)."""
        if not self.active:
            return
        nimg = self.state.cur_nimg
        label = self.writer.label(nimg) if write_snapshot or write_grid else None
        if label is not None:
            record["grid"] = f"fakes{label}.png"
        if write_snapshot:
            record["snapshot"] = f"snapshot-{label}.pt"
        self.writer.tick(record)
        self.say(status_line(record))
        if write_snapshot:
            self.writer.snapshot(self.snapshot_payload(elapsed_s), label)
        if label is not None:
            self.writer.grid(self.render_fakes(), record["grid"])
        if write_snapshot:
            self.say(f"wrote {record['snapshot']} and {record['grid']}")

    def announce(self) -> None:
        s, cfg, env, state = self.state.settings, self.cfg, self.state.env, self.state
        ds = cfg["dataset"]
        n_g = sum(p.numel() for p in state.G.parameters())
        n_d = sum(p.numel() for p in state.D.parameters())
        self.say(f"run folder: {self.writer.run_dir}")
        for note in self.plan.notes:
            self.say(note)
        self.say(f"dataset: {ds['path']} ({ds['size']} images, {ds['resolution']}x{ds['resolution']}x"
                 f"{ds['channels']}{', mirrored' if s.mirror else ''}, sha256 {ds['sha256'][:12]})")
        self.say(f"networks: G {n_g / 1e6:.2f}M parameters, D {n_d / 1e6:.2f}M; --cfg {s.cfg}, gamma "
                 f"{s.gamma:g}, lr G {s.lr_G:g} D {s.lr_D:g}, ema {s.ema_kimg:g} kimg")
        self.say(f"batch {s.batch} = {env.world_size} process{'es' if env.world_size > 1 else ''} x "
                 f"{s.rounds // env.world_size} round(s) x {s.batch_gpu}; device {state.device.type}, "
                 f"precision {s.precision}{', compiled' if s.compile else ''}; "
                 f"training to {s.kimg:g} kimg, snapshot every {s.snap:g} kimg")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        if self.lock is not None:
            self.lock.release()


# -- the loop ------------------------------------------------------------------------------------------------------


def run_loop(state: TrainingState, report: RunReport, stop: StopRequest) -> int:
    """Step until --kimg or a stop request; end ticks, write snapshots and grids when due. Returns the exit code."""
    s, env = state.settings, state.env
    started = time.time()

    def elapsed() -> float:
        return state.elapsed_before + time.time() - started

    total_nimg = int(round(s.kimg * 1000))
    report.open()
    loader = make_loader(report.plan.dataset, mirror=bool(s.mirror), seed=s.seed, batch=s.batch,
                         batch_gpu=s.batch_gpu, rank=env.rank, world_size=env.world_size,
                         start_step=state.batch_idx, workers=int(s.workers), pin_memory=state.device.type == "cuda")
    data = batches(loader)
    pbar = None
    if env.is_main:
        from tqdm import tqdm

        pbar = tqdm(total=round(total_nimg / 1000, 3), initial=round(state.cur_nimg / 1000, 3), unit="kimg",
                    dynamic_ncols=True, disable=None if report.progress else True, file=sys.stderr,
                    bar_format="{l_bar}{bar}| {n:.2f}/{total:.2f} kimg [{elapsed}<{remaining}{postfix}]")
    stop_reason = None
    last_snapshot_nimg = state.cur_nimg if report.plan.mode == "resume" else None
    try:
        tick_start_nimg = state.cur_nimg
        tick_start_time = time.time()
        maintenance = tick_start_time - started
        first = True
        while True:
            images, frames = next(data)
            before = state.cur_nimg
            state.step(images, frames)
            if pbar is not None:
                pbar.update(s.batch / 1000)
            done = state.cur_nimg >= total_nimg
            stopping = stop.should_stop()
            snap_due = _crossed(before, state.cur_nimg, s.snap)
            grid_due = _crossed(before, state.cur_nimg, s.grid)
            tick_due = state.cur_nimg >= tick_start_nimg + s.tick * 1000 or first
            first = False
            if not (done or stopping or snap_due or grid_due or tick_due):
                continue

            record = tick_record(state, elapsed(), state.cur_nimg - tick_start_nimg, time.time() - tick_start_time,
                                 maintenance)
            state.cur_tick += 1  # ticks completed, as a snapshot written now must record
            maintenance_start = time.time()
            write_snapshot = snap_due or done or (stopping and last_snapshot_nimg != state.cur_nimg)
            report.end_tick(record, write_snapshot, grid_due, elapsed())
            if pbar is not None:
                pbar.set_postfix_str(f"{record['sec_per_kimg']:.2f} sec/kimg", refresh=False)
            if write_snapshot:
                last_snapshot_nimg = state.cur_nimg
            tick_start_nimg = state.cur_nimg
            tick_start_time = time.time()
            maintenance = tick_start_time - maintenance_start
            if done:
                break
            if stopping:
                stop_reason = stop.signal_name or "a signal on another rank"
                break
    except torch.OutOfMemoryError as err:
        raise LikenessError(f"the GPU ran out of memory with --batch-gpu {s.batch_gpu}; lower --batch-gpu "
                            "(the batch stays --batch, accumulated over more rounds)") from err
    finally:
        if pbar is not None:
            pbar.close()
        del data
        report.close()
    if stop_reason is not None:
        report.say(f"stopped by {stop_reason} at {state.cur_nimg / 1000:.3f} kimg; continue with: "
                   f"likeness train --resume {report.run_dir}")
        return 143 if stop_reason == "SIGTERM" else 130
    report.say(f"done: {state.cur_nimg / 1000:.3f} kimg in {report.run_dir}")
    return 0


def train(plan: Plan, env: DistEnv, out=sys.stdout, progress: bool = True) -> int:
    """Run the plan in this process (one rank of a torchrun job, or alone). Returns the exit code."""
    stop = StopRequest(env, announce=env.is_main)
    stop.install()
    try:
        state = TrainingState(plan, env)
        return run_loop(state, RunReport(plan, state, out=out, progress=progress), stop)
    finally:
        stop.restore()
