"""The address of the client that sent a request, seen through the proxies we trust.

Behind a TLS proxy every connection comes from the proxy, so ``REMOTE_ADDR`` names the proxy,
not the client; the proxy appends the address it saw to ``X-Forwarded-For``. That header is
believed only as far as the hops that wrote it are trusted: ``ATLAS_TRUSTED_PROXIES`` lists the
proxies' addresses or networks (empty by default: ``REMOTE_ADDR`` is the client). When the
immediate peer is a trusted proxy, the header is walked from right to left, skipping trusted
hops; the first address that is not a trusted proxy is the client. Entries further left were
written by the client itself and are never believed.

``client_address(request)`` is the one answer used by the sign-in lock-out (django-axes'
``AXES_CLIENT_IP_CALLABLE``), the per-address limits on public reviews and reports, and the
API's anonymous rate limit.
"""

from __future__ import annotations

import functools
import ipaddress

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@functools.lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    # Settings already refused a bad entry at start-up (atlas.settings.env_networks).
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _parse(value: str) -> Address | None:
    """An address as proxies write it: bare, ``[v6]``, ``[v6]:port`` or ``v4:port``."""
    value = value.strip().strip('"')
    if value.startswith("["):
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:
        value = value.partition(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


def client_address(request: HttpRequest) -> str | None:
    """The client's address as text, or None when the request does not say.

    ``REMOTE_ADDR`` unless it is a trusted proxy; then the right-most ``X-Forwarded-For``
    entry that is not a trusted proxy (or the left-most, when every hop is trusted). A
    missing or unreadable header leaves the proxy's own address: a proxy that forwards
    without saying for whom gives every client one shared address, never a chosen one.
    """
    peer_text = request.META.get("REMOTE_ADDR") or ""
    peer = _parse(peer_text)
    if peer is None:
        return peer_text or None
    networks = _networks(tuple(settings.ATLAS_TRUSTED_PROXIES))
    if not networks or not _trusted(peer, networks):
        return str(peer)
    client = peer
    for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        address = _parse(hop)
        if address is None:
            break
        client = address
        if not _trusted(address, networks):
            break
    return str(client)
