"""Claim corrections through the moderation path: approve (not one's own), reject, revert."""

from __future__ import annotations

import pytest
from django.urls import reverse

from assessments import moderation
from assessments.models import ClaimCorrection, ModerationNote
from assessments.services import AssessmentError, claim_correction_create
from catalog.models import Claim


@pytest.fixture
def claim(mistral) -> Claim:
    return Claim.objects.filter(provider=mistral, key__value_type="flag").order_by("id").first()


@pytest.fixture
def correction(claim, reviewer) -> ClaimCorrection:
    return claim_correction_create(
        author=reviewer,
        claim=claim,
        reason="The terms changed last month.",
        value_flag="partial",
        condition="Only on the Scale plan.",
    )


def test_a_reviewer_proposes_a_correction_from_the_web(client, reviewer, claim):
    client.force_login(reviewer)
    response = client.post(
        reverse("assessments:correct", args=[claim.pk]),
        {"value": "maybe", "reason": "Changed."},
    )
    assert response.status_code == 400
    assert "is not a flag" in response.content.decode()
    assert "Changed." in response.content.decode()
    response = client.post(
        reverse("assessments:correct", args=[claim.pk]),
        {"value": "unknown", "reason": "The page was removed."},
    )
    assert response.status_code == 302
    assert ClaimCorrection.objects.get().value_flag == "unknown"


def test_approving_a_correction_changes_the_claim_and_records_why(claim, correction, curator):
    moderation.claim_correction_publish(
        correction=correction, curator=curator, comment="Checked the terms."
    )
    claim.refresh_from_db()
    assert claim.value_flag == "partial"
    assert claim.condition == "Only on the Scale plan."
    record = claim.history.latest("history_date")
    assert record.history_user == curator
    assert (
        record.history_change_reason == f"Correction {correction.pk} approved: Checked the terms."
    )


def test_a_curator_cannot_approve_their_own_correction(claim, curator):
    own = claim_correction_create(author=curator, claim=claim, reason="Wrong.", value_flag="no")
    with pytest.raises(AssessmentError) as caught:
        moderation.claim_correction_publish(correction=own, curator=curator)
    assert caught.value.code == "forbidden"
    own.refresh_from_db()
    assert own.status == ClaimCorrection.Status.PENDING


def test_rejecting_a_correction_leaves_the_claim_and_keeps_the_reason(
    claim, correction, curator, second_curator
):
    before = claim.value_flag
    moderation.claim_correction_reject(
        correction=correction, curator=curator, reason="The source says otherwise."
    )
    claim.refresh_from_db()
    assert claim.value_flag == before
    correction.refresh_from_db()
    assert correction.status == ClaimCorrection.Status.REJECTED
    assert correction.decided_by == curator
    with pytest.raises(AssessmentError) as caught:
        moderation.claim_correction_publish(correction=correction, curator=second_curator)
    assert caught.value.code == "conflict"
    assert ModerationNote.objects.get(correction=correction).text == "The source says otherwise."


def test_reverting_an_approved_correction_restores_the_claim(
    claim, correction, curator, second_curator
):
    before = (claim.value_flag, claim.condition, claim.checked_at)
    moderation.claim_correction_publish(correction=correction, curator=curator)
    versions = claim.history.count()
    moderation.claim_correction_revert(
        correction=correction, curator=second_curator, reason="Approved by mistake."
    )
    claim.refresh_from_db()
    assert (claim.value_flag, claim.condition, claim.checked_at) == before
    assert claim.history.count() == versions + 1
    record = claim.history.latest("history_date")
    assert record.history_user == second_curator
    assert "Approved by mistake." in record.history_change_reason


def test_the_curator_page_shows_the_proposal_and_decides(client, correction, curator):
    client.force_login(curator)
    page = client.get(reverse("assessments:correction", args=[correction.pk]))
    assert "Only on the Scale plan." in page.content.decode()
    response = client.post(
        reverse("assessments:correction", args=[correction.pk]),
        {"action": "approve", "revision": 0, "text": "Fine."},
    )
    assert response.status_code == 302
    correction.refresh_from_db()
    assert correction.status == ClaimCorrection.Status.APPROVED
