"""SSRF guard: external calls go only to public addresses, unless an entry is marked internal.

    SsrfRefused     a host that is (or resolves to) a private, loopback, link-local,
                    metadata or otherwise non-public address

The manifest refuses literal addresses at load time (`literal_address_problem`); at call time
`resolve_public` resolves the declared host and refuses it when any address is not public. The
caller then connects to the checked address itself (pinned), so a second DNS answer cannot
point the connection somewhere else.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

from core.errors import SsrfRefused

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Ranges Python's flags do not all cover: carrier-grade NAT, the cloud metadata addresses.
_EXTRA_BLOCKED = [ipaddress.ip_network(n) for n in (
    "100.64.0.0/10", "169.254.0.0/16", "fd00:ec2::/32", "0.0.0.0/8",
)]
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


def address_problem(address: IpAddress) -> str | None:
    """Why `address` may not be called from the engine, or None when it is public."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in _METADATA:
        return f"{address} is a cloud metadata address"
    if address.is_loopback:
        return f"{address} is a loopback address"
    if address.is_link_local:
        return f"{address} is a link-local address"
    if address.is_private or any(address in net for net in _EXTRA_BLOCKED):
        return f"{address} is a private address"
    if address.is_multicast or address.is_reserved or address.is_unspecified:
        return f"{address} is not a public address"
    return None


def literal_address_problem(host: str) -> str | None:
    """For a host written as an IP literal: why it is refused; None for names and public IPs."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    return address_problem(address)


async def resolve_public(host: str, port: int) -> str:
    """One public address of `host` to connect to; SsrfRefused if any address is not public."""
    literal = literal_address_problem(host)
    if literal:
        raise SsrfRefused(f"destino no permitido ({literal})")
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise SsrfRefused("el nombre del servicio no se pudo resolver") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not addresses:
        raise SsrfRefused("el nombre del servicio no se pudo resolver")
    for address in addresses:
        problem = address_problem(address)
        if problem:
            raise SsrfRefused(f"destino no permitido: {host} resuelve a una dirección interna ({problem})")
    return str(addresses[0])
