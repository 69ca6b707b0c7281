"""Network addresses as the OSC flags take them: HOST:PORT and CIDR allow-lists (stdlib only, so `likeness --help`
stays instant)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9000

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_host_port(text: str, default_host: str = DEFAULT_HOST) -> tuple[str, int]:
    """'HOST:PORT' (or ':PORT', or 'PORT') -> (host, port); the host an IP address or 'localhost'."""
    host, sep, port_text = text.rpartition(":")
    if not sep:
        host, port_text = "", text
    host = host.strip("[]") or default_host
    if host == "localhost":
        host = "127.0.0.1"
    try:
        ipaddress.ip_address(host)
        port = int(port_text)
    except ValueError:
        raise ValueError(f"{text!r} is not HOST:PORT with an IP address, e.g. 127.0.0.1:9000") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"port {port} is outside 0 .. 65535")
    return host, port


def parse_networks(cidrs: Iterable[str]) -> tuple[Network, ...]:
    """CIDR strings ('192.168.1.0/24', '10.0.0.7') -> networks; ValueError naming the one that is not."""
    networks = []
    for text in cidrs:
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise ValueError(f"{text!r} is not an address range such as 192.168.1.0/24") from None
    return tuple(networks)


def cidr(text: str) -> str:
    """One address range as `--osc-allow` takes it, checked (ValueError) and returned as written."""
    parse_networks([text])
    return text


def is_loopback(host: str) -> bool:
    return ipaddress.ip_address(host).is_loopback
