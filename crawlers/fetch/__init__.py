"""Every outbound request to a source goes through ``fetch(url)``; the rules live beside it.

``fetch(url)`` returns an ``http.FetchResult`` or raises ``CrawlerError`` (``permanent`` tells
a task whether to retry). For each hop it:

1. vets the URL and resolves its host once, refusing private and other non-public addresses
   (``addresses``);
2. honours the origin's robots.txt and its crawl delay (``robots``);
3. takes a per-host slot, after the politeness delay (``crawlers.politeness``);
4. sends one GET to the vetted address with timeouts, a size cap, the user agent and verified
   TLS (``http``), under a deadline on the whole fetch (``deadline``);
5. follows at most ``ATLAS_CRAWLER_MAX_REDIRECTS`` redirects itself, refusing loops, and
   records the chain.

It sends conditional headers and reports ``Retry-After`` on 429/503.

``fetch`` lives in the package itself rather than in ``http`` because it ties the parts
together: ``robots`` reads robots.txt through ``http``, and ``fetch`` consults ``robots``.
"""

from __future__ import annotations

import time
from urllib.parse import urljoin

from django.conf import settings

from crawlers import politeness
from crawlers.errors import CrawlerError, refusal
from crawlers.fetch import http, robots
from crawlers.fetch.addresses import vet

REDIRECT_CODES = (301, 302, 303, 307, 308)


def clear_caches() -> None:
    """Forget robots.txt files and host timings (tests, and a worker after settings change)."""
    robots.forget()
    politeness.gate_forget()


def fetch(
    url: str, *, etag: str = "", last_modified: str = "", ca_file: str = ""
) -> http.FetchResult:
    """Fetch ``url`` under every rule above; raise ``CrawlerError`` on any failure.

    A 304 answer to the conditional headers gives ``not_modified=True`` and no body.
    ``ca_file`` names a PEM file of the only CAs to trust instead of the default bundle (a
    test's own CA); without it, the default bundle is trusted with any CAs in
    ``ATLAS_CRAWLER_EXTRA_CA_FILE``. Certificates are verified for the host name either way.
    """
    started = time.monotonic()
    deadline = started + settings.ATLAS_CRAWLER_TOTAL_TIMEOUT
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
            delay = politeness.delay()
            if settings.ATLAS_CRAWLER_RESPECT_ROBOTS:
                delay = max(delay, robots.obey(target, deadline=deadline, ca_file=ca_file))
            with politeness.gate().slot(target.origin, delay=delay, deadline=deadline):
                reply = http.exchange(
                    target,
                    headers=conditional,
                    deadline=deadline,
                    read_body=True,
                    max_bytes=settings.ATLAS_CRAWLER_MAX_BYTES,
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
                raise refusal(
                    f"Redirect loop: {following} was already visited.",
                    redirects=redirects,
                    final_url=following,
                )
            current = following
            continue
        break
    else:
        raise refusal(
            f"More than {settings.ATLAS_CRAWLER_MAX_REDIRECTS} redirects starting at {url}.",
            redirects=redirects,
            final_url=current,
        )

    elapsed_ms = int((time.monotonic() - started) * 1000)
    status = reply.status_code
    common = {"status_code": status, "final_url": current, "redirects": redirects}
    if status == 304:
        return http.FetchResult(
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
            retry_after=http.retry_after_seconds(
                reply.headers.get("retry-after"), at_most=http.MAX_RETRY_AFTER_SECONDS
            ),
            **common,
        )
    if status in (404, 410):
        raise refusal(f"{current} answered {status}: the page is gone.", **common)
    if status >= 500 or status in (408, 425):
        raise CrawlerError(f"{current} answered {status}.", permanent=False, **common)
    if not 200 <= status < 300:
        raise refusal(f"{current} answered {status}.", **common)
    mime, charset = http.mime_type(reply.headers.get("content-type"))
    return http.FetchResult(
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
