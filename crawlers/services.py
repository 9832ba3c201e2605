"""Writes of the crawlers: the life of a check (queue, fetch, extract, store, schedule).

The life of a check: ``check_queue`` (or ``sources_sweep``) creates it *queued* and hands its
id to a task after commit; ``check_run`` claims it with a conditional UPDATE, fetches outside
any transaction, then records the result, the version and every claim's verification in one
transaction under a lock on the source's ``CrawlSettings`` row. A task delivered twice finds
the check already finished and stores nothing; a worker killed mid-check leaves the check
open, and the re-delivered task runs it again from the start.

What a check means for the claims citing its source is ``crawlers.verify``'s to decide.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from contextlib import nullcontext

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, Max, OuterRef, Q, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from catalog.models import Claim, Source
from crawlers import fetch
from crawlers.errors import CrawlerError
from crawlers.extract import EXTRACTOR_REVISION, Extracted, extract
from crawlers.fetch.http import FetchResult
from crawlers.models import OPEN_STATUSES, Check, CrawlSettings, Version
from crawlers.verify import claims_reverify

# Deliveries of one check, retries and re-deliveries after a dead worker included.
MAX_ATTEMPTS = 6
# Messages sent to the broker in one round trip when a sweep queues its checks.
PUBLISH_BATCH = 200


def crawl_settings_for(*, source: Source) -> CrawlSettings:
    """The source's crawl settings, created with the defaults on first use."""
    crawl, _ = CrawlSettings.objects.get_or_create(source=source)
    return crawl


def crawl_settings_update(
    *,
    source: Source,
    keep_selectors: str,
    remove_selectors: str,
    interval_hours: int,
    enabled: bool,
) -> CrawlSettings:
    """Validate and save a source's crawl settings; re-extract its text if selectors changed.

    Raises ``django.core.exceptions.ValidationError`` naming the bad field.
    """
    with transaction.atomic():
        crawl = crawl_settings_for(source=source)
        crawl = CrawlSettings.objects.select_for_update().get(pk=crawl.pk)
        selectors_changed = (
            crawl.keep_selectors != keep_selectors or crawl.remove_selectors != remove_selectors
        )
        crawl.keep_selectors = keep_selectors
        crawl.remove_selectors = remove_selectors
        crawl.interval_hours = interval_hours
        crawl.enabled = enabled
        crawl.full_clean()
        crawl.save()
    if selectors_changed:
        source_reextract(source=source)
    return crawl


# --- queueing --------------------------------------------------------------------------------


def _enqueue(check_ids: list[int]) -> None:
    """Hand the checks to the workers once the transaction that created them commits."""
    from crawlers.tasks import check_source

    def publish() -> None:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            for check_id in check_ids:
                check_source.delay(check_id)
            return
        # One producer (one broker connection) for the whole batch, and where the transport
        # can (Redis, kombu 5.7+) the messages go in pipelined batches: one round trip per
        # PUBLISH_BATCH messages instead of one each.
        with check_source.app.producer_or_acquire() as producer:
            batch = getattr(producer, "batch", None)
            with batch(max_size=PUBLISH_BATCH) if batch else nullcontext():
                for check_id in check_ids:
                    check_source.apply_async((check_id,), producer=producer)

    if check_ids:
        transaction.on_commit(publish)


def check_queue(*, source: Source, reason: str) -> Check:
    """Queue a check of ``source`` now; returns the already open check if there is one.

    Raises ``CrawlerError`` (permanent) for a source without a public address.
    """
    if not source.url:
        raise CrawlerError(
            f"{source.title} has no public address, so it cannot be re-read.", permanent=True
        )
    crawl = crawl_settings_for(source=source)
    with transaction.atomic():
        CrawlSettings.objects.select_for_update().get(pk=crawl.pk)
        open_check = Check.objects.filter(source=source, status__in=OPEN_STATUSES).first()
        if open_check is not None:
            return open_check
        check = Check.objects.create(
            source=source, reason=reason, url=source.url, queued_at=timezone.now()
        )
        _enqueue([check.pk])
    return check


