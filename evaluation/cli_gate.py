"""`likeness gate`: decide which sitters' models enter the show, and record it in registry.yaml."""

from __future__ import annotations

import argparse
import sys

from training import cli_common as cc

USAGE = """\
likeness gate --rules gate.yaml RUN... [--registry registry.yaml]
       likeness gate approve PERSON --snapshot PATH --reason TEXT [--registry registry.yaml]
       likeness gate exclude PERSON --reason TEXT [--registry registry.yaml]
       likeness gate reset PERSON [--registry registry.yaml]"""

DESCRIPTION = """\
For each person with a run among RUN..., take the best snapshot by FID across their runs (from the runs'
metrics.jsonl, written by `likeness evaluate`) and approve it when it meets the rules, otherwise exclude the
person with the reason in words ("FID 114.2 is above the threshold 50"). The decisions go to registry.yaml, the
only place the renderer loads models from; it keeps each snapshot's sha256 and checks it before a show.

Only FIDs measured the same way are compared: against the same real set (dataset sha256; when a person's runs were
measured against different sets, the newest measurement's set, and the verdict says so), the largest number of
fakes measured, the reference Inception weights before others. An approved snapshot is pinned in its run's pins.json so that training never deletes it.

The rules file (YAML):
  fid_max: 50                 the FID threshold for everyone (required, here or per person)
  kid_max: 0.02               optional: KID threshold
  memorisation_max: 0.05      optional: the largest share of near-copies of training frames (0.05 = 5%)
  coverage_min: 0.5           optional: the smallest share of real frames with a fake nearby (evaluate's coverage)
  diversity_min: 0.8          optional: the smallest diversity ratio, fakes' over reals' (below: mode collapse)
  persons:
    bo: {fid_max: 120}        per-person thresholds override the defaults

A value at the threshold passes. Unknown keys are refused, naming them, and nothing is written.

Running the gate again with the same inputs changes nothing (the file stays byte-identical); persons not among
RUN... keep their entries. Manual decisions override the rules and are kept by every later automatic run:
  approve PERSON --snapshot PATH --reason TEXT   approve this snapshot, whatever its FID
  exclude PERSON --reason TEXT                   keep the person out (e.g. consent withdrawn)
  reset PERSON                                   forget the manual decision; the next gate run decides again"""

EPILOG = """\
examples:
  likeness gate --rules gate.yaml runs/ana/00001-ana-10fps-... runs/bo/00000-bo-1fps-...
  likeness gate --rules gate.yaml runs/                       every run folder below runs/
  likeness gate approve bo --snapshot runs/bo/00002-.../snapshot-000800.pt --reason "FID 52, approved by the artist"
  likeness gate exclude cy --reason "consent withdrawn on 2026-11-20"
"""

ACTIONS = ("approve", "exclude", "reset")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    # approve|exclude|reset are words among the RUN arguments, not argparse subparsers: a subparser would refuse
    # `likeness gate --rules gate.yaml RUN...`, whose first RUN is not an action name.
    p = cc.add_command(subparsers, "gate", run, help="approve or exclude each sitter's best snapshot by FID; writes "
                       "registry.yaml", usage=USAGE, description=DESCRIPTION, epilog=EPILOG)
    p.add_argument("items", nargs="*", metavar="RUN",
                   help="run folders (or folders holding them); or approve|exclude|reset PERSON")
    p.add_argument("--rules", metavar="gate.yaml", help="the thresholds (see above)")
    p.add_argument("--registry", default="registry.yaml", metavar="FILE",
                   help="the registry to write (default: registry.yaml in the current folder)")
    p.add_argument("--snapshot", metavar="PATH", help="approve: the snapshot file to approve")
    p.add_argument("--reason", metavar="TEXT", help="approve / exclude: why, in words (kept in the registry)")


def _manual(args: argparse.Namespace) -> int:
    from evaluation import gate
    from training.errors import UsageError

    action = args.items[0]
    if len(args.items) != 2:
        raise UsageError(f"give one PERSON: likeness gate {action} PERSON" +
                         (" --snapshot PATH --reason TEXT" if action == "approve" else
                          " --reason TEXT" if action == "exclude" else ""))
    if args.rules:
        raise UsageError(f"--rules is for automatic decisions; `gate {action}` records a manual one")
    person = args.items[1]
    if action == "approve":
        if not args.snapshot or args.reason is None:
            raise UsageError("gate approve needs --snapshot PATH and --reason TEXT")
        entry = gate.approve(args.registry, person, args.snapshot, args.reason)
        fid = f" (FID {entry['fid']:.1f})" if entry.get("fid") is not None else ""
        print(f"{person}: approved by hand: {entry['snapshot']}{fid}; recorded in {args.registry}")
        return 0
    if args.snapshot:
        raise UsageError(f"--snapshot belongs to gate approve, not gate {action}")
    if action == "exclude":
        if args.reason is None:
            raise UsageError("gate exclude needs --reason TEXT")
        gate.exclude(args.registry, person, args.reason)
        print(f"{person}: excluded by hand; recorded in {args.registry}")
        return 0
    if args.reason is not None:
        raise UsageError("gate reset takes no --reason")
    if gate.reset(args.registry, person):
        print(f"{person}: manual decision removed from {args.registry}; the next `likeness gate --rules ...` "
              "decides by the rules")
    else:
        print(f"{person}: the decision in {args.registry} is already automatic; nothing to reset")
    return 0


def run(args: argparse.Namespace) -> int:
    from training.errors import UsageError

    if args.items and args.items[0] in ACTIONS:
        return _manual(args)
    if args.snapshot or args.reason is not None:
        raise UsageError("--snapshot and --reason belong to `likeness gate approve|exclude PERSON`")
    if not args.rules:
        raise UsageError("give the thresholds with --rules gate.yaml (e.g. a file holding `fid_max: 50`)")
    if not args.items:
        raise UsageError("give the run folders to gate: likeness gate --rules gate.yaml RUN...")

    from evaluation.gate import run_gate, summary_table

    outcome = run_gate(args.rules, args.items, args.registry)
    for note in outcome.notes:
        print(note, file=sys.stderr)
    print(summary_table(outcome.persons, outcome.gated))
    approved = sum(outcome.persons[p]["status"] == "approved" for p in outcome.gated)
    kept = f"; {len(outcome.kept_manual)} manual decision(s) kept" if outcome.kept_manual else ""
    print(f"{'wrote' if outcome.changed else 'unchanged:'} {args.registry} ({approved} approved, "
          f"{len(outcome.gated) - approved} excluded{kept})")
    return 0
