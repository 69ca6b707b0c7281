"""`likeness demo-model`: retrain (or repack) the bundled demo model; the command line over installation/demo_model.py."""

from __future__ import annotations

import argparse

from training import cli_common as cc

DESCRIPTION = """\
Train the model `likeness demo` starts from, with the project's own pipeline: film eight invented sitters (60 s
each, the demo's three among them), prepare one 10 fps, 32 px set, train a small StyleGAN2 on it, measure its FID
and pack G_ema and D with their provenance (commands, dataset sha256, kimg, FID) into -o (at most 20 MB).
Everything but the packed model stays in --work, so an interrupted run continues with --resume by hand.
--from-snapshot packs an existing snapshot instead of training.
"""

EPILOG = """\
examples:
  likeness demo-model                     train 100 kimg (hours on a CPU, minutes on a GPU)
  likeness demo-model --kimg 400 --device cuda
  likeness demo-model --from-snapshot demo-model-work/runs/demo-base/00000-.../snapshot-000100.pt
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from installation.demo import BUNDLED_MODEL

    p = cc.add_command(subparsers, "demo-model", run, help="retrain the bundled demo model (one command)",
                       description=DESCRIPTION, epilog=EPILOG)
    cc.add_output_flag(p, default=str(BUNDLED_MODEL), metavar="FILE",
                       help="the packed model (default: the bundled one, inside the package)")
    p.add_argument("--work", default="demo-model-work", metavar="DIR",
                   help="footage, dataset and run folder (default: demo-model-work/)")
    p.add_argument("--kimg", type=cc.positive_float, default=100.0, metavar="KIMG",
                   help="how long to train (default: 100)")
    p.add_argument("--num-fakes", type=cc.positive_int, default=1000, metavar="N",
                   help="fakes for the FID recorded with the model (default: 1000)")
    p.add_argument("--from-snapshot", metavar="SNAPSHOT", help="pack this snapshot instead of training")
    cc.add_device_flag(p)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from installation.demo_model import train_demo_model

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    snapshot = Path(args.from_snapshot) if args.from_snapshot else None
    if snapshot is not None and not snapshot.is_file():
        from training.errors import UsageError

        raise UsageError(f"{snapshot} is not a file; give a snapshot-NNNNNN.pt of a demo-base run")
    train_demo_model(work, Path(args.out), args.kimg, args.device, args.num_fakes, snapshot)
    return 0
