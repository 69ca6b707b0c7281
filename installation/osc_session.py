"""What `likeness show` needs to take OSC: one object that starts and stops the pieces together.

    from installation import cli_osc_flags, osc_session

    cli_osc_flags.add_osc_flags(parser)     # in cli_show.py: --osc HOST:PORT, --osc-allow CIDR..., --oscquery PORT
    ...
    with osc_session.open_session(cli_osc_flags.settings_from(args), limits, clock=show_clock,
                                  status=current_status, values=current_values_now) as osc:
        print(osc.summary())
        while running:
            for event in osc.drain(show_time):                # logged to performances/<UTC>.jsonl as handed out
                state = control.apply(state, event, limits)

`values` returns `osc_publish.current_values(state, t, limits)` for OSCQuery; `status` returns `osc_server.Status`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from installation.control import ControlEvent, ControlLimits
from installation.osc_publish import OscQueryServer, oscquery_tree
from installation.net_address import DEFAULT_HOST, DEFAULT_PORT
from installation.osc_server import OscServer, Status
from installation.performance_log import PerformanceLog


@dataclass(frozen=True)
class OscSettings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    allow: tuple[str, ...] = ()
    oscquery_port: int | None = None
    log_folder: Path | None = Path("performances")   # None: no performance log (tests, rehearsal)


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
