"""`likeness dataset ...`: looking after dataset zips (`info`: provenance, counts, verification)."""

from __future__ import annotations

import argparse
import json

from training import cli_common as cc

INFO_DESCRIPTION = """\
Print what a dataset is (person, consent, sources with their sha256, fps, fit, size, tool) and verify that it
will train: every frame decodes, all frames have one size, the size is square and a power of two, and the
counts agree with dataset.json. Works on zips made by `likeness prepare`, NVIDIA dataset_tool zips and folders
of images. Exit status 1 (with the first problem on stderr) when verification fails.
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("dataset", help="inspect and verify dataset zips",
                              description="Inspect dataset zips made by `likeness prepare` (or NVIDIA's tool).")
    sub = p.add_subparsers(dest="dataset_command", metavar="ACTION", required=True)
    info = cc.add_command(sub, "info", run_info, help="provenance, counts and a full verification of one dataset",
                          description=INFO_DESCRIPTION)
    info.add_argument("dataset", metavar="ZIP", help="dataset zip (or folder of images)")
    info.add_argument("--json", action="store_true", help="print one JSON object (for scripts) instead of text")
    cc.add_quiet_flag(info, help="no progress bar while verifying")


def run_info(args) -> int:
    from training.footage.dataset_info import format_report, inspect_dataset, report_json
    from training.errors import DataError

    report = inspect_dataset(args.dataset, progress=cc.shows_progress(args))
    if args.json:
        print(json.dumps(report_json(report), ensure_ascii=False))
    else:
        print("\n".join(format_report(report)))
    if not report.ok:
        raise DataError(f"{args.dataset}: {report.problems[0]}")
    return 0
