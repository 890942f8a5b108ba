"""Where an image download may connect: judged by the addresses a host resolves to, not by
how its name is spelt.

An answer from the API names the URL a build then fetches. A spoofed or compromised
answer must not make a CI runner fetch from its own network (a cloud's metadata service
at 169.254.169.254, a service on 127.0.0.1), and spelling is no guide: ``2130706433``,
``127.1``, ``0x7f000001`` and ``017700000001`` are all 127.0.0.1 to the C library's
resolver, ``0`` is 0.0.0.0, and any DNS name can point anywhere. So the host is resolved
once, every address it resolves to is judged (IPv4, IPv6, and an IPv4 address inside an
IPv6 one), and the download connects to an address that was judged (http.py), never
resolving the name again: a DNS answer that changes between the check and the connect
("rebinding") changes nothing.

Pure values and the resolver: no httpx here.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

from ..core.errors import NanobananaError

__all__: list[str] = []

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: What an address may be besides public, each with the test that finds it, in the order
#: a message names it (0.0.0.0 is "private" too in Python's tables: "unspecified" says more).
CATEGORIES: tuple[tuple[str, Callable[[IPAddress], bool]], ...] = (
    ("unspecified", lambda ip: ip.is_unspecified),
    ("loopback", lambda ip: ip.is_loopback),
    ("link-local", lambda ip: ip.is_link_local),
    ("multicast", lambda ip: ip.is_multicast),
    ("reserved", lambda ip: ip.is_reserved),  # 240.0.0.0/4 is "private" too
    ("private", lambda ip: ip.is_private),
    ("not public", lambda ip: not ip.is_global),  # e.g. 100.64.0.0/10, carrier-grade NAT
)
#: IPv6 prefixes that carry an IPv4 address in their last 32 bits and reach it: NAT64's
#: well-known prefix (RFC 6052); IPv4-mapped (::ffff:0:0/96), 6to4 and Teredo are read by
#: ipaddress itself.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class AddressRefused(NanobananaError, ValueError):
    """The host resolves to an address a download may not go to (the message says which)."""


def category(ip: IPAddress) -> str | None:
    """What keeps ``ip`` from being a public address (see CATEGORIES), or None. An IPv6
    address that carries an IPv4 one is judged by that one too."""
    inner = embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else None
    if inner is not None:
        found = category(inner)
        if found is not None:
            return found
    return next((name for name, test in CATEGORIES if test(ip)), None)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one reaches, if it carries one: IPv4-mapped
    (::ffff:127.0.0.1), NAT64 (64:ff9b::7f00:1), 6to4 (2002:7f00:1::), Teredo's client."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def allowed_for(api_base_host: str) -> frozenset[str]:
    """The categories a download may go to because the API itself is there: loopback
    when api_base is on 127.0.0.1, ::1 or localhost (tests, a local gateway), a private
    network when it is on one; nothing for a public API, or one named by DNS (its name
    is not resolved for this: an image host on the build's own network is refused)."""
    host = api_base_host.strip("[]").lower().rstrip(".")
    if is_localhost(host):
        return frozenset({"loopback"})
    try:
        found = category(ipaddress.ip_address(host))
    except ValueError:
        return frozenset()
    return frozenset({found}) if found else frozenset()


def is_localhost(host: str) -> bool:
    """``localhost`` and its subdomains, which RFC 6761 reserves for this machine whatever
    a resolver answers for them (some resolve ``foo.localhost`` by DNS, some not at all)."""
    name = host.lower().rstrip(".")
    return name == "localhost" or name.endswith(".localhost")


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (once, by the system's resolver, which also
    reads the numeric spellings), in the resolver's order, each once. OSError (gaierror)
    if it resolves to none."""
    infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]).split("%", 1)[0] for info in infos))


def checked(host: str, port: int, allowed: frozenset[str]) -> list[str]:
    """The addresses of ``host`` to connect to, if every one of them is public or in
    ``allowed``. AddressRefused names the first that is not (a name that resolves to one
    private address among public ones is refused too: which one a connection gets is up
    to the resolver, and so to whoever answers for the name); OSError if it resolves to
    nothing."""
    if is_localhost(host) and "loopback" not in allowed:
        raise AddressRefused(f"on a loopback address ({host})")
    addresses = resolve(host, port)
    for address in addresses:
        found = category(ipaddress.ip_address(address))
        if found is not None and found not in allowed:
            said = host if host.strip("[]") == address else f"{host}, which resolves to {address}"
            raise AddressRefused(f"on a {found} address ({said})")
    return addresses
