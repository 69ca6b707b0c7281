"""The OSC flags of `likeness show` (and anything else that listens): --osc, --osc-allow, --oscquery, --performances.

Only parsers here; `settings_from(args)` gives the `OscSettings` that `osc_session.open_session` takes.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from installation.net_address import DEFAULT_HOST, DEFAULT_PORT, cidr, parse_host_port
from training import cli_common as cc

if TYPE_CHECKING:
    from installation.osc_session import OscSettings


def add_osc_flags(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """`--osc HOST:PORT`, `--osc-allow CIDR...`, `--oscquery PORT`, `--performances DIR`."""
    parser.add_argument("--osc", type=cc.from_parser(parse_host_port, "e.g. --osc 127.0.0.1:9000"),
                        default=(DEFAULT_HOST, DEFAULT_PORT), metavar="HOST:PORT",
                        help=f"where to listen for OSC (default: {DEFAULT_HOST}:{DEFAULT_PORT})")
    parser.add_argument("--osc-allow", nargs="+", default=[], metavar="CIDR",
                        type=cc.from_parser(cidr, "e.g. 192.168.1.0/24 or 10.0.0.7/32"),
                        help="who may send controls; required when --osc is not a loopback address")
    parser.add_argument("--oscquery", type=cc.int_between(0, 65535), default=None, metavar="PORT",
                        help="publish the address space as OSCQuery JSON over HTTP on 127.0.0.1:PORT")
    parser.add_argument("--performances", default="performances", metavar="DIR",
                        help="where each performance's control log goes (default: performances/)")


def settings_from(args: argparse.Namespace) -> "OscSettings":
    """The parsed flags as `osc_session.OscSettings`."""
    from installation.osc_session import OscSettings  # noqa: F811 - at run time, not at --help

    host, port = args.osc
    return OscSettings(host, port, tuple(args.osc_allow), args.oscquery, Path(args.performances))