def _stale_after() -> dt.timedelta:
    # An hour and a full task time limit after it was queued, an open check has lost its
    # message (a broker restart, a purge): queue it again. A killed worker's checks need not
    # wait for this; the broker re-delivers them within a minute (atlas/celery.py).
    return dt.timedelta(seconds=3600 + settings.CELERY_TASK_TIME_LIMIT)


def sources_sweep(*, limit: int, now: dt.datetime | None = None) -> list[int]:
    """Queue one check for each enabled, listed source that is due, at most ``limit`` of them.

    Returns the ids of the checks queued (re-queued stale checks included). Sources are
    claimed under row locks, skipping rows another sweep holds, and their next check time
    moves forward before commit, so overlapping sweeps never queue a source twice.
    """
    now = now or timezone.now()
    queued: list[int] = []
    stale = list(
        Check.objects.filter(
            status__in=OPEN_STATUSES, queued_at__lt=now - _stale_after()
        ).values_list("pk", flat=True)[:limit]
    )
    for check_id in stale:
        if Check.objects.filter(pk=check_id, status__in=OPEN_STATUSES).update(
            status=Check.Status.QUEUED, queued_at=now
        ):
            queued.append(check_id)
    _enqueue(list(queued))

    # Sources without settings get the defaults first, so they are swept too. Unlisted ones
    # (cited only by unapproved drafts) are not read: any new account could choose them.
    missing = (
        Source.objects.listed().filter(crawl__isnull=True).values_list("pk", flat=True)[:limit]
    )
    for source_id in missing:
        try:
            with transaction.atomic():
                CrawlSettings.objects.create(source_id=source_id)
        except IntegrityError:
            pass  # created by a concurrent sweep

    with transaction.atomic():
        due = list(
            CrawlSettings.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("source")
            .filter(enabled=True, source__listed=True)
            .exclude(source__url="")
            .filter(Q(next_check_at__isnull=True) | Q(next_check_at__lte=now))
            .exclude(source__crawl_checks__status__in=OPEN_STATUSES)
            .order_by(F("next_check_at").asc(nulls_first=True), "pk")[: max(0, limit)]
        )
        checks = Check.objects.bulk_create(
            Check(source=crawl.source, reason="sweep", url=crawl.source.url, queued_at=now)
            for crawl in due
        )
        # One UPDATE per distinct interval (usually one in all), not a CASE per row.
        by_interval: dict[int, list[int]] = {}
        for crawl in due:
            by_interval.setdefault(crawl.interval_hours, []).append(crawl.pk)
        for hours, pks in by_interval.items():
            CrawlSettings.objects.filter(pk__in=pks).update(
                next_check_at=now + dt.timedelta(hours=hours)
            )
        new_ids = [check.pk for check in checks]
        if None in new_ids:  # backends that cannot return ids from a bulk insert
            new_ids = list(
                Check.objects.filter(
                    source__in=[crawl.source_id for crawl in due], status=Check.Status.QUEUED
                ).values_list("pk", flat=True)
            )
        _enqueue(new_ids)
        queued.extend(new_ids)
    return queued


# --- running ---------------------------------------------------------------------------------


def _load(check_id: int) -> Check:
    # One query for everything the fetch and the fast path need; the current version's text
    # and raw body stay in the database until a claim or a re-extraction asks for them.
    live_claims = Claim.objects.filter(source_id=OuterRef("source_id")).exclude(
        status=Claim.Status.RETIRED
    )
    return (
        Check.objects.select_related("source__crawl__current_version")
        .defer("source__crawl__current_version__text", "source__crawl__current_version__raw_body")
        .annotate(cited=Exists(live_claims))
        .get(pk=check_id)
    )


