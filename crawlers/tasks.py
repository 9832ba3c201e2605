"""Celery tasks: thin wrappers that take ids, call one service, and decide about retries."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from crawlers import services
from crawlers.errors import CrawlerError

logger = logging.getLogger(__name__)

MAX_RETRIES = 4
MAX_COUNTDOWN_SECONDS = 6 * 3600


def retry_countdown(*, retry_after: float | None, retries: int, base: float) -> float:
    """Seconds before the next attempt: exponential backoff, never sooner than Retry-After."""
    return min(max(retry_after or 0.0, base * 2**retries), MAX_COUNTDOWN_SECONDS)


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES)
def check_source(self, check_id: int) -> str:
    """Run check ``check_id``; retry transient failures with backoff (Retry-After honoured).

    In-process (eager) runs never retry: the failure is recorded and the next sweep tries
    again, so a page answering 429 cannot hold a web request.
    """
    final = bool(self.request.is_eager) or self.request.retries >= self.max_retries
    try:
        check = services.check_run(check_id=check_id, final_attempt=final)
    except CrawlerError as exc:
        countdown = retry_countdown(
            retry_after=exc.retry_after,
            retries=self.request.retries,
            base=settings.ATLAS_CRAWLER_RETRY_BASE_SECONDS,
        )
        logger.info("check %s: %s; retrying in %.0f s", check_id, exc, countdown)
        raise self.retry(exc=exc, countdown=countdown) from None
    except SoftTimeLimitExceeded:
        services.check_abandon(check_id=check_id, reason="The check ran out of time.")
        return "timed out"
    return "already finished" if check is None else f"{check.status} {check.outcome}"


@shared_task(acks_late=True)
def sweep_sources(limit: int | None = None) -> int:
    """Queue checks of the sources that are due (the beat schedule runs this)."""
    queued = services.sources_sweep(limit=limit or settings.ATLAS_CRAWLER_SWEEP_LIMIT)
    return len(queued)
