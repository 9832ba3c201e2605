"""What an approval does to the claims it touches: it re-reads their quotes, it does not vouch
for them.

A curator who approves an assessment or a correction has read the reviewer's evidence, not
every claim citing the same source. So a claim's check date moves at approval only when the
reviewer's evidence supports it, which here means all of:

- the claim cites a source the approved evidence cites (a rating's evidence, or the corrected
  claim's own source);
- the claim has an evidence quote;
- that quote is found, by the source checks' own matcher (``crawlers.matching``), in the
  source's latest stored text: the version its last successful check read
  (``CrawlSettings.current_version``), else its newest stored version.

The date it moves to is the day that text was last read from the source (its newest fetch
check, else the day the version was stored), never the day of approval and never backwards.
Each move leaves one *manual, confirmed* verification naming the curator and the version.
A claim without a quote, whose source has no stored text, or whose quote is not there is left
exactly as it was; no approval changes a claim's status.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Max
from django.utils import timezone

from assessments.services.moderation import MODERATION_REASON_MAX
from catalog.models import Claim, Verification
from crawlers.matching import TextIndex
from crawlers.models import Check, CrawlSettings, Version


@dataclass(frozen=True)
class StoredText:
    """A source's latest stored text, searchable, and the day it was last read."""

    version: Version
    read_on: dt.date
    index: TextIndex


@dataclass(frozen=True)
class Reading:
    """A claim's quote found in ``text``: the claim may be dated ``text.read_on``."""

    claim: Claim
    text: StoredText


def source_latest_text(*, source_id: int) -> StoredText | None:
    """The source's latest stored text and the day it was last read; None when the crawlers
    have stored none."""
    current_id = (
        CrawlSettings.objects.filter(source_id=source_id)
        .values_list("current_version_id", flat=True)
        .first()
    )
    versions = Version.objects.defer("raw_body").filter(source_id=source_id)
    version = (
        versions.filter(pk=current_id).first()
        if current_id is not None
        else versions.order_by("-number").first()
    )
    if version is None:
        return None
    fetched = Check.objects.filter(
        version=version, kind=Check.Kind.FETCH, status=Check.Status.DONE
    ).aggregate(last=Max("finished_at"))["last"]
    read_at = fetched or version.created_at
    return StoredText(
        version=version, read_on=timezone.localdate(read_at), index=TextIndex(version.text)
    )


class LatestTexts(dict):
    """Each source's latest stored text, read once per approval (None: nothing stored)."""

    def __missing__(self, source_id: int) -> StoredText | None:
        self[source_id] = source_latest_text(source_id=source_id)
        return self[source_id]


def claim_reread(*, claim: Claim, texts: LatestTexts) -> Reading | None:
    """The reading that lets ``claim``'s check date move, or None when it must stay: no
    quote, no stored text of its source, the quote not found there, or a date already as
    recent as that text."""
    quote = claim.evidence_quote.strip()
    if not quote:
        return None
    text = texts[claim.source_id]
    if text is None or claim.checked_at >= text.read_on:
        return None
    if not text.index.search(quote).found:
        return None
    return Reading(claim=claim, text=text)


def reading_record(*, reading: Reading, curator, occasion: str, **evidence) -> Verification:
    """Record ``reading`` as the claim's manual, confirmed verification by ``curator`` at
    ``occasion`` (e.g. "approval of assessment 7"); ``evidence`` is kept with it."""
    version = reading.text.version
    return Verification.objects.create(
        claim=reading.claim,
        checked_at=timezone.now(),
        method=Verification.Method.MANUAL,
        outcome=Verification.Outcome.CONFIRMED,
        note=(
            f"Quote re-read at {occasion} in version {version.number} of the source "
            f"(read {reading.text.read_on:%Y-%m-%d})."
        ),
        evidence={"version_id": version.pk, "version": version.number, **evidence},
        actor=curator,
    )


def reading_withdraw(*, verifications, curator, occasion: str, reason: str) -> None:
    """Mark the ``verifications`` an approval recorded as withdrawn by reverting it at
    ``occasion``: kept (the text was read), but no longer what dates the claim."""
    today = timezone.localdate()
    for verification in verifications:
        verification.evidence = {
            **verification.evidence,
            "reverted": {"by": curator.pk, "on": today.isoformat(), "reason": reason},
        }
        note = f"{verification.note} Withdrawn on {today:%Y-%m-%d} by {occasion}: {reason}"
        verification.note = note[:MODERATION_REASON_MAX]
        verification.save(update_fields=["evidence", "note"])
