"""The one module that makes outbound HTTP requests to sources.

``fetch(url)`` returns a ``FetchResult`` or raises ``CrawlerError`` (``permanent`` tells a
task whether to retry). Every request:

- goes only to http/https URLs without credentials, on an allowed port;
- resolves the host itself and refuses the request before any connection when *any* address
  is loopback, private, link-local, carrier-grade NAT, multicast, reserved or unspecified
  (IPv4 and IPv6, with IPv4-mapped, 6to4, Teredo and NAT64 forms unwrapped), unless the
  address is in ``ATLAS_CRAWLER_ALLOWED_NETWORKS``; it then connects to the address it
  checked (no second DNS lookup an attacker could rebind), and a connect hook refuses any
  other address;
- follows at most ``ATLAS_CRAWLER_MAX_REDIRECTS`` redirects itself, vetting each hop the same
  way, refusing loops, and records the chain;
- has a connect timeout and a deadline on the whole exchange: a watchdog shuts the socket
  down when it passes, so a server dripping bytes cannot hold a worker;
- reads at most ``ATLAS_CRAWLER_MAX_BYTES`` after decompression (a gzip bomb stops there),
  accepts only HTML, plain text and PDF;
- over https, sends the host *name* as SNI and verifies the certificate for that name (the
  connection itself goes to the checked address); a certificate that does not verify is a
  permanent failure, since trying again in a minute cannot fix it;
- honours robots.txt, a per-host concurrency limit and a politeness delay, sends a clear
  user agent and conditional headers, and reports ``Retry-After`` on 429/503.
"""

from __future__ import annotations

import email.utils
import functools
import heapq
import ipaddress
import itertools
import os
import re
import socket
import ssl
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from contextlib import suppress
from dataclasses import dataclass, field, replace
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx
from django.conf import settings

from crawlers.errors import CrawlerError
from crawlers.politeness import HostGate, RedisHostGate

ACCEPTED_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "application/pdf")
REDIRECT_CODES = (301, 302, 303, 307, 308)
ROBOTS_MAX_BYTES = 512 * 1024
ROBOTS_TTL_SECONDS = 3600
MAX_RETRY_AFTER_SECONDS = 24 * 3600
CHUNK = 64 * 1024

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?$", re.I)


@dataclass
class FetchResult:
    url: str
    final_url: str
    status_code: int
    content_type: str = ""
    charset: str = ""
    body: bytes = b""
    redirects: list[dict] = field(default_factory=list)
    elapsed_ms: int = 0
    bytes_received: int = 0
    etag: str = ""
    last_modified: str = ""
    not_modified: bool = False


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


def _refuse(message: str, **kwargs) -> CrawlerError:
    return CrawlerError(message, permanent=True, **kwargs)


class _TLSRefused(CrawlerError):
    """TLS to the origin cannot be set up, so nothing on that origin can be read.

    Raised for a certificate that does not verify and for a CA bundle that does not load.
    """


# --- addresses -------------------------------------------------------------------------------


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for entry in settings.ATLAS_CRAWLER_ALLOWED_NETWORKS:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            continue  # reported by the crawlers.E001 system check; never widens the list
    return networks


