"""`likeness train`: one StyleGAN2 per sitter, in a run folder that survives crashes and can be continued."""

from __future__ import annotations

import argparse

from training import cli_common as cc

DESCRIPTION = """\
Train StyleGAN2 (config F) on one sitter's dataset.

Writes runs/<person>/<NNNNN>-<desc>/ with config.json, log.jsonl (one line per tick), reals.png, fakes_init.png,
fakesNNNNNN.png (the same seeds at every snapshot: flip through them like a filmstrip) and snapshot-NNNNNN.pt
every --snap kimg (NNNNNN = thousands of images shown). The last --keep snapshots are kept, plus any listed in
pins.json ("best", "approved"). Ctrl-C or SIGTERM finishes the step, writes a snapshot and exits; a crash or
SIGKILL loses at most the work since the last snapshot. Defaults follow NVIDIA's stylegan2-ada-pytorch --cfg
table, except: no augmentation and no mirroring.

Several GPUs: run the same command under torchrun (python -m torch.distributed.run --standalone
--nproc-per-node N -m likeness train ...); the batch is split over the processes, only rank 0 writes."""

EPILOG = """\
examples:
  pre-train on the 1 fps set, then fine-tune the result on the 10 fps set:
    likeness train --data ana-1fps.zip --kimg 2000
    likeness train --data ana-10fps.zip --kimg 1000 \\
        --init runs/ana/00000-ana-1fps-auto-batch16-gamma0.8192/snapshot-002000.pt
  continue an interrupted run exactly where its last snapshot left it (optionally for longer):
    likeness train --resume runs/ana/00001-ana-10fps-auto-batch16-gamma0.8192-init --kimg 1500
  see what a command would do without training:
    likeness train --data ana-1fps.zip --cfg paper256 --dry-run"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    # Ranges are checked by TrainOptions.validate (so a script's options get the same checks); argparse refuses
    # what is not a finite number at all.
    p = cc.add_command(subparsers, "train", run, help="train one StyleGAN2 per sitter (run folder, snapshots, "
                       "resume)", description=DESCRIPTION, epilog=EPILOG)
    g = p.add_argument_group("what to train on and where")
    g.add_argument("--data", metavar="PATH", help="dataset zip (likeness prepare or NVIDIA dataset_tool) or image "
                   "folder; square, power-of-two images. Required unless --resume")
    cc.add_output_flag(g, metavar="DIR", help="where run folders go: DIR/<person>/<NNNNN>-<desc> (default: runs)")
    g.add_argument("--person", metavar="NAME", help="the sitter's name for the run folder (default: the person "
                   "recorded in the dataset by likeness prepare; required for datasets that do not say)")
    g.add_argument("--cond", action="store_true", default=None, help="class-conditional: train on the dataset's "
                   "labels (dataset.json 'labels')")

    g = p.add_argument_group("how long, and what gets written")
    g.add_argument("--kimg", type=cc.finite_float, metavar="KIMG",
                   help="train until this many thousand images have been "
                   "shown (default: the preset's, 25000)")
    g.add_argument("--tick", type=cc.finite_float, metavar="KIMG", help="progress line and log.jsonl entry every KIMG "
                   "(default: 4)")
    g.add_argument("--snap", type=cc.finite_float, metavar="KIMG",
                   help="snapshot-NNNNNN.pt and fakesNNNNNN.png every KIMG "
                   "(default: 200)")
    g.add_argument("--grid", type=cc.finite_float, metavar="KIMG", help="also write the fakes grid every KIMG between "
                   "snapshots (default: only with snapshots)")
    g.add_argument("--keep", type=cc.whole_number, metavar="K",
                   help="keep the newest K snapshots plus pinned ones; 0 keeps "
                   "all (default: 5)")

    g = p.add_argument_group("hyperparameters (defaults: the --cfg preset)")
    g.add_argument("--cfg", choices=("auto", "stylegan2", "paper256", "paper512", "paper1024"),
                   help="NVIDIA's stylegan2-ada-pytorch preset (default: auto, derived from resolution and GPU "
                   "count; with --init: the parent run's settings)")
    g.add_argument("--batch", type=cc.whole_number, metavar="N", help="total batch over all GPUs")
    g.add_argument("--batch-gpu", type=cc.whole_number, metavar="N",
                   help="images per GPU per round (default: batch / GPUs); "
                   "lower it when a GPU runs out of memory: gradients are accumulated over more rounds; must be a "
                   "multiple of the minibatch-stddev group")
    g.add_argument("--lr", type=cc.finite_float, metavar="LR", help="Adam learning rate of G and D")
    g.add_argument("--glr", type=cc.finite_float, metavar="LR", help="learning rate of G only (overrides --lr)")
    g.add_argument("--dlr", type=cc.finite_float, metavar="LR", help="learning rate of D only (overrides --lr)")
    g.add_argument("--gamma", type=cc.finite_float, metavar="G", help="R1 regularisation weight (0 turns R1 off)")
    g.add_argument("--mirror", action="store_true", default=None, help="add left-right flipped copies of every "
                   "frame (default: off; flipped faces lose the sitter's asymmetries and may flip mid-walk)")
    g.add_argument("--augment", choices=("none",), help="augmentation: only 'none' exists (default: none; ADA "
                   "made our users' runs collapse into blur)")
    g.add_argument("--seed", type=cc.whole_number, metavar="N",
                   help="seed of initial weights, data order and every random "
                   "draw (default: 0)")

    g = p.add_argument_group("architecture (advanced; default: the --cfg preset)")
    g.add_argument("--cbase", type=cc.whole_number, metavar="N", help="channel_base: channels at resolution r are "
                   "min(cbase / r, cmax)")
    g.add_argument("--cmax", type=cc.whole_number, metavar="N", help="channel_max")
    g.add_argument("--map", type=cc.whole_number, metavar="N", help="mapping network depth")
    g.add_argument("--w-dim", type=cc.whole_number, metavar="N", help="width of z and w (default: 512)")
    g.add_argument("--mbstd-group", type=cc.whole_number, metavar="N", help="minibatch-stddev group size")

    g = p.add_argument_group("speed")
    g.add_argument("--precision", choices=("auto", "fp32", "bf16", "fp16"), help="arithmetic of the 4 highest "
                   "resolutions: auto = bf16 on CUDA, fp32 on CPU; fp16 = NVIDIA's float16 with clamping "
                   "(default: auto)")
    g.add_argument("--compile", action="store_true", default=None, help="torch.compile the generator and "
                   "discriminator for the main phases (slow first tick, faster after)")
    g.add_argument("--workers", type=cc.whole_number, metavar="N", help="data-loading processes (default: 3)")
    cc.add_device_flag(g, help="where to train: auto (CUDA when there is a GPU), cpu, cuda or cuda:N; under "
                       "torchrun each process takes the GPU of its LOCAL_RANK (default: auto)")
    g.add_argument("--deterministic", action="store_true", default=None, help="deterministic kernels: a resumed "
                   "run repeats the uninterrupted one bit for bit on CPU (slower on GPU)")

    g = p.add_argument_group("continuing")
    g.add_argument("--resume", metavar="RUN", help="continue a run folder from its newest snapshot (or from the "
                   "given snapshot inside it) exactly; other flags must agree with its config.json except --kimg, "
                   "--tick, --snap, --grid, --keep, --batch-gpu, --workers, --precision, --compile, "
                   "--deterministic")
    g.add_argument("--init", metavar="SNAPSHOT", help="start a new run from this snapshot's weights (G, G_ema, D; "
                   "fresh optimisers) on --data, e.g. fine-tune a 1 fps model on the 10 fps set; also takes a public "
                   "NVIDIA .pkl or rosinality .pt directly (opened without running code from it; a file without D "
                   "gets a fresh one); same resolution required; config.json records the chain of parents and "
                   "datasets")
    g.add_argument("--dry-run", action="store_true", help="check the inputs and print the resolved config as "
                   "JSON; write nothing")
    cc.add_quiet_flag(g, help="no kimg progress bar (the tick lines still print)")


def options_from_args(args: argparse.Namespace):
    """The parsed flags as the library's TrainOptions (-o/--out is where run folders go)."""
    from dataclasses import fields

    from training.train_options import TrainOptions

    values = {f.name: getattr(args, f.name) for f in fields(TrainOptions) if f.name != "outdir"}
    return TrainOptions(outdir=args.out, **values)


def run(args: argparse.Namespace) -> int:
    import json
    import os
    import sys

    options = options_from_args(args)
    if options.deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # must be set before cuBLAS starts
    from training import distributed
    from training.train_config import make_plan

    env = distributed.setup(options.device)
    try:
        plan = make_plan(options, env.world_size)
        if options.dry_run:
            if env.is_main:
                print(json.dumps(plan.config, indent=2))
            return 0
        if env.is_main and plan.config["training"]["mirror"]:
            print("likeness train: warning: --mirror trains on left-right flipped copies of every frame; the "
                  "sitter's asymmetries (parting, scars, light) get averaged and faces may flip mid-walk",
                  file=sys.stderr)
        from training.loop import train

        code = train(plan, env, progress=cc.shows_progress(args))
        distributed.barrier(env)  # rank 0 may still be writing its last snapshot
    finally:
        distributed.teardown(env)
    return cc.exit_after_torchrun(code)
