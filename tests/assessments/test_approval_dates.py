"""Approvals move no dates by themselves: a claim's check date moves at approval only when its
quote is found in its source's latest stored text, and a revert puts the dates back."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone

from assessments.models import Assessment, RatingEvidence
from assessments.services.assessments import assessment_approve, assessment_revert
from assessments.services.corrections import (
    claim_correction_approve,
    claim_correction_create,
    claim_correction_revert,
)
from catalog.models import Claim, Provider, Verification
from crawlers.models import Version
from tests.factories import ABSENT, FOUND, OLD, TEXT, store_text


def dated(claim: Claim, *, quote: str) -> Claim:
    """``claim`` with ``quote``, last checked on ``OLD``: a recorded version of it."""
    claim.evidence_quote = quote
    claim.checked_at = OLD
    claim.save()
    return claim


def state(claim: Claim) -> tuple:
    claim.refresh_from_db()
    return (claim.checked_at, claim.status, claim.evidence_quote)


@dataclass
class Cited:
    """Mistral claims citing sources the submission's ratings cite, each dated ``OLD``."""

    found: Claim  # its quote is in its source's stored text
    absent: Claim  # same source, an unrelated quote the text does not hold
    unquoted: Claim  # another source with stored text, no quote
    unstored: Claim  # a quote, but its source has no stored text
    version: Version


@pytest.fixture
def cited(mistral: Provider, submission: Assessment) -> Cited:
    sources = sorted(
        set(
            RatingEvidence.objects.filter(rating__assessment=submission).values_list(
                "source_id", flat=True
            )
        )
    )
    by_source = {
        s: list(
            Claim.objects.filter(provider=mistral, source_id=s)
            .exclude(status=Claim.Status.RETIRED)
            .order_by("pk")
        )
        for s in sources
    }
    shared = next(s for s in sources if len(by_source[s]) >= 2)
    others = [s for s in sources if s != shared and by_source[s]]
    version = store_text(shared, TEXT, read_days_ago=1)
    store_text(others[0], TEXT)
    return Cited(
        found=dated(by_source[shared][0], quote=FOUND),
        absent=dated(by_source[shared][1], quote=ABSENT),
        unquoted=dated(by_source[others[0]][0], quote=""),
        unstored=dated(by_source[others[1]][0], quote=FOUND),
        version=version,
    )


def approve(submission: Assessment, curator):
    return assessment_approve(assessment=submission, curator=curator, revision=submission.revision)


def test_approving_an_assessment_leaves_claims_whose_quote_was_not_re_found_as_they_were(
    cited, submission, curator
):
    before = {c.pk: state(c) for c in (cited.absent, cited.unquoted, cited.unstored)}
    approve(submission, curator)
    after = {c.pk: state(c) for c in (cited.absent, cited.unquoted, cited.unstored)}
    assert after == before
    untouched = [cited.absent, cited.unquoted, cited.unstored]
    assert not Verification.objects.filter(claim__in=untouched, actor=curator).exists()


def test_approving_dates_a_claim_whose_quote_is_in_the_latest_stored_text_by_that_reading(
    cited, submission, curator
):
    result = approve(submission, curator)
    cited.found.refresh_from_db()
    read_on = timezone.localdate(timezone.now() - dt.timedelta(days=1))
    assert cited.found.checked_at == read_on, "the day the text was read, not the approval's"
    assert cited.found.status == Claim.Status.CURRENT
    assert result.claims_rechecked == 1
    verification = Verification.objects.get(claim=cited.found, actor=curator)
    assert verification.method == Verification.Method.MANUAL
    assert verification.outcome == Verification.Outcome.CONFIRMED
    assert f"approval of assessment {submission.pk}" in verification.note
    assert f"version {cited.version.number}" in verification.note
    assert verification.evidence["version_id"] == cited.version.pk
    result.assessment.refresh_from_db()
    assert result.assessment.claims_moved == {
        str(cited.found.pk): {
            "checked_at": OLD.isoformat(),
            "moved_to": read_on.isoformat(),
            "verification": verification.pk,
        }
    }


