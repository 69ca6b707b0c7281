"""`likeness evaluate RUN` and `likeness report RUN`."""

from __future__ import annotations

import argparse
import sys

from evaluation.cli_fid import add_inception_flag
from training import cli_common as cc

DESCRIPTION_TEMPLATE = """\
Measure the snapshots of a training run against the real frames, append the numbers to the run's metrics.jsonl
and write report.html / report.md in the run folder.

For every snapshot (or each --snapshot): --num-fakes generated images (fake i is seed i: z as NVIDIA's
generate.py draws it, truncation 1, fresh noise per image as fid50k_full; with --noise-mode const,
`likeness generate SNAPSHOT --seeds 17` shows exactly fake 17) go through the TensorFlow Inception network with
NVIDIA's preprocessing, and are compared with ALL real frames by each metric (--metrics picks some):

{metrics}

Real features are cached by dataset sha256 (under $LIKENESS_CACHE). A measurement already in metrics.jsonl (same
snapshot content, metric, number of fakes, real set, Inception weights and fake settings) is not repeated unless
--force. The best snapshot (lowest FID) is pinned in pins.json so that training's retention never deletes it.
The report files in the run folder are rewritten each time (they are a view of metrics.jsonl).

Several GPUs: run the same command under torchrun; the fakes are split across the processes."""

def description() -> str:
    """The --help text with one line per registered metric (evaluation/measures)."""
    from evaluation.measures import help_lines

    return DESCRIPTION_TEMPLATE.replace("{metrics}", help_lines())


REPORT_DESCRIPTION = """\
Redraw report.html, report.md and report/ in a run folder from its metrics.jsonl, without measuring anything.
The fakes shown are drawn again from the best snapshot (fake i is seed i, exactly as measured) and the real frames
read from the dataset, when both are still there unchanged; otherwise the report says what it cannot show."""

EPILOG = """\
examples:
  likeness evaluate runs/ana/00001-ana-10fps-...                      every snapshot, 50,000 fakes each
  likeness evaluate RUN --snapshot snapshot-001200.pt --num-fakes 10000
  likeness evaluate RUN --data ana-10fps.zip --metrics fid,kid
  torchrun --standalone --nproc-per-node 4 -m likeness evaluate RUN  split the fakes over 4 GPUs
  likeness report RUN                                                 redraw the report from metrics.jsonl"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from evaluation.measures import METRICS

    names = [m.name for m in METRICS]
    p = cc.add_command(subparsers, "evaluate", run, help="FID, KID, precision/recall, coverage and the other metrics "
                       "of a run's snapshots, with a report", description=description(), epilog=EPILOG)
    p.add_argument("run", metavar="RUN", help="the run folder (runs/<person>/<NNNNN>-...)")
    p.add_argument("--data", metavar="DATASET",
                   help="the real frames (dataset zip or image folder); default: the dataset recorded in the run's "
                        "config.json, if it is still there unchanged")
    p.add_argument("--snapshot", action="append", metavar="S",
                   help="evaluate only this snapshot (a file name in RUN or a path); repeat for several; "
                        "default: every snapshot")
    p.add_argument("--num-fakes", type=cc.positive_int, default=50_000, metavar="N",
                   help="generated images per snapshot (default: 50000, as fid50k_full; fewer raise FID)")
    p.add_argument("--metrics", default=",".join(names), metavar="LIST",
                   help=f"comma-separated: {','.join(names)} (default: all)")
    p.add_argument("--batch", type=cc.positive_int, default=64, metavar="N",
                   help="images per generator and Inception batch (default: 64)")
    cc.add_device_flag(p)
    p.add_argument("--workers", type=cc.non_negative_int, default=None, metavar="N",
                   help="processes decoding real frames (default: 8 on a GPU, 0 on the CPU)")
    p.add_argument("--trunc", type=cc.finite_float, default=1.0, metavar="PSI",
                   help="truncation psi of the fakes (default: 1 = none, as published FIDs)")
    p.add_argument("--noise-mode", choices=("const", "random"), default="random",
                   help="random (default): fresh noise per image, as NVIDIA's fid50k_full draws it, so the FID "
                        "compares with published figures (seeded per batch: the same fakes every run); const: the "
                        "stored noise, as the renderer and `likeness generate` show the model")
    p.add_argument("--copy-percentile", type=cc.float_between(0, 100, inclusive=False), default=5.0, metavar="P",
                   help="a fake is a near-copy when nearer to a training frame than P%% of real frames are to "
                        "their nearest non-adjacent frame (default: 5)")
    p.add_argument("--copy-window", type=cc.non_negative_float, default=1.0, metavar="SECONDS",
                   help="frames this close in time to a real frame, from the same source, are not its "
                        "reference neighbours (default: 1)")
    cc.add_force_flag(p, help="measure again what metrics.jsonl already holds")
    p.add_argument("--no-report", action="store_true", help="do not rewrite report.html / report.md")
    cc.add_quiet_flag(p, help="no progress bars (results and notes still print)")
    add_inception_flag(p)

    r = cc.add_command(subparsers, "report", run_report, help="redraw a run's report.html / report.md from its "
                       "metrics.jsonl", description=REPORT_DESCRIPTION)
    r.add_argument("run", metavar="RUN", help="the run folder")
    cc.add_device_flag(r, default="cpu", help="where the few pictures are generated (default: cpu)")


def say(text: str) -> None:
    print(text, file=sys.stderr if text.startswith("note:") else sys.stdout, flush=True)


def run(args: argparse.Namespace) -> int:
    from evaluation.evaluate import EvaluateOptions, evaluate_run, parse_metrics

    opts = EvaluateOptions(num_fakes=args.num_fakes, metrics=parse_metrics(args.metrics), batch=args.batch,
                           device=args.device, truncation_psi=args.trunc, noise_mode=args.noise_mode,
                           force=args.force, copy_percentile=args.copy_percentile, copy_window_s=args.copy_window,
                           workers=args.workers, inception=args.inception, report=not args.no_report,
                           progress=cc.shows_progress(args))
    evaluate_run(args.run, args.data, args.snapshot, opts, say=say)
    return cc.exit_after_torchrun(0)


def run_report(args: argparse.Namespace) -> int:
    from evaluation.evaluate import open_run
    from evaluation.metrics_log import METRICS_NAME, read_metrics
    from evaluation.report import write_report
    from training.errors import UsageError

    run_dir, _ = open_run(args.run)
    if not read_metrics(run_dir):
        raise UsageError(f"{run_dir} has no {METRICS_NAME} yet; measure it first with `likeness evaluate {run_dir}`")
    path = write_report(run_dir, device=cc.resolve_device(args.device))
    print(f"report: {path}")
    return 0
