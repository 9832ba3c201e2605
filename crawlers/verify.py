"""Claim re-verification: each claim's evidence quote searched in its source's checked text.

After every check, ``claims_reverify`` records one verification per live claim citing the
source. Nothing here rewrites a claim's value:

- quote found (its words there, in order: ``crawlers.matching``): *confirmed*, pointing at
  the stored version read and the offsets of the quote's span in that version's text; the
  claim's ``checked_at`` becomes the day the text was read (today, for a check), never
  earlier than it was;
- quote located but worded differently: *changed wording*, with the passage and the differing
  words in the evidence, and a *current* claim becomes *needs review*;
- quote not found: *contradicted*, and a *current* claim becomes *needs review*;
- no quote, or a page that could not be read: *inconclusive*, and the claim is left as it
  was; while a source keeps failing the same way, one inconclusive verification per claim
  marks the start of that failure, not one per failed check.

``claims_reverify_imported`` applies the same rules to a text Atlas imported with its date
(``crawlers.text_import``): the text was read on that date, so that is the day a found quote
dates the claim, and the verification's ``checked_at``.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from catalog.models import Claim, Verification
from crawlers.matching import MATCH_THRESHOLD, TextIndex, locate
from crawlers.models import Check, Version


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
        verification = _verification_for(
            claim=claim,
            index=index,
            evidence={
                "check_id": check.pk,
                "version_id": check.version_id,
                "url": check.final_url or check.url,
                "threshold": MATCH_THRESHOLD,
            },
            occasion=f"Source re-check {check.pk}",
            read_at=timezone.now(),
            unreadable=check.error,
        )
        if kind:
            verification.evidence["failure"] = kind
        if verification.outcome == Verification.Outcome.CONFIRMED and text is not None:
            _pin(verification, version_id=check.version_id, text=text)
        verifications.append(verification)
    return Verification.objects.bulk_create(verifications)


def quote_fingerprint(quote: str) -> str:
    """What an imported text's verification remembers of the quote it sought."""
    return hashlib.sha256(quote.strip().encode("utf-8")).hexdigest()


def claims_reverify_imported(
    *, version: Version, read_at: dt.datetime, occasion: str, evidence: dict
) -> list[Verification]:
    """Re-verify the claims citing ``version``'s source against its text, read at ``read_at``.

    ``version`` is an imported text (or the source's newest text after an import) and
    ``read_at`` the moment its record says it was read. A found quote dates its claim that
    day, if that is later than the claim's date; a missed one follows the rules above.
    Claims already verified against this version with the same quote are skipped, so a
    second import of the same data writes nothing. Returns the verifications written.
    """
    claims = Claim.objects.filter(source_id=version.source_id).exclude(status=Claim.Status.RETIRED)
    done = set(
        Verification.objects.filter(
            claim__in=claims,
            method=Verification.Method.SOURCE_CHECK,
            evidence__version_id=version.pk,
            evidence__has_key="quote_sha256",
        ).values_list("claim_id", "evidence__quote_sha256")
    )
    pending = [c for c in claims if (c.pk, quote_fingerprint(c.evidence_quote)) not in done]
    if not pending:
        return []
    index = TextIndex(version.text)
    verifications = []
    for claim in pending:
        verification = _verification_for(
            claim=claim,
            index=index,
            evidence={
                **evidence,
                "version_id": version.pk,
                "threshold": MATCH_THRESHOLD,
                "quote_sha256": quote_fingerprint(claim.evidence_quote),
            },
            occasion=occasion,
            read_at=read_at,
            unreadable="",
        )
        if verification.outcome == Verification.Outcome.CONFIRMED:
            _pin(verification, version_id=version.pk, text=version.text)
        verifications.append(verification)
    return Verification.objects.bulk_create(verifications)


def _pin(verification: Verification, *, version_id: int | None, text: str) -> None:
    """Point a confirmed verification at the version read and the quote's span in its text.

    Without a span when the quote was confirmed but does not stand there word for word.
    """
    if version_id is None:
        return
    verification.found_in_id = version_id
    span = locate(text, verification.claim.evidence_quote)
    if span is not None:
        verification.quote_start, verification.quote_end = span


def _verification_for(
    *,
    claim: Claim,
    index: TextIndex | None,
    evidence: dict,
    occasion: str,
    read_at: dt.datetime,
    unreadable: str,
) -> Verification:
    """The claim's verification against ``index`` (None: the source could not be read,
    ``unreadable`` saying why), a text read at ``read_at``; unsaved. The claim itself is saved
    when its date or status moves, with ``occasion`` in the reason."""
    read_on = timezone.localdate(read_at)
    score = None
    if index is None:
        outcome = Verification.Outcome.INCONCLUSIVE
        note = f"The source could not be read, so the quote was not checked: {unreadable}"
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
            # Never backwards: a text read earlier than the claim's date cannot age it.
            if claim.checked_at < read_on:
                claim.checked_at = read_on
                claim._change_reason = f"{occasion}: quote found"
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
                claim._change_reason = f"{occasion}: {reason}"
                claim.save(update_fields=["status", "updated_at"])
    return Verification(
        claim=claim,
        checked_at=read_at,
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
