"""Who is asking: the client address a rate limit counts, also behind a reverse proxy.

`X-Forwarded-For` is only a claim: anybody can send it. It is believed only when the direct peer is one of
the trusted proxies (`IKMO_TRUSTED_PROXIES`), and then only up to the first hop that is not a trusted proxy,
read from the right: everything left of that hop was written by the client itself. With no trusted proxies
(the default) the header is ignored, so a client cannot escape a limit by sending a new one each time.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from starlette.requests import HTTPConnection

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN = "unknown"  # no peer at all (a test transport without one)


def parse_networks(text: str) -> tuple[IPNetwork, ...]:
    """`"10.0.0.1, 172.16.0.0/12, ::1"` as networks (a single address is a network of one).

    Raises ValueError naming the entry that is neither, so a typo stops the service at start.
    """
    networks = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry))  # strict: 10.0.0.1/24 is a typo
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network (CIDR, host bits zero)") from None
    return tuple(networks)


def parse_address(text: str) -> IPAddress | None:
    """One hop of `X-Forwarded-For` (`1.2.3.4`, `1.2.3.4:5678`, `::1`, `[::1]:80`), or None if garbage."""
    text, port = text.strip(), None
    if text.startswith("["):  # [v6] or [v6]:port
        text, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return None
        port = rest[1:] if rest else None
    elif text.count(":") == 1:  # v4:port (a bare v6 address has at least two colons)
        text, port = text.split(":")
    if port is not None and not port.isdigit():
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1 (a dual-stack socket's view)
    return address


def _trusted(address: IPAddress, proxies: Sequence[IPNetwork]) -> bool:
    return any(address.version == network.version and address in network for network in proxies)


def resolve_client(peer: str | None, forwarded: Iterable[str], proxies: Sequence[IPNetwork]) -> str:
    """The client address from the direct peer, the `X-Forwarded-For` values (in order) and the trusted
    proxies: the rightmost hop that is not a trusted proxy. A hop that is not an address ends the walk at
    the last good one: from there on to the left nothing can be told apart."""
    if not peer:
        return UNKNOWN
    current = parse_address(peer)
    if current is None or not proxies or not _trusted(current, proxies):
        return str(current) if current is not None else peer
    hops = [hop for value in forwarded for hop in value.split(",")]
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            break
        current = address
        if not _trusted(current, proxies):
            break
    return str(current)


def client_address(connection: HTTPConnection) -> str:
    """The address of whoever sent this request, as `resolve_client` reads it with the app's trusted
    proxies (`app.state.trusted_proxies`, set from the settings by `shared.service.create_app`)."""
    proxies: Sequence[IPNetwork] = getattr(connection.app.state, "trusted_proxies", ())
    peer = connection.client.host if connection.client else None
    return resolve_client(peer, connection.headers.getlist("x-forwarded-for"), proxies)
