"""Claim corrections through the moderation path: approve (not one's own), reject, request
changes and resubmit, revert."""

from __future__ import annotations

import pytest
from django.urls import reverse

from assessments.models import ClaimCorrection, ModerationNote
from assessments.services.corrections import (
    claim_correction_approve,
    claim_correction_create,
    claim_correction_reject,
    claim_correction_revert,
)
from assessments.services.moderation import AssessmentError
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
    correction = ClaimCorrection.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("assessments:correction_edit", args=[correction.pk])
    assert correction.value_flag == "unknown"


def test_approving_a_correction_changes_the_claim_and_records_why(claim, correction, curator):
    claim_correction_approve(
        correction=correction, curator=curator, revision=1, comment="Checked the terms."
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
        claim_correction_approve(correction=own, curator=curator, revision=1)
    assert caught.value.code == "forbidden"
    own.refresh_from_db()
    assert own.status == ClaimCorrection.Status.PENDING


def test_rejecting_a_correction_leaves_the_claim_and_keeps_the_reason(
    claim, correction, curator, second_curator
):
    before = claim.value_flag
    claim_correction_reject(
        correction=correction, curator=curator, revision=1, reason="The source says otherwise."
    )
    claim.refresh_from_db()
    assert claim.value_flag == before
    correction.refresh_from_db()
    assert correction.status == ClaimCorrection.Status.REJECTED
    assert correction.decided_by == curator
    with pytest.raises(AssessmentError) as caught:
        claim_correction_approve(
            correction=correction, curator=second_curator, revision=correction.revision
        )
    assert caught.value.code == "conflict"
    assert ModerationNote.objects.get(correction=correction).text == "The source says otherwise."


def test_reverting_an_approved_correction_restores_the_claim(
    claim, correction, curator, second_curator
):
    before = (claim.value_flag, claim.condition, claim.checked_at)
    claim_correction_approve(correction=correction, curator=curator, revision=1)
    versions = claim.history.count()
    claim_correction_revert(
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
        {"action": "approve", "revision": correction.revision, "text": "Fine."},
    )
    assert response.status_code == 302
    correction.refresh_from_db()
    assert correction.status == ClaimCorrection.Status.APPROVED


def test_a_stale_decision_on_a_correction_is_refused_and_changes_nothing(
    client, correction, curator
):
    client.force_login(curator)
    response = client.post(
        reverse("assessments:correction", args=[correction.pk]),
        {"action": "approve", "revision": correction.revision + 1, "text": "Fine."},
    )
    assert response.status_code == 409
    assert "someone changed this correction meanwhile" in response.content.decode()
    correction.refresh_from_db()
    assert correction.status == ClaimCorrection.Status.PENDING


def test_a_correction_sent_back_is_amended_and_resubmitted_from_the_web(
    client, claim, correction, curator, reviewer, other_reviewer
):
    client.force_login(curator)
    page = client.post(
        reverse("assessments:correction", args=[correction.pk]),
        {"action": "request_changes", "revision": 1, "text": ""},
    )
    assert page.status_code == 400, "changes are requested in words"
    client.post(
        reverse("assessments:correction", args=[correction.pk]),
        {"action": "request_changes", "revision": 1, "text": "Quote the Scale plan's terms."},
    )
    correction.refresh_from_db()
    assert (correction.status, correction.decided_at) == ("changes_requested", None)
    assert correction not in client.get(reverse("assessments:queue")).context["corrections"]

    client.force_login(other_reviewer)
    url = reverse("assessments:correction_edit", args=[correction.pk])
    assert client.get(url).status_code == 404, "another reviewer's correction is not found"

    client.force_login(reviewer)
    page = client.get(url)
    assert "Quote the Scale plan&#x27;s terms." in page.content.decode()
    assert page.context["form"].initial["condition"] == "Only on the Scale plan."
    form = {
        "revision": correction.revision,
        "value": "partial",
        "condition": "Only on the Scale plan.",
        "evidence_quote": "",
        "reason": "",
    }
    refused = client.post(url, form)
    assert refused.status_code == 400
    correction.refresh_from_db()
    assert correction.status == "changes_requested"
    form |= {"evidence_quote": "Scale customers may opt out.", "reason": "Quoted the terms."}
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    correction.refresh_from_db()
    assert (correction.status, correction.evidence_quote, correction.reason) == (
        "pending",
        "Scale customers may opt out.",
        "Quoted the terms.",
    )
    actions = list(correction.notes.values_list("action", "author__username"))
    assert actions == [("request_changes", curator.username), ("submit", reviewer.username)]
    records = list(correction.history.order_by("history_date", "history_id"))
    assert [(r.status, r.history_user) for r in records] == [
        ("pending", None),
        ("changes_requested", curator),
        ("changes_requested", reviewer),
        ("pending", reviewer),
    ]
    assert claim.history.count() == 1, "nothing reaches the claim before approval"
