"""The HTTP client for sources: one GET to a vetted address, under every limit.

``exchange(target, ...)`` sends one request to the address ``addresses.vet`` checked and returns a
``Reply``, or raises ``CrawlerError`` (``crawlers.errors``), whose ``permanent`` tells a task
whether to retry. Every request:

- connects only to the vetted address (a connect hook refuses any other), with a connect
  timeout and a watchdog on the whole exchange (``deadline``);
- sends the crawler's user agent and accepts only HTML, plain text and PDF;
- reads at most ``max_bytes`` after decompression (a gzip bomb stops there);
- over https, sends the host *name* as SNI and verifies the certificate for that name against
  the default CA bundle plus ``ATLAS_CRAWLER_EXTRA_CA_FILE`` (or a test's own CA file); a
  certificate that does not verify is ``TLSRefused``, permanent, since trying again in a
  minute cannot fix it.

Redirects are not followed here: ``crawlers.fetch.fetch`` follows them, vetting each hop.
"""

from __future__ import annotations

import email.utils
import functools
import ssl
import time
import zlib
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
from django.conf import settings

from crawlers.errors import CrawlerError, refusal
from crawlers.fetch.addresses import Target
from crawlers.fetch.deadline import Watchdog

ACCEPTED_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "application/pdf")
CHUNK = 64 * 1024
# The longest wait a source may ask for in Retry-After before its next check.
MAX_RETRY_AFTER_SECONDS = 24 * 3600


@dataclass
class FetchResult:
    """What ``crawlers.fetch.fetch`` read: the final answer and the redirects that led to it."""

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


class TLSRefused(CrawlerError):
    """TLS to the origin cannot be set up, so nothing on that origin can be read.

    Raised for a certificate that does not verify and for a CA bundle that does not load.
    """


@functools.cache
def ssl_context(ca_file: str = "", extra_ca_file: str = "") -> ssl.SSLContext:
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
        raise TLSRefused(
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
    raise refusal(f"The server used an unsupported content encoding {encoding!r}.")


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
                raise refusal(
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
                raise refusal(f"The compressed body is corrupt ({exc}).") from None
            if full(out):
                return b"".join(parts), wire
            data = decoder.unconsumed_tail
    if decoder is not None:
        full(decoder.flush())
    return b"".join(parts), wire


def retry_after_seconds(value: str | None, *, at_most: float | None = None) -> float | None:
    """The wait a ``Retry-After`` header asks for, in seconds, or None when absent or unreadable.

    RFC 9110: either delay-seconds (digits only) or an HTTP-date; a date in the past is 0.
    ``at_most`` caps the answer. The one reading of the header for every outbound client.
    """
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    seconds = max(seconds, 0.0)
    return seconds if at_most is None else min(seconds, at_most)


@dataclass
class Reply:
    status_code: int
    headers: httpx.Headers
    body: bytes = b""
    wire_bytes: int = 0


def exchange(
    target: Target,
    *,
    headers: dict[str, str],
    deadline: float,
    read_body: bool,
    max_bytes: int,
    check_type: bool = True,
    truncate: bool = False,
    ca_file: str = "",
) -> Reply:
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

    watchdog = Watchdog(deadline)

    def trace(event: str, info: dict) -> None:
        if event == "connection.connect_tcp.started":
            # The last line of defence: only the address that was vetted may be dialled.
            if info.get("host") != str(target.address) or info.get("port") != target.port:
                raise refusal(f"Refused to connect to {info.get('host')}:{info.get('port')}.")
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
            verify=ssl_context(ca_file, settings.ATLAS_CRAWLER_EXTRA_CA_FILE),
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
                reply = Reply(response.status_code, response.headers)
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
            raise TLSRefused(
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


def mime_type(response_or_value) -> tuple[str, str]:
    value = response_or_value or ""
    mime, _, params = value.partition(";")
    charset = ""
    for param in params.split(";"):
        key, _, val = param.strip().partition("=")
        if key.lower() == "charset":
            charset = val.strip().strip('"').strip("'")
    return mime.strip().lower(), charset


def _check_type_and_length(response: httpx.Response, *, max_bytes: int) -> None:
    mime, _ = mime_type(response.headers.get("content-type"))
    if mime not in ACCEPTED_TYPES:
        raise refusal(
            f"The page's content type is {mime or 'missing'}; only HTML, plain text and PDF "
            "are read."
        )
    length = response.headers.get("content-length")
    if length and length.strip().isdigit() and int(length) > max_bytes:
        raise refusal(f"The server announced {int(length)} bytes, over the {max_bytes}-byte limit.")
