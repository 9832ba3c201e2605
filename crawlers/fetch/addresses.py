"""Where a fetch may go: URL checks, address refusal (SSRF), and resolving a host once.

``vet(url)`` returns the one address a request may reach, or raises a permanent
``CrawlerError``. Nothing here opens a connection. A URL must be http or https, without
credentials, on an allowed port. The host is resolved here, and the request is refused when
*any* address is loopback, private, link-local (cloud metadata), carrier-grade NAT, multicast,
reserved or unspecified (IPv4 and IPv6, with IPv4-mapped, 6to4, Teredo and NAT64 forms
unwrapped), unless the address is in the allow-list: ``ATLAS_CRAWLER_ALLOWED_NETWORKS`` (the
test hosts) for sources, or the one a caller passes (``INFERENCE_ALLOWED_NETWORKS`` for model
endpoints, through ``inference.client``). The caller connects to the address checked, so no
second DNS lookup can be rebound.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from crawlers.errors import CrawlerError, refusal

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?$", re.I)


@dataclass(frozen=True)
class Target:
    """A vetted request target: the URL as written, and the one address it may reach."""

    url: str
    scheme: str
    host: str
    port: int
    address: IPAddress
    allow_listed: bool

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


def _allowed_networks(
    entries: Sequence[str] | None = None,
) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for entry in settings.ATLAS_CRAWLER_ALLOWED_NETWORKS if entries is None else entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            continue  # reported by the crawlers.E001 system check; never widens the list
    return networks


def is_allow_listed(address: IPAddress, allowed: Sequence[str] | None = None) -> bool:
    """Whether ``address`` is in ``allowed`` (default: ``ATLAS_CRAWLER_ALLOWED_NETWORKS``)."""
    return any(
        address.version == network.version and address in network
        for network in _allowed_networks(allowed)
    )


def _v4_refusal(address: ipaddress.IPv4Address) -> str | None:
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address (where cloud metadata services live)"
    if address in _CGNAT:
        return "a carrier-grade NAT address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_reserved or address == ipaddress.IPv4Address("255.255.255.255"):
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "an address that is not publicly routable"
    return None


def address_refusal(address: IPAddress, allowed: Sequence[str] | None = None) -> str | None:
    """Why ``address`` may not be fetched, or None when it may (the allow-list ``allowed``,
    default ``ATLAS_CRAWLER_ALLOWED_NETWORKS``, included)."""
    if is_allow_listed(address, allowed):
        return None
    if isinstance(address, ipaddress.IPv4Address):
        return _v4_refusal(address)
    embedded: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped is not None:
        embedded.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        embedded.append(address.sixtofour)
    if address.teredo is not None:
        embedded.extend(address.teredo)
    if any(address in network for network in _NAT64):
        embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    for inner in embedded:
        if is_allow_listed(inner, allowed):
            continue
        reason = _v4_refusal(inner)
        if reason:
            return f"{reason} ({inner}) inside an IPv6 address"
    if address.ipv4_mapped is not None:
        return None
    # :: and ::1 lie inside ::/96 too; they are named for what they are.
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address in _IPV4_COMPATIBLE:
        return "an IPv4-compatible IPv6 address (deprecated, reserved)"
    if address.is_link_local or address.is_site_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "an address that is not publicly routable"
    return None


def _legacy_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """Parse the forms inet_aton accepts (decimal, octal, hex, 1-4 parts), as resolvers do."""
    if not _NUMERIC_HOST.match(host):
        return None
    parts = host.rstrip(".").split(".")
    values = []
    for part in parts:
        lowered = part.lower()
        try:
            if lowered.startswith("0x"):
                values.append(int(lowered[2:] or "0", 16))
            elif len(part) > 1 and part.startswith("0"):
                values.append(int(part, 8))
            else:
                values.append(int(part, 10))
        except ValueError:
            raise refusal(f"The host {host!r} is a malformed numeric address.") from None
    limits = {1: [2**32], 2: [2**8, 2**24], 3: [2**8, 2**8, 2**16], 4: [2**8] * 4}[len(values)]
    if any(value >= limit for value, limit in zip(values, limits, strict=True)):
        raise refusal(f"The host {host!r} is a numeric address out of range.")
    number = 0
    for value, limit in zip(values, limits, strict=True):
        number = number * limit + value
    return ipaddress.IPv4Address(number)


def resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host`` (the seam tests replace)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0] for info in infos]


_resolvers: tuple[int, ThreadPoolExecutor] | None = None
_resolvers_lock = threading.Lock()


def _resolve_within(host: str, port: int, timeout: float) -> list[str]:
    """``resolve`` with a time limit: getaddrinfo itself has none a caller can set."""
    global _resolvers
    with _resolvers_lock:
        # One pool per process: a forked worker child must not reuse its parent's threads.
        if _resolvers is None or _resolvers[0] != os.getpid():
            _resolvers = (os.getpid(), ThreadPoolExecutor(8, thread_name_prefix="atlas-dns"))
        pool = _resolvers[1]
    future = pool.submit(resolve, host, port)
    try:
        return future.result(timeout=timeout)
    except FuturesTimeout:
        raise CrawlerError(
            f"Looking up {host} took longer than {timeout:.0f} s.", permanent=False
        ) from None


def vet(url: str, *, allowed: Sequence[str] | None = None, any_port: bool = False) -> Target:
    """Check a URL and resolve its host; raise ``CrawlerError`` (permanent) when refused.

    ``allowed`` lists the networks that may be reached although not public (default:
    ``ATLAS_CRAWLER_ALLOWED_NETWORKS``); ``any_port`` lifts the rule that public addresses be
    reached on ``ATLAS_CRAWLER_ALLOWED_PORTS`` only. Nothing here opens a connection.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise refusal(f"The URL {url!r} cannot be parsed ({exc}).") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise refusal(f"Only http and https URLs are fetched, not {scheme or 'a relative'} URL.")
    if parts.username is not None or parts.password is not None:
        raise refusal("URLs with credentials in them are not fetched.")
    host = (parts.hostname or "").strip()
    if not host:
        raise refusal(f"The URL {url!r} has no host.")
    if "%" in host:
        raise refusal("Scoped IPv6 addresses (with a zone id) are not fetched.")
    if port is None:
        port = 443 if scheme == "https" else 80
    if port == 0:
        raise refusal("Port 0 is not fetched.")

    literal: IPAddress | None = None
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = _legacy_ipv4(host)
    if literal is not None:
        addresses: list[IPAddress] = [literal]
        host_for_header = host
    else:
        try:
            ascii_host = host.rstrip(".").encode("idna").decode("ascii").lower()
        except UnicodeError:
            raise refusal(f"The host {host!r} is not a valid domain name.") from None
        try:
            found = _resolve_within(ascii_host, port, settings.ATLAS_CRAWLER_CONNECT_TIMEOUT)
        except (OSError, UnicodeError) as exc:
            raise CrawlerError(
                f"The host {ascii_host} could not be resolved ({exc}).", permanent=False
            ) from None
        try:
            addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in found]
        except ValueError:
            raise refusal(f"The host {ascii_host} resolved to an unusable address.") from None
        if not addresses:
            raise CrawlerError(f"The host {ascii_host} has no address.", permanent=False)
        host_for_header = ascii_host

    # Every address must pass: a name that resolves to one public and one private address
    # is refused, since the connection could be steered to either.
    for address in addresses:
        reason = address_refusal(address, allowed)
        if reason:
            raise refusal(f"{url} resolves to {address}, {reason}; it is not fetched.")
    address = addresses[0]
    allow_listed = is_allow_listed(address, allowed)
    if not (any_port or allow_listed or port in settings.ATLAS_CRAWLER_ALLOWED_PORTS):
        raise refusal(f"Port {port} is not an allowed port for fetching ({url}).")
    return Target(
        url=url,
        scheme=scheme,
        host=host_for_header,
        port=port,
        address=address,
        allow_listed=allow_listed,
    )
