"""What `likeness show` needs to take OSC: its flags, and one object that starts and stops the pieces together.

    from installation import osc_session

    osc_session.add_osc_flags(parser)                         # --osc HOST:PORT, --osc-allow CIDR..., --oscquery PORT
    ...
    with osc_session.open_session(osc_session.settings_from(args), limits, clock=show_clock,
                                  status=current_status, values=current_values_now) as osc:
        print(osc.summary())
        while running:
            for event in osc.drain(show_time):                # logged to performances/<UTC>.jsonl as handed out
                state = control.apply(state, event, limits)

`values` returns `osc_publish.current_values(state, t, limits)` for OSCQuery; `status` returns `osc_server.Status`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from installation.control import ControlEvent, ControlLimits
from installation.osc_publish import OscQueryServer, oscquery_tree
from installation.osc_server import DEFAULT_HOST, DEFAULT_PORT, OscServer, Status, cidr, parse_host_port
from installation.performance_log import PerformanceLog
from training import cli_common as cc


@dataclass(frozen=True)
class OscSettings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    allow: tuple[str, ...] = ()
    oscquery_port: int | None = None
    log_folder: Path | None = Path("performances")   # None: no performance log (tests, rehearsal)


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


def settings_from(args: argparse.Namespace) -> OscSettings:
    host, port = args.osc
    return OscSettings(host, port, tuple(args.osc_allow), args.oscquery, Path(args.performances))


class OscSession:
    """The OSC server, its performance log and the optional OSCQuery server, started and stopped together."""

    def __init__(self, settings: OscSettings, limits: ControlLimits, clock: Callable[[], float],
                 status: Callable[[], Status] | None = None,
                 values: Callable[[], dict[str, list]] | None = None) -> None:
        self.server = OscServer(limits, clock, host=settings.host, port=settings.port, allow=settings.allow,
                                status=status)
        self.query: OscQueryServer | None = None
        self.log: PerformanceLog | None = None
        try:
            if settings.oscquery_port is not None:
                self.query = OscQueryServer(settings.oscquery_port,
                                            lambda: oscquery_tree(self.server.limits, values() if values else {}),
                                            osc_port=self.server.address[1])
            if settings.log_folder is not None:
                self.log = PerformanceLog.in_folder(settings.log_folder)
        except BaseException:
            self.close()
            raise
        self.server.performance_log = self.log

    def start(self) -> "OscSession":
        self.server.start()
        if self.query is not None:
            self.query.start()
        return self

    def drain(self, now_show_time: float) -> list[ControlEvent]:
        return self.server.drain(now_show_time)

    def summary(self) -> str:
        """One line for the console: where OSC listens, the receive buffer the OS granted, where the log goes."""
        host, port = self.server.address
        parts = [f"OSC on {host}:{port}", f"receive buffer {self.server.receive_buffer_granted // 1024} KiB "
                 f"(asked {self.server.receive_buffer_requested // 1024} KiB; Linux reports double what it keeps)"]
        if self.query is not None:
            parts.append(f"OSCQuery on http://127.0.0.1:{self.query.port}/")
        if self.log is not None:
            parts.append(f"performance log {self.log.path}")
        return ", ".join(parts)

    def close(self) -> None:
        if self.query is not None:
            self.query.stop()
        self.server.stop()
        if self.log is not None:
            self.log.close()

    def __enter__(self) -> "OscSession":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


def open_session(settings: OscSettings, limits: ControlLimits, clock: Callable[[], float],
                 status: Callable[[], Status] | None = None,
                 values: Callable[[], dict[str, list]] | None = None) -> OscSession:
    """An OscSession, not yet started (use it in a `with`)."""
    return OscSession(settings, limits, clock, status, values)