def check_run(*, check_id: int, final_attempt: bool = True) -> Check | None:
    """Run one queued check: fetch, extract, record, re-verify the source's claims.

    Returns the finished check, or None when it was already finished (a re-delivered task).
    A transient failure on a non-final attempt puts the check back in the queue state and
    re-raises the ``CrawlerError`` so the task can retry; on the final attempt it is recorded
    as a failure. A body identical to the one that produced the current text (same selectors,
    same extractor) is recorded as *unchanged* without being parsed again.
    """
    now = timezone.now()
    claimed = Check.objects.filter(pk=check_id, status__in=OPEN_STATUSES).update(
        status=Check.Status.RUNNING, started_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    check = _load(check_id)
    started = time.monotonic()
    if check.attempts > MAX_ATTEMPTS:
        # A check whose worker keeps dying (a hard time limit, a crash) is re-delivered
        # again and again; stop here rather than loop forever.
        return _check_fail(
            check=check,
            error=CrawlerError(
                f"Gave up after {MAX_ATTEMPTS} attempts that did not finish.", permanent=False
            ),
            started=started,
        )
    crawl = getattr(check.source, "crawl", None) or crawl_settings_for(source=check.source)
    has_version = crawl.current_version_id is not None
    try:
        result = fetch.fetch(
            check.url,
            etag=crawl.etag if has_version else "",
            last_modified=crawl.last_modified if has_version else "",
        )
    except CrawlerError as exc:
        if not exc.permanent and not final_attempt:
            Check.objects.filter(pk=check_id, status=Check.Status.RUNNING).update(
                status=Check.Status.QUEUED, error=f"Attempt {check.attempts}: {exc}"
            )
            raise
        return _check_fail(check=check, error=exc, started=started)
    body_hash = "" if result.not_modified else raw_hash(result.body)
    extracted: Extracted | None = None
    if not result.not_modified and not _same_body(crawl, body_hash):
        try:
            extracted = _extract(result, crawl)
        except CrawlerError as exc:
            return _check_fail(check=check, error=exc, started=started)
    return _check_record(
        check=check,
        seen=crawl,
        result=result,
        body_hash=body_hash,
        extracted=extracted,
        started=started,
    )


def raw_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _same_body(crawl: CrawlSettings, body_hash: str) -> bool:
    """Did the current version come from exactly this body, read with today's rules?"""
    current = crawl.current_version
    return (
        current is not None
        and bool(current.raw_hash)
        and current.raw_hash == body_hash
        and not _rules_changed(crawl, current)
    )


def _extract(result: FetchResult, crawl: CrawlSettings) -> Extracted:
    try:
        return extract(
            result.body,
            content_type=result.content_type,
            charset=result.charset,
            keep=crawl.keep_list,
            remove=crawl.remove_list,
        )
    except CrawlerError as exc:
        exc.status_code = result.status_code
        exc.final_url = result.final_url
        exc.redirects = result.redirects
        exc.bytes_received = result.bytes_received
        raise


def _lock_crawl(source_id: int, *, with_text: bool = True) -> CrawlSettings:
    # Everything that writes a source's versions or schedule holds this row lock, so two
    # deliveries of one check, or a check and a selector edit, take turns. The current text
    # comes along only when claims will be searched in it.
    deferred = ["current_version__raw_body"]
    if not with_text:
        deferred.append("current_version__text")
    return (
        CrawlSettings.objects.select_for_update(of=("self",))
        .select_related("current_version")
        .defer(*deferred)
        .get(source_id=source_id)
    )


def _finish(check: Check, **fields) -> bool:
    """Write the check's outcome if it is still running (caller holds the crawl lock).

    False means another delivery of the same task finished it first; the caller then rolls
    back whatever it wrote, so nothing is stored twice.
    """
    finished = Check.objects.filter(pk=check.pk, status=Check.Status.RUNNING).update(**fields)
    if not finished:
        transaction.set_rollback(True)
        return False
    for name, value in fields.items():
        setattr(check, name, value)
    return True


def _version_for(
    *,
    crawl: CrawlSettings,
    extracted: Extracted,
    raw: bytes,
    content_type: str,
    url: str,
    cause: str,
    now: dt.datetime,
) -> Version:
    """The source's version with this text, created when the text has never been seen.

    The current version stands for any text with the same words in the same order: a text
    that differs only in where its lines break (a page read by an earlier extractor, which
    kept the source's line breaks inside paragraphs) is not a new version.
    """
    current = crawl.current_version
    if current is not None and (
        current.content_hash == extracted.content_hash or _same_words(current.text, extracted.text)
    ):
        return current
    # One query answers both "was this text seen before?" and "what number comes next?".
    found = Version.objects.filter(source_id=crawl.source_id).aggregate(
        highest=Max("number"), seen=Max("pk", filter=Q(content_hash=extracted.content_hash))
    )
    if found["seen"] is not None:
        return Version.objects.defer("text", "raw_body").get(pk=found["seen"])
    return Version.objects.create(
        source_id=crawl.source_id,
        number=(found["highest"] or 0) + 1,
        content_hash=extracted.content_hash,
        text=extracted.text,
        cause=cause,
        created_at=now,
        fetched_url=url[:1000],
        raw_body=Version.compress(raw),
        raw_size=len(raw),
        raw_hash=raw_hash(raw),
        raw_content_type=content_type,
        raw_encoding=extracted.encoding,
        keep_selectors=crawl.keep_selectors,
        remove_selectors=crawl.remove_selectors,
        extractor_revision=EXTRACTOR_REVISION,
    )


def _same_words(old: str, new: str) -> bool:
    """Do two extracted texts hold the same words, whatever their line layout?"""
    return old.split() == new.split()


def _rules_changed(crawl: CrawlSettings, version: Version) -> bool:
    return (
        version.keep_selectors != crawl.keep_selectors
        or version.remove_selectors != crawl.remove_selectors
        or version.extractor_revision != EXTRACTOR_REVISION
    )


def _reextract_locked(*, crawl: CrawlSettings, reason: str, now: dt.datetime) -> Check | None:
    """Re-read the current version's raw body with today's rules (caller holds the lock).

    Records a *reextract* check; a new version only when the text differs. Returns the check,
    or None when the source has no version yet or its current text was imported.
    """
    current = crawl.current_version
    if current is None or current.imported:
        # An imported text came with no page body of the source to read again.
        return None
    check = Check(
        source_id=crawl.source_id,
        kind=Check.Kind.REEXTRACT,
        reason=reason,
        url=current.fetched_url or crawl.source.url,
        queued_at=now,
        started_at=now,
        finished_at=now,
        attempts=1,
        previous_version=current,
        content_type=current.raw_content_type,
    )
    try:
        extracted = extract(
            current.raw,
            content_type=current.raw_content_type,
            keep=crawl.keep_list,
            remove=crawl.remove_list,
        )
    except CrawlerError as exc:
        check.status = Check.Status.FAILED
        check.outcome = Check.Outcome.FAILED
        check.error = f"Re-extraction with the new selectors failed: {exc}"
        check.error_permanent = True
        check.version = current
        check.save()
        return check
    version = _version_for(
        crawl=crawl,
        extracted=extracted,
        raw=current.raw,
        content_type=current.raw_content_type,
        url=current.fetched_url,
        cause=Version.Cause.REEXTRACTION,
        now=now,
    )
    check.status = Check.Status.DONE
    check.outcome = (
        Check.Outcome.REEXTRACTED if version.pk != current.pk else Check.Outcome.UNCHANGED
    )
    if version.pk == current.pk and _rules_changed(crawl, current):
        # Today's rules read the same words from this body: the stored text stands for them,
        # so the next checks do not re-extract it again and again.
        rules = {
            "keep_selectors": crawl.keep_selectors,
            "remove_selectors": crawl.remove_selectors,
            "extractor_revision": EXTRACTOR_REVISION,
        }
        Version.objects.filter(pk=current.pk).update(**rules)
        for name, value in rules.items():
            setattr(current, name, value)
    check.version = version
    check.save()
    crawl.current_version = version
    crawl.save(update_fields=["current_version"])
    return check


def _done_fields(
    *,
    result: FetchResult,
    outcome: str,
    version: Version,
    previous: Version | None,
    started: float,
    now: dt.datetime,
) -> dict:
    return {
        "status": Check.Status.DONE,
        "outcome": outcome,
        "finished_at": now,
        "http_status": result.status_code,
        "final_url": result.final_url[:1000],
        "redirects": result.redirects,
        "duration_ms": int((time.monotonic() - started) * 1000),
        "bytes_received": result.bytes_received,
        "content_type": result.content_type[:100],
        "error": "",
        "error_permanent": None,
        "version": version,
        "previous_version": previous,
    }


def _read_fields(*, result: FetchResult, now: dt.datetime) -> dict:
    return {
        "last_checked_at": now,
        "consecutive_failures": 0,
        "etag": result.etag[:300],
        "last_modified": result.last_modified[:100],
    }


def _check_record(
    *,
    check: Check,
    seen: CrawlSettings,
    result: FetchResult,
    body_hash: str,
    extracted: Extracted | None,
    started: float,
) -> Check | None:
    now = timezone.now()
    cited = getattr(check, "cited", True)
    unchanged = (
        seen.current_version_id is not None
        if result.not_modified
        else extracted is None and _same_body(seen, body_hash)
    )
    if unchanged:
        # The common re-check: nothing new to store. The settings row is written only if
        # its current version and selectors are still those read before the fetch, and
        # that UPDATE's row lock holds until commit, as the SELECT FOR UPDATE below would.
        with transaction.atomic():
            next_check = now + dt.timedelta(hours=seen.interval_hours)
            moved = CrawlSettings.objects.filter(
                pk=seen.pk,
                current_version_id=seen.current_version_id,
                keep_selectors=seen.keep_selectors,
                remove_selectors=seen.remove_selectors,
            ).update(
                **_read_fields(result=result, now=now),
                next_check_at=Greatest(Coalesce("next_check_at", Value(now)), Value(next_check)),
            )
            if moved:
                version = seen.current_version
                outcome = (
                    Check.Outcome.NOT_MODIFIED if result.not_modified else Check.Outcome.UNCHANGED
                )
                if not _finish(
                    check,
                    **_done_fields(
                        result=result,
                        outcome=outcome,
                        version=version,
                        previous=version,
                        started=started,
                        now=now,
                    ),
                ):
                    return None
                if cited:
                    claims_reverify(check=check, text=version.text)
                return check
        # Something moved the current version or the selectors meanwhile: the full path.
    with transaction.atomic():
        crawl = _lock_crawl(check.source_id, with_text=cited)
        current = crawl.current_version
        if current is not None and not result.not_modified and _rules_changed(crawl, current):
            # Selectors were edited since the last version: whatever that edit alone
            # changes is recorded as a re-extraction, not as the provider's change.
            edited = (crawl.keep_selectors, crawl.remove_selectors) != (
                current.keep_selectors,
                current.remove_selectors,
            )
            reason = "selectors edited" if edited else "extraction rules revised"
            _reextract_locked(crawl=crawl, reason=reason, now=now)
        previous = crawl.current_version
        if result.not_modified:  # 304 Not Modified
            if previous is None:
                return _check_fail_locked(
                    check=check,
                    crawl=crawl,
                    error=CrawlerError("304 answered without a stored version.", permanent=False),
                    started=started,
                    now=now,
                )
            version = previous
            outcome = Check.Outcome.NOT_MODIFIED
        elif _same_body(crawl, body_hash):
            version = previous
            outcome = Check.Outcome.UNCHANGED
        else:
            if extracted is None:
                # The body looked unchanged before the lock, but the current version moved
                # (a selector edit, a concurrent delivery) since: read it properly now.
                try:
                    extracted = _extract(result, crawl)
                except CrawlerError as exc:
                    return _check_fail_locked(
                        check=check, crawl=crawl, error=exc, started=started, now=now
                    )
            version = _version_for(
                crawl=crawl,
                extracted=extracted,
                raw=result.body,
                content_type=result.content_type,
                url=result.final_url,
                cause=Version.Cause.FIRST if previous is None else Version.Cause.PROVIDER_CHANGE,
                now=now,
            )
            if previous is None:
                outcome = Check.Outcome.FIRST
            elif version.pk == previous.pk:
                outcome = Check.Outcome.UNCHANGED
            else:
                outcome = Check.Outcome.CHANGED
        if not _finish(
            check,
            **_done_fields(
                result=result,
                outcome=outcome,
                version=version,
                previous=previous,
                started=started,
                now=now,
            ),
        ):
            return None
        CrawlSettings.objects.filter(pk=crawl.pk).update(
            **_read_fields(result=result, now=now),
            current_version=version,
            next_check_at=max(
                crawl.next_check_at or now, now + dt.timedelta(hours=crawl.interval_hours)
            ),
        )
        if cited:
            claims_reverify(check=check, text=version.text)
    return check


def _check_fail(*, check: Check, error: CrawlerError, started: float) -> Check | None:
    now = timezone.now()
    with transaction.atomic():
        crawl = _lock_crawl(check.source_id, with_text=False)
        return _check_fail_locked(check=check, crawl=crawl, error=error, started=started, now=now)


def _check_fail_locked(
    *, check: Check, crawl: CrawlSettings, error: CrawlerError, started: float, now: dt.datetime
) -> Check | None:
    if not _finish(
        check,
        status=Check.Status.FAILED,
        outcome=Check.Outcome.FAILED,
        finished_at=now,
        error=str(error),
        error_permanent=error.permanent,
        http_status=error.status_code,
        final_url=(error.final_url or "")[:1000],
        redirects=error.redirects,
        bytes_received=error.bytes_received,
        duration_ms=int((time.monotonic() - started) * 1000),
        previous_version=crawl.current_version,
    ):
        return None
    schedule = {}
    if error.retry_after:
        schedule["next_check_at"] = max(
            crawl.next_check_at or now, now + dt.timedelta(seconds=error.retry_after)
        )
    CrawlSettings.objects.filter(pk=crawl.pk).update(
        last_checked_at=now, consecutive_failures=F("consecutive_failures") + 1, **schedule
    )
    if getattr(check, "cited", True):
        claims_reverify(check=check, text=None)
    return check


def check_abandon(*, check_id: int, reason: str) -> Check | None:
    """Record a check whose task ran out of time as failed (transient); None if not running."""
    check = Check.objects.filter(pk=check_id, status=Check.Status.RUNNING).first()
    if check is None:
        return None
    return _check_fail(
        check=check, error=CrawlerError(reason, permanent=False), started=time.monotonic()
    )


def source_reextract(*, source: Source, reason: str = "selectors edited") -> Check | None:
    """Re-extract the source's current raw body with its current selectors, now.

    Returns the *reextract* check (its outcome says whether the text changed), or None when
    the source has never been read. Claims are re-verified when the text changed.
    """
    crawl = crawl_settings_for(source=source)
    with transaction.atomic():
        crawl = CrawlSettings.objects.select_for_update().select_related("source").get(pk=crawl.pk)
        check = _reextract_locked(crawl=crawl, reason=reason, now=timezone.now())
        if check is not None and check.outcome == Check.Outcome.REEXTRACTED:
            claims_reverify(check=check, text=check.version.text)
    return check
