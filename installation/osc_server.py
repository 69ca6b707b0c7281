"""The show's OSC input: a UDP socket read in a background thread, checked messages queued for the render loop.

The render loop calls `drain(now_show_time)` once per frame and folds what it gets into its `ControlState`; every
event handed out is appended to the performance log, so the log holds exactly what was applied. Packets are
parsed by python-osc (`OscPacket`: messages and bundles, nested, with timetags); a bundle timetagged in the future
is held until that wall time, mapped onto show time through the clock callable. We read the socket ourselves
rather than through python-osc's socketserver so that every datagram passes the allow-list, anything malformed is
counted instead of raised, and `status` replies go out of the same socket to the sender.

Binding to anything but loopback needs an allow-list of CIDRs; packets from elsewhere are dropped and counted.
Refusals are logged at most once per kind every few seconds, with how many were refused in between.
"""

from __future__ import annotations

import heapq
import ipaddress
import logging
import math
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket

from installation.control import ControlEvent, ControlLimits
from installation.net_address import DEFAULT_HOST, DEFAULT_PORT, is_loopback, parse_networks
from installation.osc_space import Refused, check_message, lookup
from training.errors import UsageError

RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024
MAX_QUEUED = 100_000
LOG = logging.getLogger("likeness.osc")

class RefusalLog:
    """Logs refused messages at most once per kind every `interval` seconds, with the count since the last line."""

    def __init__(self, interval: float = 5.0, logger: logging.Logger = LOG,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interval, self.logger, self.clock = interval, logger, clock
        self.totals: dict[str, int] = {}
        self._unlogged: dict[str, int] = {}
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def note(self, kind: str, message: str) -> None:
        with self._lock:
            self.totals[kind] = self.totals.get(kind, 0) + 1
            self._unlogged[kind] = self._unlogged.get(kind, 0) + 1
            now = self.clock()
            if kind in self._last and now - self._last[kind] < self.interval:
                return
            count, self._unlogged[kind], self._last[kind] = self._unlogged[kind], 0, now
        more = f" ({count} {kind} since the last such line)" if count > 1 else ""
        self.logger.warning("OSC ignored: %s%s", message, more)


@dataclass(frozen=True)
class Status:
    """What `/likeness/status` replies with."""

    scene_index: int
    scene_name: str
    show_time: float
    fps: float
    dropped_frames: int


class OscServer:
    """UDP OSC in a background thread; `drain(now)` hands checked events to the render loop (see module docstring)."""

    def __init__(self, limits: ControlLimits, clock: Callable[[], float], *, host: str = DEFAULT_HOST,
                 port: int = DEFAULT_PORT, allow: Iterable[str] = (), status: Callable[[], Status] | None = None,
                 performance_log=None, receive_buffer: int = RECEIVE_BUFFER_BYTES,
                 refusals: RefusalLog | None = None) -> None:
        self.allow = parse_networks(allow)
        if not is_loopback(host) and not self.allow:
            raise UsageError(f"OSC on {host} would take controls from the whole network; name who may send with "
                             f"--osc-allow CIDR (e.g. 192.168.1.0/24), or bind 127.0.0.1")
        self.limits, self.clock, self.status, self.performance_log = limits, clock, status, performance_log
        self.refusals = refusals or RefusalLog()
        self.dropped_foreign = 0
        self.received = 0
        self._queue: list[tuple[float, int, ControlEvent]] = []
        self._sequence = 0
        self._drained_until = -math.inf
        self._lock = threading.Lock()
        self._stop = threading.Event()
        family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_DGRAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        # Linux reports twice what it grants (the kernel's bookkeeping counts) and caps it at net.core.rmem_max.
        self.receive_buffer_requested = receive_buffer
        self.receive_buffer_granted = self._socket.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        try:
            self._socket.bind((host, port))
        except OSError as err:
            self._socket.close()
            raise UsageError(f"cannot listen for OSC on {host}:{port} ({err.strerror}); is another show running? "
                             f"choose another port with --osc HOST:PORT") from None
        self._socket.settimeout(0.1)
        self.address: tuple[str, int] = self._socket.getsockname()[:2]
        self._thread = threading.Thread(target=self._serve, name="likeness-osc", daemon=True)

    # -- life --------------------------------------------------------------------------------------------------

    def start(self) -> "OscServer":
        self._thread.start()
        LOG.info("OSC on %s:%d, receive buffer %d bytes granted (asked %d)", *self.address,
                 self.receive_buffer_granted, self.receive_buffer_requested)
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self._socket.close()

    def __enter__(self) -> "OscServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def set_limits(self, limits: ControlLimits) -> None:
        """A new show was loaded (--watch): check what arrives from now on against its scenes and people."""
        self.limits = limits

    # -- the render loop's side --------------------------------------------------------------------------------

    def drain(self, now_show_time: float) -> list[ControlEvent]:
        """Events due by `now_show_time`, in show-time order (arrival order for ties); each is logged as applied.

        An event stamped at or before an earlier drain's time (it raced that frame) is restamped just after it, the
        time from which it can take effect; the log gets the same stamp, so a replay applies it exactly as live.
        """
        due: list[ControlEvent] = []
        floor = math.nextafter(self._drained_until, math.inf)
        with self._lock:
            while self._queue and self._queue[0][0] <= now_show_time:
                event = heapq.heappop(self._queue)[2]
                due.append(event if event.t >= floor else replace(event, t=min(floor, now_show_time)))
        self._drained_until = max(self._drained_until, now_show_time)
        if self.performance_log is not None:
            for event in due:
                self.performance_log.write(event)
        return due

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    # -- the network's side ------------------------------------------------------------------------------------

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, sender = self._socket.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                continue
            try:
                self.handle_datagram(data, sender)
            except Exception as err:  # noqa: BLE001 - nothing a datagram carries may stop the show
                self.refusals.note("malformed packet", f"unreadable datagram from {sender[0]} ({type(err).__name__})")

    def _allowed(self, host: str) -> bool:
        if not self.allow:
            return True
        ip = ipaddress.ip_address(host)
        return any(ip in network for network in self.allow)

    def handle_datagram(self, data: bytes, sender: tuple) -> None:
        """Check one datagram and queue what it carries; refused parts are logged and counted."""
        if not self._allowed(sender[0]):
            with self._lock:
                self.dropped_foreign += 1
            self.refusals.note("not allowed", f"packet from {sender[0]}, outside --osc-allow")
            return
        if len(data) % 4:   # OSC 1.0: a packet's size is a multiple of 4 (python-osc pads a cut-off last argument)
            self.refusals.note("malformed packet", f"not OSC from {sender[0]} ({len(data)} bytes, not a multiple of 4)")
            return
        try:
            messages = OscPacket(data).messages
        except Exception as err:  # noqa: BLE001 - python-osc raises several kinds on garbage
            self.refusals.note("malformed packet", f"not OSC from {sender[0]} ({str(err)[:60]})")
            return
        # After parsing: python-osc stamps immediate messages with its own time.time(), which is then not ahead.
        wall_now, show_now = time.time(), self.clock()
        for timed in messages:
            self.received += 1
            address = timed.message.address
            try:
                args = check_message(address, tuple(timed.message.params), self.limits)
            except Refused as refused:
                self.refusals.note(refused.kind, str(refused))
                continue
            if lookup(address)[0].replies:
                self._reply_status(sender)
                continue
            due = show_now + max(0.0, timed.time - wall_now)
            self._enqueue(ControlEvent(due, address, args))

    def _enqueue(self, event: ControlEvent) -> None:
        with self._lock:
            if len(self._queue) >= MAX_QUEUED:
                full = True
            else:
                full = False
                heapq.heappush(self._queue, (event.t, self._sequence, event))
                self._sequence += 1
        if full:
            self.refusals.note("queue full", f"{MAX_QUEUED} controls waiting; the render loop is not draining")

    def _reply_status(self, sender: tuple) -> None:
        if self.status is None:
            return
        report = self.status()
        builder = OscMessageBuilder("/likeness/status")
        builder.add_arg(int(report.scene_index), "i")
        builder.add_arg(str(report.scene_name), "s")
        builder.add_arg(float(report.show_time), "d")
        builder.add_arg(float(report.fps), "f")
        builder.add_arg(int(report.dropped_frames), "i")
        self._socket.sendto(builder.build().dgram, sender)
