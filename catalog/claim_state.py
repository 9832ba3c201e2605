"""What badge a claim gets: its status first, its evidence second, its age last.

A claim needing review, disputed or retired is badged as such, whatever its date. A claim in
force without an evidence quote is *unverifiable*: no check can confirm or contradict it, so
its check date says nothing about whether its words still stand and it is never badged
current. Only a verifiable claim in force is badged by the age of its check date (current,
ageing or stale, see ``catalog.freshness``). One definition serves Python (``verifiable``,
``badge``) and SQL (``verifiable_q``, ``filter_q``), so pages, figures and the API agree.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from catalog import freshness
from catalog.models import ClaimStatus

UNVERIFIABLE = "unverifiable"
# The badges a claim's status gives it before its evidence or age is looked at.
STATUS_BADGES = (ClaimStatus.NEEDS_REVIEW, ClaimStatus.DISPUTED, ClaimStatus.RETIRED)
AGE_BADGES = (*freshness.LEVELS, freshness.UNKNOWN)


def verifiable(quote: str) -> bool:
    """Whether a claim with this evidence quote can be checked against its source."""
    return bool(quote)


def verifiable_q() -> Q:
    """Claims with an evidence quote (``verifiable`` in SQL)."""
    return ~Q(evidence_quote="")


def badge(*, status: str, quote: str, checked: dt.date | None, today: dt.date | None = None) -> str:
    """The claim's badge: its status unless in force, then ``UNVERIFIABLE`` without a quote,
    then the freshness level of ``checked``."""
    if status != ClaimStatus.CURRENT:
        return str(status)
    if not verifiable(quote):
        return UNVERIFIABLE
    return freshness.level(checked, today)


def filter_q(wanted: str) -> Q:
    """Claims whose ``badge`` is ``wanted`` (a status badge, ``UNVERIFIABLE`` or a freshness
    level other than unknown, since every claim has a check date)."""
    if wanted in STATUS_BADGES:
        return Q(status=wanted)
    in_force = Q(status=ClaimStatus.CURRENT)
    if wanted == UNVERIFIABLE:
        return in_force & ~verifiable_q()
    return in_force & verifiable_q() & freshness.filter_q("checked_at", wanted)
