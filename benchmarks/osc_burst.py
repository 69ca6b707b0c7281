"""How many OSC controls a show takes in one burst: N messages sent back to back on loopback, how many arrive.

    PYTHONPATH=. python benchmarks/osc_burst.py [--count 20000] [--bundle 1] [--buffer BYTES]

A controller moving several faders at once sends hundreds of messages a second; the socket's receive buffer has
to hold a burst while the server thread parses. Prints what arrived, the rate, and the buffer the OS granted.
"""

from __future__ import annotations

import argparse
import os
import time
from fractions import Fraction

from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.udp_client import UDPClient

from installation.control import ControlLimits, SceneSpec
from installation.osc_server import RECEIVE_BUFFER_BYTES, OscServer


def message(i: int):
    builder = OscMessageBuilder("/likeness/speed")
    builder.add_arg(float(i % 16))
    return builder.build()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--bundle", type=int, default=1, help="messages per datagram (1: plain messages)")
    parser.add_argument("--buffer", type=int, default=RECEIVE_BUFFER_BYTES, help="SO_RCVBUF to ask for (bytes)")
    args = parser.parse_args()
    limits = ControlLimits((SceneSpec("a", Fraction(60)),))
    with OscServer(limits, time.monotonic, port=0, receive_buffer=args.buffer) as server:
        client = UDPClient(*server.address)
        start = time.perf_counter()
        for first in range(0, args.count, args.bundle):
            if args.bundle == 1:
                client.send(message(first))
                continue
            bundle = OscBundleBuilder(IMMEDIATELY)
            for i in range(first, min(first + args.bundle, args.count)):
                bundle.add_content(message(i))
            client.send(bundle.build())
        sent = time.perf_counter() - start
        deadline = time.monotonic() + 10.0
        while server.pending() < args.count and time.monotonic() < deadline:
            time.sleep(0.01)
        taken = time.perf_counter() - start
        arrived = server.pending()
        granted = server.receive_buffer_granted
    rate = f"all queued after {taken:.3f} s = {arrived / taken:,.0f} messages/s" if arrived == args.count else \
        f"{args.count - arrived} lost (none more after 10 s)"
    print(f"{arrived}/{args.count} arrived ({args.bundle} per datagram); sent in {sent:.3f} s, {rate}; receive "
          f"buffer granted {granted} bytes; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
