"""robots.txt: read once an hour per origin, and matched as RFC 9309 says.

Matching is Protego's (Scrapy's parser), which implements RFC 9309: the ``*`` and ``$``
wildcards, the longest matching rule winning, ``Allow`` over ``Disallow`` on a tie, and the
group chosen by the crawler's product token (the user agent up to its first ``/``). What the
answer to ``GET /robots.txt`` means is decided here too:

- 2xx: the rules in the body, read up to 512 KiB (RFC 9309: a longer file is read up to the
  limit, not ignored), gzip or deflate decoded like any body;
- 429, 5xx, or no answer at all: the site is treated as disallowed for now, a transient
  failure (with the server's ``Retry-After``), so the check is tried again later;
- any other answer (4xx, a redirect, which is not followed) or a body that cannot be
  decoded: no rules apply;
- a TLS certificate that does not verify: the page on the same origin would fail the same
  way, so that permanent failure is reported at once.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from protego import Protego

from crawlers import politeness
from crawlers.errors import CrawlerError, refusal
from crawlers.fetch.addresses import Target
from crawlers.fetch.http import (
    MAX_RETRY_AFTER_SECONDS,
    Reply,
    TLSRefused,
    exchange,
    retry_after_seconds,
)

MAX_BYTES = 512 * 1024
TTL_SECONDS = 3600
MAX_CRAWL_DELAY_SECONDS = 60.0

_cache: dict[str, tuple[float, Protego | None]] = {}
_cache_lock = threading.Lock()


def forget() -> None:
    """Forget every robots.txt read (tests, and a worker after settings change)."""
    with _cache_lock:
        _cache.clear()


def product_token() -> str:
    """The name robots.txt groups are matched against: the user agent up to its first ``/``."""
    return settings.ATLAS_CRAWLER_USER_AGENT.split("/", 1)[0].strip()


def obey(target: Target, *, deadline: float, ca_file: str = "") -> float:
    """Check ``target.url`` against its origin's robots.txt; return the crawl delay asked.

    Raises ``CrawlerError``: permanent when robots.txt disallows the URL, transient when it
    cannot be read now. Returns the ``Crawl-delay`` for this crawler in seconds (at most a
    minute), or 0 when there is none.
    """
    rules = _rules_for(target, deadline=deadline, ca_file=ca_file)
    if rules is None:
        return 0.0
    agent = product_token()
    if not rules.can_fetch(target.url, agent):
        raise refusal(f"robots.txt of {target.origin} disallows {target.url}.")
    crawl_delay = rules.crawl_delay(agent)
    return min(float(crawl_delay), MAX_CRAWL_DELAY_SECONDS) if crawl_delay else 0.0


def _rules_for(target: Target, *, deadline: float, ca_file: str) -> Protego | None:
    """The parsed robots.txt of the target's origin (None: no rules), cached for an hour."""
    now = time.monotonic()
    with _cache_lock:
        cached = _cache.get(target.origin)
    if cached and cached[0] > now:
        return cached[1]
    parts = urlsplit(target.url)
    robots_target = replace(target, url=f"{parts.scheme}://{parts.netloc}/robots.txt")
    with politeness.gate().slot(target.origin, delay=politeness.delay(), deadline=deadline):
        try:
            reply = exchange(
                robots_target,
                headers={},
                deadline=deadline,
                read_body=True,
                max_bytes=MAX_BYTES,
                check_type=False,
                # RFC 9309: a longer file is read up to the limit, not ignored.
                truncate=True,
                ca_file=ca_file,
            )
        except TLSRefused:
            # Not "no rules": the page itself is on the same origin and would fail the same
            # way, so report it now rather than try a second time.
            raise
        except CrawlerError as exc:
            if not exc.permanent:
                raise
            reply = Reply(404, httpx.Headers())  # undecodable: no usable rules
    if reply.status_code >= 500 or reply.status_code == 429:
        # RFC 9309: while robots.txt is unreachable, assume everything is disallowed.
        raise CrawlerError(
            f"robots.txt of {target.origin} answered {reply.status_code}; trying later.",
            permanent=False,
            retry_after=retry_after_seconds(
                reply.headers.get("retry-after"), at_most=MAX_RETRY_AFTER_SECONDS
            ),
        )
    rules = None
    if 200 <= reply.status_code < 300:
        rules = Protego.parse(reply.body.decode("utf-8", errors="replace"))
    # Any other answer (4xx, a redirect, which is not followed): no rules apply.
    with _cache_lock:
        _cache[target.origin] = (now + TTL_SECONDS, rules)
    return rules