def is_allow_listed(address: IPAddress) -> bool:
    return any(
        address.version == network.version and address in network for network in _allowed_networks()
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


def address_refusal(address: IPAddress) -> str | None:
    """Why ``address`` may not be fetched, or None when it may (allow-list included)."""
    if is_allow_listed(address):
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
        if is_allow_listed(inner):
            continue
        reason = _v4_refusal(inner)
        if reason:
            return f"{reason} ({inner}) inside an IPv6 address"
    if address.ipv4_mapped is not None:
        return None
    if address in _IPV4_COMPATIBLE:
        return "an IPv4-compatible IPv6 address (deprecated, reserved)"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
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
            raise _refuse(f"The host {host!r} is a malformed numeric address.") from None
    limits = {1: [2**32], 2: [2**8, 2**24], 3: [2**8, 2**8, 2**16], 4: [2**8] * 4}[len(values)]
    if any(value >= limit for value, limit in zip(values, limits, strict=True)):
        raise _refuse(f"The host {host!r} is a numeric address out of range.")
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


def vet(url: str) -> Target:
    """Check a URL and resolve its host; raise ``CrawlerError`` (permanent) when refused.

    Nothing here opens a connection to the target.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise _refuse(f"The URL {url!r} cannot be parsed ({exc}).") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise _refuse(f"Only http and https URLs are fetched, not {scheme or 'a relative'} URL.")
    if parts.username is not None or parts.password is not None:
        raise _refuse("URLs with credentials in them are not fetched.")
    host = (parts.hostname or "").strip()
    if not host:
        raise _refuse(f"The URL {url!r} has no host.")
    if "%" in host:
        raise _refuse("Scoped IPv6 addresses (with a zone id) are not fetched.")
    if port is None:
        port = 443 if scheme == "https" else 80
    if port == 0:
        raise _refuse("Port 0 is not fetched.")

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
            raise _refuse(f"The host {host!r} is not a valid domain name.") from None
        try:
            found = _resolve_within(ascii_host, port, settings.ATLAS_CRAWLER_CONNECT_TIMEOUT)
        except (OSError, UnicodeError) as exc:
            raise CrawlerError(
                f"The host {ascii_host} could not be resolved ({exc}).", permanent=False
            ) from None
        try:
            addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in found]
        except ValueError:
            raise _refuse(f"The host {ascii_host} resolved to an unusable address.") from None
        if not addresses:
            raise CrawlerError(f"The host {ascii_host} has no address.", permanent=False)
        host_for_header = ascii_host

    # Every address must pass: a name that resolves to one public and one private address
    # is refused, since the connection could be steered to either.
    for address in addresses:
        reason = address_refusal(address)
        if reason:
            raise _refuse(f"{url} resolves to {address}, {reason}; it is not fetched.")
    address = addresses[0]
    allow_listed = is_allow_listed(address)
    if port not in settings.ATLAS_CRAWLER_ALLOWED_PORTS and not allow_listed:
        raise _refuse(f"Port {port} is not an allowed port for fetching ({url}).")
    return Target(
        url=url,
        scheme=scheme,
        host=host_for_header,
        port=port,
        address=address,
        allow_listed=allow_listed,
    )


# --- politeness ------------------------------------------------------------------------------


_gate: HostGate | RedisHostGate | None = None
_gate_lock = threading.Lock()


def gate() -> HostGate | RedisHostGate:
    """The per-host limiter: shared through Redis when one is configured, else in-process."""
    global _gate
    with _gate_lock:
        url = settings.ATLAS_CRAWLER_HOST_LIMIT_URL
        if _gate is None or getattr(_gate, "url", "") != url:
            _gate = RedisHostGate(url) if url else HostGate()
        return _gate


_robots_cache: dict[str, tuple[float, RobotFileParser | None]] = {}
_robots_lock = threading.Lock()


def clear_caches() -> None:
    """Forget robots.txt files and host timings (tests, and a worker after settings change)."""
    global _gate
    with _robots_lock:
        _robots_cache.clear()
    with _gate_lock:
        _gate = None


# --- one exchange ----------------------------------------------------------------------------


class _Watchdog:
    """Shuts the socket down when the deadline passes, whatever the read is waiting for."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.fired = False
        self.cancelled = False
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        _watchdog_keeper().watch(self)

    def arm(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._socket = sock
            if self.fired:
                self._shutdown()

    def fire(self) -> None:
        with self._lock:
            if self.cancelled:
                return
            self.fired = True
            self._shutdown()

    def _shutdown(self) -> None:
        if self._socket is not None:
            with suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            self._socket = None


class _WatchdogKeeper:
    """One thread per process fires every watchdog whose deadline has passed.

    A timer thread per request cost more CPU than the rest of the exchange; this thread
    sleeps until the earliest deadline and is woken only when an earlier one arrives.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._heap: list[tuple[float, int, _Watchdog]] = []
        self._order = itertools.count()
        thread = threading.Thread(target=self._run, name="atlas-fetch-watchdog", daemon=True)
        thread.start()

    def watch(self, watchdog: _Watchdog) -> None:
        with self._condition:
            if len(self._heap) > 4096:
                # Cancelled watchdogs wait for their deadline in the heap; drop them in bulk.
                self._heap = [entry for entry in self._heap if not entry[2].cancelled]
                heapq.heapify(self._heap)
            heapq.heappush(self._heap, (watchdog.deadline, next(self._order), watchdog))
            if self._heap[0][2] is watchdog:
                self._condition.notify()

    def _run(self) -> None:
        while True:
            with self._condition:
                while True:
                    while self._heap and self._heap[0][2].cancelled:
                        heapq.heappop(self._heap)
                    now = time.monotonic()
                    if self._heap and self._heap[0][0] <= now:
                        due = heapq.heappop(self._heap)[2]
                        break
                    self._condition.wait(self._heap[0][0] - now if self._heap else None)
            due.fire()


_keeper: tuple[int, _WatchdogKeeper] | None = None
_keeper_lock = threading.Lock()


def _watchdog_keeper() -> _WatchdogKeeper:
    global _keeper
    with _keeper_lock:
        # One per process: a forked worker child has none of its parent's threads.
        if _keeper is None or _keeper[0] != os.getpid():
            _keeper = (os.getpid(), _WatchdogKeeper())
        return _keeper[1]


@functools.cache
def _ssl_context(ca_file: str = "", extra_ca_file: str = "") -> ssl.SSLContext:
    """A verifying context: only the CAs in the PEM file ``ca_file`` when given, else the
    default CA bundle plus those in ``extra_ca_file`` (``ATLAS_CRAWLER_EXTRA_CA_FILE``).

    Every one checks the chain and the host name; there is deliberately no way to turn that off.
    """
    # Loading the CA bundle costs ~90 ms; one context per bundle serves the whole process.
    try:
        if ca_file:
            return ssl.create_default_context(cafile=ca_file)
        context = httpx.create_ssl_context()
        if extra_ca_file:
            context.load_verify_locations(cafile=extra_ca_file)
        return context
    except (OSError, ValueError) as exc:
        raise _TLSRefused(
            f"The CA bundle {ca_file or extra_ca_file!r} could not be loaded ({exc}).",
            permanent=True,
        ) from None


def _certificate_error(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate verification failure under an httpx error, if that is what it was."""
    cause: BaseException | None = exc
    for _depth in range(8):  # httpx wraps httpcore, which wraps the ssl error
        if cause is None or isinstance(cause, ssl.SSLCertVerificationError):
            return cause
        cause = cause.__cause__ or cause.__context__
    return None


def _decoder(encoding: str):
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj()
    raise _refuse(f"The server used an unsupported content encoding {encoding!r}.")


def _read_body(
    response: httpx.Response, *, max_bytes: int, truncate: bool = False
) -> tuple[bytes, int]:
    """Read and decode the body, stopping at ``max_bytes`` decoded bytes. Returns (body, wire).

    A longer body is an error, or with ``truncate`` cut to its first ``max_bytes``.
    """
    decoder = _decoder(response.headers.get("content-encoding", ""))
    parts: list[bytes] = []
    total = 0
    wire = 0

    def full(data: bytes) -> bool:
        """Keep ``data``; True once the limit is reached (only when truncating)."""
        nonlocal total
        room = max_bytes - total
        if len(data) > room:
            if not truncate:
                raise _refuse(
                    f"The body is larger than the {max_bytes}-byte limit"
                    + (" once decompressed." if decoder else "."),
                    bytes_received=wire,
                )
            data = data[:room]
        parts.append(data)
        total += len(data)
        return total >= max_bytes and truncate

    for chunk in response.iter_raw(CHUNK):
        wire += len(chunk)
        if decoder is None:
            if full(chunk):
                return b"".join(parts), wire
            continue
        data = chunk
        while data:
            try:
                out = decoder.decompress(data, max_bytes - total + 1)
            except zlib.error as exc:
                raise _refuse(f"The compressed body is corrupt ({exc}).") from None
            if full(out):
                return b"".join(parts), wire
            data = decoder.unconsumed_tail
    if decoder is not None:
        full(decoder.flush())
    return b"".join(parts), wire


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


@dataclass
class _Reply:
    status_code: int
    headers: httpx.Headers
    body: bytes = b""
    wire_bytes: int = 0


def _exchange(
    target: Target,
    *,
    headers: dict[str, str],
    deadline: float,
    read_body: bool,
    max_bytes: int,
    check_type: bool = True,
    truncate: bool = False,
    ca_file: str = "",
) -> _Reply:
    """One GET to the vetted address of ``target``; reads the body only when asked and 2xx.

    A body over ``max_bytes`` is an error, or with ``truncate`` cut to its first ``max_bytes``.
    """
    parts = urlsplit(target.url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    ip_host = f"[{target.address}]" if target.address.version == 6 else str(target.address)
    request_url = f"{target.scheme}://{ip_host}:{target.port}{path}"
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    if ":" in target.host and not target.host.startswith("["):
        host_header = (
            f"[{target.host}]" if target.port == default_port else f"[{target.host}]:{target.port}"
        )

    watchdog = _Watchdog(deadline)

    def trace(event: str, info: dict) -> None:
        if event == "connection.connect_tcp.started":
            # The last line of defence: only the address that was vetted may be dialled.
            if info.get("host") != str(target.address) or info.get("port") != target.port:
                raise _refuse(f"Refused to connect to {info.get('host')}:{info.get('port')}.")
            if watchdog.fired:
                raise CrawlerError("The deadline passed before connecting.", permanent=False)
        elif event == "connection.connect_tcp.complete":
            stream = info.get("return_value")
            watchdog.arm(stream.get_extra_info("socket") if stream is not None else None)

    remaining = max(0.1, deadline - time.monotonic())
    timeout = httpx.Timeout(
        connect=min(settings.ATLAS_CRAWLER_CONNECT_TIMEOUT, remaining),
        read=remaining,
        write=remaining,
        pool=remaining,
    )
    request_headers = {
        "Host": host_header,
        "User-Agent": settings.ATLAS_CRAWLER_USER_AGENT,
        "Accept": "text/html,application/xhtml+xml,application/pdf;q=0.9,text/plain;q=0.8",
        "Accept-Encoding": "gzip, deflate",
        **headers,
    }
    try:
        with httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
            verify=_ssl_context(ca_file, settings.ATLAS_CRAWLER_EXTRA_CA_FILE),
        ) as client:
            # The URL carries the vetted address, so the name for SNI and for checking the
            # certificate must be given apart: httpcore uses sni_hostname for both.
            request = client.build_request(
                "GET",
                request_url,
                headers=request_headers,
                extensions={"sni_hostname": target.host, "trace": trace},
            )
            response = client.send(request, stream=True)
            try:
                reply = _Reply(response.status_code, response.headers)
                if read_body and 200 <= response.status_code < 300:
                    if check_type:
                        _check_type_and_length(response, max_bytes=max_bytes)
                    reply.body, reply.wire_bytes = _read_body(
                        response, max_bytes=max_bytes, truncate=truncate
                    )
                return reply
            finally:
                response.close()
    except CrawlerError:
        raise
    except httpx.HTTPError as exc:
        unverified = _certificate_error(exc)
        if unverified is not None:
            reason = (unverified.verify_message or unverified.reason or str(unverified)).rstrip(".")
            raise _TLSRefused(
                f"The TLS certificate of {target.host} did not verify ({reason}); "
                f"{target.url} is not read.",
                permanent=True,
            ) from None
        if watchdog.fired:
            raise CrawlerError(
                f"{target.url} did not answer completely within "
                f"{settings.ATLAS_CRAWLER_TOTAL_TIMEOUT} s.",
                permanent=False,
            ) from None
        kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
        raise CrawlerError(
            f"The request to {target.url} {kind}: {exc or type(exc).__name__}.", permanent=False
        ) from None
    finally:
        watchdog.cancel()


def _mime(response_or_value) -> tuple[str, str]:
    value = response_or_value or ""
    mime, _, params = value.partition(";")
    charset = ""
    for param in params.split(";"):
        key, _, val = param.strip().partition("=")
        if key.lower() == "charset":
            charset = val.strip().strip('"').strip("'")
    return mime.strip().lower(), charset


def _check_type_and_length(response: httpx.Response, *, max_bytes: int) -> None:
    mime, _ = _mime(response.headers.get("content-type"))
    if mime not in ACCEPTED_TYPES:
        raise _refuse(
            f"The page's content type is {mime or 'missing'}; only HTML, plain text and PDF "
            "are read."
        )
    length = response.headers.get("content-length")
    if length and length.strip().isdigit() and int(length) > max_bytes:
        raise _refuse(f"The server announced {int(length)} bytes, over the {max_bytes}-byte limit.")


# --- robots.txt ------------------------------------------------------------------------------


def _robots_for(target: Target, *, deadline: float, ca_file: str = "") -> RobotFileParser | None:
    """The parsed robots.txt of the target's origin (None: no rules), cached for an hour."""
    now = time.monotonic()
    with _robots_lock:
        cached = _robots_cache.get(target.origin)
    if cached and cached[0] > now:
        return cached[1]
    parts = urlsplit(target.url)
    robots_target = replace(target, url=f"{parts.scheme}://{parts.netloc}/robots.txt")
    with gate().slot(target.origin, delay=_politeness(), deadline=deadline):
        try:
            reply = _exchange(
                robots_target,
                headers={},
                deadline=deadline,
                read_body=True,
                max_bytes=ROBOTS_MAX_BYTES,
                check_type=False,
                # RFC 9309: a longer file is read up to the limit, not ignored.
                truncate=True,
                ca_file=ca_file,
            )
        except _TLSRefused:
            # Not "no rules": the page itself is on the same origin and would fail the same
            # way, so report it now rather than try a second time.
            raise
        except CrawlerError as exc:
            if not exc.permanent:
                raise
            reply = _Reply(404, httpx.Headers())  # undecodable: no usable rules
    parser: RobotFileParser | None = None
    if reply.status_code >= 500 or reply.status_code == 429:
        # RFC 9309: while robots.txt is unreachable, assume everything is disallowed.
        raise CrawlerError(
            f"robots.txt of {target.origin} answered {reply.status_code}; trying later.",
            permanent=False,
            retry_after=_retry_after(reply.headers.get("retry-after")),
        )
    if 200 <= reply.status_code < 300:
        parser = RobotFileParser()
        parser.parse(reply.body.decode("utf-8", errors="replace").splitlines())
    # Any other answer (4xx, a redirect, which is not followed): no rules apply.
    with _robots_lock:
        _robots_cache[target.origin] = (now + ROBOTS_TTL_SECONDS, parser)
    return parser


def _politeness() -> float:
    return settings.ATLAS_CRAWLER_POLITENESS_MS / 1000


# --- the entry point -------------------------------------------------------------------------


def fetch(url: str, *, etag: str = "", last_modified: str = "", ca_file: str = "") -> FetchResult:
    """Fetch ``url`` under every rule above; raise ``CrawlerError`` on any failure.

    A 304 answer to the conditional headers gives ``not_modified=True`` and no body.
    ``ca_file`` names a PEM file of the only CAs to trust instead of the default bundle (a
    test's own CA); without it, the default bundle is trusted with any CAs in
    ``ATLAS_CRAWLER_EXTRA_CA_FILE``. Certificates are verified for the host name either way.
    """
    started = time.monotonic()
    deadline = started + settings.ATLAS_CRAWLER_TOTAL_TIMEOUT
    max_bytes = settings.ATLAS_CRAWLER_MAX_BYTES
    conditional = {}
    if etag:
        conditional["If-None-Match"] = etag
    if last_modified:
        conditional["If-Modified-Since"] = last_modified

    redirects: list[dict] = []
    seen: set[str] = set()
    current = url
    for _hop in range(settings.ATLAS_CRAWLER_MAX_REDIRECTS + 1):
        try:
            target = vet(current)
        except CrawlerError as exc:
            exc.redirects = redirects
            exc.final_url = current
            raise
        delay = _politeness()
        if settings.ATLAS_CRAWLER_RESPECT_ROBOTS:
            try:
                rules = _robots_for(target, deadline=deadline, ca_file=ca_file)
            except CrawlerError as exc:
                exc.redirects = redirects
                exc.final_url = current
                raise
            if rules is not None:
                if not rules.can_fetch(settings.ATLAS_CRAWLER_USER_AGENT, current):
                    raise _refuse(
                        f"robots.txt of {target.origin} disallows {current}.",
                        redirects=redirects,
                        final_url=current,
                    )
                crawl_delay = rules.crawl_delay(settings.ATLAS_CRAWLER_USER_AGENT)
                if crawl_delay:
                    delay = max(delay, min(float(crawl_delay), 60.0))
        with gate().slot(target.origin, delay=delay, deadline=deadline):
            try:
                reply = _exchange(
                    target,
                    headers=conditional,
                    deadline=deadline,
                    read_body=True,
                    max_bytes=max_bytes,
                    ca_file=ca_file,
                )
            except CrawlerError as exc:
                exc.redirects = redirects
                exc.final_url = current
                raise
        location = reply.headers.get("location")
        if reply.status_code in REDIRECT_CODES and location:
            following = urljoin(current, location.strip())
            redirects.append({"status": reply.status_code, "from": current, "to": following})
            seen.add(current)
            if following in seen:
                raise _refuse(
                    f"Redirect loop: {following} was already visited.",
                    redirects=redirects,
                    final_url=following,
                )
            current = following
            continue
        break
    else:
        raise _refuse(
            f"More than {settings.ATLAS_CRAWLER_MAX_REDIRECTS} redirects starting at {url}.",
            redirects=redirects,
            final_url=current,
        )

    elapsed_ms = int((time.monotonic() - started) * 1000)
    status = reply.status_code
    common = {"status_code": status, "final_url": current, "redirects": redirects}
    if status == 304:
        return FetchResult(
            url=url,
            not_modified=True,
            elapsed_ms=elapsed_ms,
            etag=reply.headers.get("etag", etag),
            last_modified=reply.headers.get("last-modified", last_modified),
            **common,
        )
    if status in (429, 503):
        raise CrawlerError(
            f"{current} answered {status}; the server asks to come back later.",
            permanent=False,
            retry_after=_retry_after(reply.headers.get("retry-after")),
            **common,
        )
    if status in (404, 410):
        raise _refuse(f"{current} answered {status}: the page is gone.", **common)
    if status >= 500 or status in (408, 425):
        raise CrawlerError(f"{current} answered {status}.", permanent=False, **common)
    if not 200 <= status < 300:
        raise _refuse(f"{current} answered {status}.", **common)
    mime, charset = _mime(reply.headers.get("content-type"))
    return FetchResult(
        url=url,
        content_type=mime,
        charset=charset,
        body=reply.body,
        elapsed_ms=elapsed_ms,
        bytes_received=reply.wire_bytes,
        etag=reply.headers.get("etag", ""),
        last_modified=reply.headers.get("last-modified", ""),
        **common,
    )
