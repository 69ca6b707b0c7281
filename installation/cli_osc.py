"""`likeness osc ADDRESS [ARGS...]`: send one control to a running show (rehearsal, scripts, tests)."""

from __future__ import annotations

import argparse
import re

from installation.net_address import parse_host_port
from training import cli_common as cc

DESCRIPTION = """\
Send one OSC message to a running `likeness show`. ADDRESS is a control of the address space in shows/README.md
('## OSC address space'), written in full (/likeness/speed) or short (speed). Each ARG is sent as an int when it is
written as one (3), a float when it is a number (0.5, 3.0), and as a string otherwise (a scene or person name).
The address, the number of arguments and their types are checked here first; ranges that depend on the show
(scene count, people) are checked by the show, which logs and ignores what it refuses.
`status` waits for the show's reply and prints it.

examples:
  likeness osc scene/goto finale
  likeness osc /likeness/speed 0.5 4        # ease to half speed over 4 seconds
  likeness osc fade 10 --to 192.168.1.20:9000
  likeness osc status
"""

_INT = re.compile(r"[+-]?\d+")


def typed_arg(text: str) -> int | float | str:
    """How a command-line word travels: int, float or string (see the description)."""
    if _INT.fullmatch(text):
        return int(text)
    try:
        return float(text)
    except ValueError:
        return text


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = cc.add_command(subparsers, "osc", run, help="send one control to a running show over OSC",
                       description=DESCRIPTION, usage="likeness osc [-h] [--to HOST:PORT] [--timeout SECONDS] "
                       "ADDRESS [ARGS ...]")
    p.add_argument("address", metavar="ADDRESS", help="e.g. /likeness/go, scene/next, speed")
    p.add_argument("values", nargs="*", metavar="ARGS", help="the control's arguments")
    p.add_argument("--to", type=cc.from_parser(parse_host_port, "give the show's --osc address"),
                   default=("127.0.0.1", 9000), metavar="HOST:PORT", help="the show's OSC port "
                   "(default: 127.0.0.1:9000)")
    p.add_argument("--timeout", type=cc.positive_float, default=2.0, metavar="SECONDS",
                   help="how long `status` waits for the reply (default: 2)")


def run(args: argparse.Namespace) -> int:
    from installation.osc_client import format_status, send_control

    status = send_control(args.to, args.address, [typed_arg(v) for v in args.values], timeout=args.timeout)
    if status is not None:
        print(format_status(status))
    return 0