def test_reverting_an_approval_restores_the_earlier_dates_and_statuses_exactly(
    cited, submission, curator, second_curator
):
    claims = [cited.found, cited.absent, cited.unquoted, cited.unstored]
    before = {c.pk: state(c) for c in claims}
    published = approve(submission, curator).assessment
    assert state(cited.found) != before[cited.found.pk]
    assessment_revert(
        assessment=published,
        curator=second_curator,
        revision=published.revision,
        reason="Approved too fast.",
    )
    assert {c.pk: state(c) for c in claims} == before
    record = cited.found.history.latest("history_date")
    assert record.history_user == second_curator
    assert "Approved too fast." in record.history_change_reason
    verification = Verification.objects.get(claim=cited.found, actor=curator)
    assert verification.outcome == Verification.Outcome.CONFIRMED, "the reading happened"
    assert verification.evidence["reverted"]["by"] == second_curator.pk
    assert "Withdrawn" in verification.note


def test_a_reading_after_the_approval_survives_its_revert(
    cited, submission, curator, second_curator
):
    published = approve(submission, curator).assessment
    today = timezone.localdate()
    Claim.objects.filter(pk=cited.found.pk).update(checked_at=today)
    Verification.objects.create(
        claim=cited.found,
        checked_at=timezone.now(),
        method=Verification.Method.SOURCE_CHECK,
        outcome=Verification.Outcome.CONFIRMED,
    )
    assessment_revert(
        assessment=published, curator=second_curator, revision=published.revision, reason="No."
    )
    cited.found.refresh_from_db()
    assert cited.found.checked_at == today


# --- corrections ---------------------------------------------------------------------------


def test_approving_a_correction_moves_no_date_when_the_quote_is_not_in_the_stored_text(
    cited, reviewer, curator
):
    claim = cited.absent
    correction = claim_correction_create(
        author=reviewer, claim=claim, reason="Only on paid plans.", condition="Paid plans."
    )
    claim_correction_approve(correction=correction, curator=curator, revision=1)
    claim.refresh_from_db()
    assert claim.condition == "Paid plans."
    assert (claim.checked_at, claim.status) == (OLD, Claim.Status.CURRENT)
    assert not Verification.objects.filter(claim=claim, actor=curator).exists()


def test_approving_a_correction_of_an_unquoted_claim_moves_no_date(cited, reviewer, curator):
    claim = cited.unquoted
    correction = claim_correction_create(
        author=reviewer, claim=claim, reason="Only on paid plans.", condition="Paid plans."
    )
    claim_correction_approve(correction=correction, curator=curator, revision=1)
    claim.refresh_from_db()
    assert (claim.checked_at, claim.status) == (OLD, Claim.Status.CURRENT)
    assert not Verification.objects.filter(claim=claim, actor=curator).exists()


def test_a_correction_whose_quote_is_re_found_dates_the_claim_and_its_revert_undoes_it(
    cited, reviewer, curator, second_curator
):
    claim = cited.absent
    before = state(claim)
    correction = claim_correction_create(
        author=reviewer, claim=claim, reason="The page says it differently.", evidence_quote=FOUND
    )
    claim_correction_approve(correction=correction, curator=curator, revision=1)
    claim.refresh_from_db()
    assert claim.evidence_quote == FOUND
    assert claim.checked_at == timezone.localdate(timezone.now() - dt.timedelta(days=1))
    assert claim.status == Claim.Status.CURRENT
    verification = Verification.objects.get(claim=claim, actor=curator)
    assert verification.outcome == Verification.Outcome.CONFIRMED
    assert f"approval of correction {correction.pk}" in verification.note
    assert f"version {cited.version.number}" in verification.note

    claim_correction_revert(correction=correction, curator=second_curator, reason="Wrong page.")
    assert state(claim) == before
    verification.refresh_from_db()
    assert verification.evidence["reverted"]["by"] == second_curator.pk
