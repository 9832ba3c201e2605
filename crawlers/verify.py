"""Claim re-verification: each claim's evidence quote searched in its source's checked text.

After every check, ``claims_reverify`` records one verification per live claim citing the
source. Nothing here rewrites a claim's value:

- quote found (its words there, in order: ``crawlers.matching``): *confirmed*, pointing at
  the stored version read and the offsets of the quote's span in that version's text; the
  claim's ``checked_at`` becomes today;
- quote located but worded differently: *changed wording*, with the passage and the differing
  words in the evidence, and a *current* claim becomes *needs review*;
- quote not found: *contradicted*, and a *current* claim becomes *needs review*;
- no quote, or a page that could not be read: *inconclusive*, and the claim is left as it
  was; while a source keeps failing the same way, one inconclusive verification per claim
  marks the start of that failure, not one per failed check.
"""

from __future__ import annotations

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from catalog.models import Claim, Verification
from crawlers.matching import MATCH_THRESHOLD, TextIndex, locate
from crawlers.models import Check


def failure_kind(*, permanent: bool | None, http_status: int | None) -> str:
    """What kind of failure a check met, in words: equal kinds are one ongoing failure."""
    answer = f"HTTP {http_status}" if http_status else "no usable answer"
    return f"{'permanent' if permanent else 'transient'}, {answer}"


def claims_reverify(*, check: Check, text: str | None) -> list[Verification]:
    """Re-verify every claim citing the check's source against ``text`` (None: unreadable).

    ``text`` is the text of ``check.version``, the version the check read.

    Returns the verifications written. While a source keeps failing the same way, a claim
    gets one *inconclusive* verification when the failure starts (or changes kind), not one
    per failed check: the checks themselves record every failed read.
    """
    claims = Claim.objects.filter(source_id=check.source_id).exclude(status=Claim.Status.RETIRED)
    kind = ""
    if text is None:
        kind = failure_kind(permanent=check.error_permanent, http_status=check.http_status)
        # The claim's latest source check, read by the (claim, -checked_at) index.
        latest = Verification.objects.filter(
            claim_id=OuterRef("pk"), method=Verification.Method.SOURCE_CHECK
        ).order_by("-checked_at", "-id")
        claims = claims.annotate(
            last_outcome=Subquery(latest.values("outcome")[:1]),
            last_failure=Subquery(latest.values("evidence__failure")[:1]),
        )
    index = TextIndex(text) if text is not None else None
    verifications = []
    for claim in claims:
        if (
            text is None
            and claim.last_outcome == Verification.Outcome.INCONCLUSIVE
            and claim.last_failure == kind
        ):
            continue
        verification = _verification_for(claim=claim, check=check, index=index)
        if kind:
            verification.evidence["failure"] = kind
        if verification.outcome == Verification.Outcome.CONFIRMED and text is not None:
            _pin(verification, check=check, text=text)
        verifications.append(verification)
    return Verification.objects.bulk_create(verifications)


def _pin(verification: Verification, *, check: Check, text: str) -> None:
    """Point a confirmed verification at the version read and the quote's span in its text.

    Without a span when the quote was confirmed but does not stand there word for word.
    """
    if check.version_id is None:
        return
    verification.found_in_id = check.version_id
    span = locate(text, verification.claim.evidence_quote)
    if span is not None:
        verification.quote_start, verification.quote_end = span


def _verification_for(*, claim: Claim, check: Check, index: TextIndex | None) -> Verification:
    """The claim's verification against ``index``, unsaved; the claim itself is saved."""
    now = timezone.now()
    evidence = {
        "check_id": check.pk,
        "version_id": check.version_id,
        "url": check.final_url or check.url,
        "threshold": MATCH_THRESHOLD,
    }
    score = None
    if index is None:
        outcome = Verification.Outcome.INCONCLUSIVE
        note = f"The source could not be read, so the quote was not checked: {check.error}"
    elif not claim.evidence_quote.strip():
        outcome = Verification.Outcome.INCONCLUSIVE
        note = "The claim has no evidence quote to look for."
    else:
        match = index.search(claim.evidence_quote)
        score = match.score
        evidence["closest_text"] = match.excerpt[:500]
        if match.found:
            outcome = Verification.Outcome.CONFIRMED
            note = "The evidence quote is in the source's current text."
            if claim.checked_at != timezone.localdate():
                claim.checked_at = timezone.localdate()
                claim._change_reason = f"Source re-check {check.pk}: quote found"
                claim.save(update_fields=["checked_at", "updated_at"])
        else:
            if match.near_miss:
                outcome = Verification.Outcome.CHANGED_WORDING
                evidence["passage"] = match.excerpt[:500]
                evidence["differences"] = [
                    {"quote": quote, "page": page} for quote, page in match.differences
                ]
                note = (
                    "The source has the quote's passage, but in different words: "
                    + "; ".join(_difference_text(q, p) for q, p in match.differences[:10])
                    + "."
                )
                reason = "quote's wording changed"
            else:
                outcome = Verification.Outcome.CONTRADICTED
                note = (
                    "The evidence quote is no longer in the source (best match "
                    f"{match.score:.2f}, needed {MATCH_THRESHOLD:.2f})."
                )
                reason = "quote not found"
            if claim.status == Claim.Status.CURRENT:
                claim.status = Claim.Status.NEEDS_REVIEW
                claim._change_reason = f"Source re-check {check.pk}: {reason}"
                claim.save(update_fields=["status", "updated_at"])
    return Verification(
        claim=claim,
        checked_at=now,
        method=Verification.Method.SOURCE_CHECK,
        outcome=outcome,
        note=note,
        match_score=score,
        evidence=evidence,
    )


def _difference_text(quote: str, page: str) -> str:
    if not page:
        return f"“{quote}” is missing"
    if not quote:
        return f"“{page}” was added"
    return f"“{quote}” now reads “{page}”"
