"""Freshness of a dated fact, derived from its check date and ATLAS_FRESHNESS_DAYS.

A fact is *current* for the first half of the window, *ageing* for the second
half and *stale* past it. One definition serves Python (``level``) and SQL
(``annotation`` / ``filter_q``), so pages, filters and the API agree.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Case, CharField, Q, Value, When
from django.utils import timezone

CURRENT = "current"
AGEING = "ageing"
STALE = "stale"
UNKNOWN = "unknown"
LEVELS = (CURRENT, AGEING, STALE)


def thresholds(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """Return (ageing_after, stale_after): check dates before these are ageing / stale."""
    today = today or timezone.localdate()
    window = settings.ATLAS_FRESHNESS_DAYS
    return today - dt.timedelta(days=window // 2), today - dt.timedelta(days=window)


def level(checked: dt.date | dt.datetime | None, today: dt.date | None = None) -> str:
    if checked is None:
        return UNKNOWN
    if isinstance(checked, dt.datetime):
        checked = checked.date()
    ageing_after, stale_after = thresholds(today)
    if checked < stale_after:
        return STALE
    if checked < ageing_after:
        return AGEING
    return CURRENT


def annotation(field: str) -> Case:
    ageing_after, stale_after = thresholds()
    return Case(
        When(**{f"{field}__isnull": True}, then=Value(UNKNOWN)),
        When(**{f"{field}__lt": stale_after}, then=Value(STALE)),
        When(**{f"{field}__lt": ageing_after}, then=Value(AGEING)),
        default=Value(CURRENT),
        output_field=CharField(),
    )


def filter_q(field: str, wanted: str) -> Q:
    ageing_after, stale_after = thresholds()
    if wanted == STALE:
        return Q(**{f"{field}__lt": stale_after})
    if wanted == AGEING:
        return Q(**{f"{field}__lt": ageing_after, f"{field}__gte": stale_after})
    if wanted == CURRENT:
        return Q(**{f"{field}__gte": ageing_after})
    raise ValueError(f"unknown freshness level {wanted!r}; use one of {LEVELS}")
