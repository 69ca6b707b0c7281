"""Sending controls to a show: one checked OSC message, and for `status` the reply read back (`likeness osc`)."""

from __future__ import annotations

import socket
from difflib import get_close_matches

from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from installation.control import PREFIX
from installation.osc_server import Status
from installation.osc_space import ADDRESSES, Refused, check_message, lookup
from training.errors import DataError, UsageError


def full_address(text: str) -> str:
    """'speed' or '/likeness/speed' -> '/likeness/speed'."""
    return text if text.startswith("/") else PREFIX + text.lstrip("/")


def _refuse_address(address: str, refused: Refused) -> UsageError:
    # compared without the shared prefix, which would make every address look close to every other
    tails = {row.full.removeprefix(PREFIX): row.full for row in ADDRESSES}
    close = get_close_matches(address.removeprefix(PREFIX).replace("/K", ""), list(tails), n=1)
    hint = f"; did you mean {tails[close[0]]}?" if close else "; see shows/README.md, 'OSC address space'"
    if refused.kind == "unknown address":
        return UsageError(f"{address} is not a likeness control{hint}")
    return UsageError(str(refused))


def build_message(address: str, values: list) -> bytes:
    """The datagram for one control, checked against the address space (what does not depend on the show)."""
    address = full_address(address)
    try:
        check_message(address, tuple(values), None)
    except Refused as refused:
        raise _refuse_address(address, refused) from None
    builder = OscMessageBuilder(address)
    for value in values:
        builder.add_arg(value, "i" if isinstance(value, int) else "f" if isinstance(value, float) else "s")
    return builder.build().dgram


def send_control(to: tuple[str, int], address: str, values: list, timeout: float = 2.0) -> Status | None:
    """Send one control; for status, wait up to `timeout` seconds for the reply and return it."""
    dgram = build_message(address, values)
    wants_reply = lookup(full_address(address))[0].replies
    family = socket.AF_INET6 if ":" in to[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.sendto(dgram, to)
        except OSError as err:
            raise UsageError(f"cannot send to {to[0]}:{to[1]} ({err.strerror}); check --to HOST:PORT") from None
        if not wants_reply:
            return None
        try:
            while True:
                data, _ = sock.recvfrom(65536)
                reply = OscMessage(data)
                if reply.address == PREFIX + "status" and len(reply.params) == 5:
                    return Status(*reply.params)
        except (socket.timeout, ConnectionRefusedError):
            raise DataError(f"no status reply from {to[0]}:{to[1]} within {timeout:g} s; is a show running with "
                            f"OSC on that port (likeness show --osc HOST:PORT)?") from None


def format_status(status: Status) -> str:
    return (f"scene {status.scene_index} {status.scene_name!r}, show time {status.show_time:.3f} s, "
            f"{status.fps:.2f} fps, {status.dropped_frames} dropped frames")
