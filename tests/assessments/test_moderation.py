"""Moderation services: submit, request changes, reject, approve, revert; history and refusals."""

from __future__ import annotations

import datetime as dt

import pytest

from assessments.models import Assessment, ModerationNote
from assessments.services.assessments import (
    assessment_approve,
    assessment_problems,
    assessment_reject,
    assessment_request_changes,
    assessment_revert,
    assessment_start,
    assessment_submit,
)
from assessments.services.moderation import AssessmentError, thread_comment
from catalog.models import Claim, Verification
from tests.factories import CHANGED_CRITERION, amend_one_criterion, published_of

Status = Assessment.Status


def history_count(assessment: Assessment) -> int:
    return Assessment.history.filter(id=assessment.pk).count()


def test_a_new_draft_starts_from_the_published_assessment(mistral, reviewer):
    published = published_of(mistral)
    draft = assessment_start(author=reviewer, provider=mistral)
    assert draft.status == Status.DRAFT
    assert draft.verdict == published.verdict
    assert {(r.criterion_id, r.value) for r in draft.ratings.all()} == {
        (r.criterion_id, r.value) for r in published.ratings.all()
    }
    assert draft.ratings.filter(evidence__isnull=False).distinct().count() == (
        published.ratings.count()
    )


def test_an_unchanged_copy_of_the_published_assessment_can_be_submitted(mistral, reviewer):
    draft = assessment_start(author=reviewer, provider=mistral)
    assert assessment_problems(assessment=draft) == []


def test_submission_names_every_missing_field(mistral, reviewer):
    draft = assessment_start(author=reviewer, provider=mistral)
    draft.conclusion = ""
    draft.save()
    draft.ratings.filter(criterion__slug="dpa").delete()
    rating = draft.ratings.get(criterion__slug="hybrid")
    rating.justification = ""
    rating.save()
    rating.evidence.all().delete()
    with pytest.raises(AssessmentError) as caught:
        assessment_submit(assessment=draft, author=reviewer, revision=draft.revision)
    paths = [p for p, _ in assessment_problems(assessment=draft)]
    assert paths == [
        "conclusion",
        "ratings.hybrid.justification",
        "ratings.hybrid.evidence",
        "ratings.dpa.value",
    ]
    assert "Write a conclusion" in caught.value.message
    assert "DPA / AVV: choose a rating" in caught.value.message
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_new_evidence_needs_its_exact_quote(mistral, reviewer):
    draft = assessment_start(author=reviewer, provider=mistral)
    rating = amend_one_criterion(draft)
    rating.evidence.filter(quote__startswith="All customer").update(quote="")
    problems = assessment_problems(assessment=draft)
    assert [p for p, _ in problems] == [f"ratings.{CHANGED_CRITERION}.evidence.2.quote"]


def test_only_the_author_submits(mistral, reviewer, other_reviewer):
    draft = assessment_start(author=reviewer, provider=mistral)
    with pytest.raises(AssessmentError) as caught:
        assessment_submit(assessment=draft, author=other_reviewer, revision=1)
    assert caught.value.code == "forbidden"


def test_a_curator_cannot_approve_their_own_submission(mistral, curator):
    draft = assessment_start(author=curator, provider=mistral)
    amend_one_criterion(draft)
    draft = assessment_submit(assessment=draft, author=curator, revision=draft.revision)
    with pytest.raises(AssessmentError) as caught:
        assessment_approve(assessment=draft, curator=curator, revision=draft.revision)
    assert caught.value.code == "forbidden"
    assert "another curator" in caught.value.message
    draft.refresh_from_db()
    assert draft.status == Status.SUBMITTED
    assert published_of(mistral).pk != draft.pk


def test_a_reviewer_cannot_approve(submission, other_reviewer):
    with pytest.raises(AssessmentError) as caught:
        assessment_approve(
            assessment=submission, curator=other_reviewer, revision=submission.revision
        )
    assert caught.value.code == "forbidden"


def test_approval_publishes_and_keeps_the_old_assessment_as_superseded(
    mistral, submission, curator
):
    old = published_of(mistral)
    result = assessment_approve(
        assessment=submission,
        curator=curator,
        revision=submission.revision,
        comment="Checked the residency page myself.",
    )
    assert result.assessment.pk == submission.pk
    assert published_of(mistral).pk == submission.pk
    old.refresh_from_db()
    assert old.status == Status.SUPERSEDED
    assert result.superseded == old
    assert published_of(mistral).ratings.get(criterion__slug=CHANGED_CRITERION).value == (
        "supported"
    )
    record = Assessment.history.filter(id=submission.pk).latest("history_date")
    assert record.status == Status.PUBLISHED
    assert record.history_user == curator
    assert record.history_change_reason == "Checked the residency page myself."
    old_record = Assessment.history.filter(id=old.pk).latest("history_date")
    assert old_record.status == Status.SUPERSEDED
    assert old_record.history_user == curator
    assert ModerationNote.objects.filter(assessment=submission, action="approve").count() == 1


def test_approval_leaves_the_date_of_a_claim_it_did_not_re_read(mistral, submission, curator):
    # Until issue 18 this asserted the opposite: every claim citing a cited source was dated
    # by the reviewer's reading day. Claims whose quote is re-found: test_approval_dates.py.
    cited = set(
        submission.ratings.values_list("evidence__source_id", flat=True).exclude(
            evidence__source_id=None
        )
    )
    stale = Claim.objects.filter(provider=mistral, source_id__in=cited).order_by("id").first()
    assert stale is not None, "the seeded Mistral claims cite the assessment's sources"
    assert not stale.evidence_quote, "a seeded claim without a quote, and no stored text"
    Claim.objects.filter(pk=stale.pk).update(checked_at="2025-01-01")
    versions = stale.history.count()
    result = assessment_approve(
        assessment=submission, curator=curator, revision=submission.revision
    )
    stale.refresh_from_db()
    assert stale.checked_at == dt.date(2025, 1, 1)
    assert result.claims_rechecked == 0
    assert Verification.objects.filter(claim=stale, actor=curator).count() == 0
    assert stale.history.count() == versions


def test_request_changes_then_amend_then_approve(mistral, submission, reviewer, curator):
    returned = assessment_request_changes(
        assessment=submission,
        curator=curator,
        revision=submission.revision,
        comment="Quote the clause about backups too.",
    )
    assert returned.status == Status.CHANGES_REQUESTED
    with pytest.raises(AssessmentError) as caught:
        assessment_approve(assessment=returned, curator=curator, revision=returned.revision)
    assert caught.value.code == "conflict"
    again = assessment_submit(assessment=returned, author=reviewer, revision=returned.revision)
    assert again.status == Status.SUBMITTED
    assessment_approve(assessment=again, curator=curator, revision=again.revision)
    assert published_of(mistral).pk == submission.pk
    actions = list(
        ModerationNote.objects.filter(assessment=submission).values_list("action", flat=True)
    )
    assert actions == ["submit", "request_changes", "submit", "approve"]


def test_refusals_need_words(submission, curator):
    with pytest.raises(AssessmentError) as caught:
        assessment_reject(
            assessment=submission, curator=curator, revision=submission.revision, reason="  "
        )
    assert caught.value.path == "text"
    submission.refresh_from_db()
    assert submission.status == Status.SUBMITTED


def test_a_rejected_submission_is_final(submission, reviewer, curator):
    rejected = assessment_reject(
        assessment=submission,
        curator=curator,
        revision=submission.revision,
        reason="The cited page is about another product.",
    )
    assert rejected.status == Status.REJECTED
    with pytest.raises(AssessmentError) as caught:
        assessment_submit(assessment=rejected, author=reviewer, revision=rejected.revision)
    assert caught.value.code == "conflict"


def test_a_stale_revision_is_refused_and_changes_nothing(submission, curator, second_curator):
    read = submission.revision
    assessment_request_changes(
        assessment=submission, curator=second_curator, revision=read, comment="Add a quote."
    )
    with pytest.raises(AssessmentError) as caught:
        assessment_approve(assessment=submission, curator=curator, revision=read)
    assert caught.value.code == "conflict"
    assert "changed this assessment meanwhile" in caught.value.message
    submission.refresh_from_db()
    assert submission.status == Status.CHANGES_REQUESTED


def test_every_state_change_leaves_exactly_one_history_record(
    mistral, reviewer, curator, second_curator
):
    draft = assessment_start(author=reviewer, provider=mistral)
    amend_one_criterion(draft)
    old = published_of(mistral)
    steps = []
    count = history_count(draft)

    def step(name, result):
        nonlocal count
        now = history_count(draft)
        steps.append((name, now - count))
        count = now
        return result

    a = step("submit", assessment_submit(assessment=draft, author=reviewer, revision=1))
    a = step(
        "request changes",
        assessment_request_changes(
            assessment=a, curator=curator, revision=a.revision, comment="Add the date."
        ),
    )
    a = step("resubmit", assessment_submit(assessment=a, author=reviewer, revision=a.revision))
    old_count = history_count(old)
    a = step(
        "approve",
        assessment_approve(assessment=a, curator=curator, revision=a.revision).assessment,
    )
    assert history_count(old) - old_count == 1
    step(
        "revert",
        assessment_revert(
            assessment=a, curator=second_curator, revision=a.revision, reason="Wrong page."
        ),
    )
    assert history_count(old) - old_count == 2
    assert steps == [
        ("submit", 1),
        ("request changes", 1),
        ("resubmit", 1),
        ("approve", 1),
        ("revert", 1),
    ]


def test_revert_restores_the_previous_published_state_and_is_recorded(
    mistral, submission, curator, second_curator
):
    old = published_of(mistral)
    old_ratings = {r.criterion.slug: r.value for r in old.ratings.select_related("criterion")}
    published = assessment_approve(
        assessment=submission, curator=curator, revision=submission.revision
    ).assessment
    restored = assessment_revert(
        assessment=published,
        curator=second_curator,
        revision=published.revision,
        reason="The residency page was a draft and has been taken down.",
    )
    assert restored == old
    current = published_of(mistral)
    assert current.pk == old.pk
    assert {r.criterion.slug: r.value for r in current.ratings.select_related("criterion")} == (
        old_ratings
    )
    assert old_ratings[CHANGED_CRITERION] == "partial"
    published.refresh_from_db()
    assert published.status == Status.SUPERSEDED
    reverted = Assessment.history.filter(id=published.pk).latest("history_date")
    assert reverted.history_user == second_curator
    assert reverted.history_change_reason.startswith("Reverted: The residency page")
    back = Assessment.history.filter(id=old.pk).latest("history_date")
    assert back.status == Status.PUBLISHED
    assert f"reverting assessment {published.pk}" in back.history_change_reason


def test_only_a_published_assessment_can_be_reverted(submission, curator):
    with pytest.raises(AssessmentError) as caught:
        assessment_revert(
            assessment=submission, curator=curator, revision=submission.revision, reason="No."
        )
    assert caught.value.code == "conflict"


def test_comments_are_for_the_author_and_curators(submission, reviewer, other_reviewer, curator):
    thread_comment(assessment=submission, user=reviewer, text="Updated the quote.")
    thread_comment(assessment=submission, user=curator, text="Thanks.")
    with pytest.raises(AssessmentError) as caught:
        thread_comment(assessment=submission, user=other_reviewer, text="Hi")
    assert caught.value.code == "forbidden"
    assert ModerationNote.objects.filter(assessment=submission, action="comment").count() == 2


def test_the_shared_approval_service_also_refuses_self_approval(mistral, curator):
    """``assessment_approve`` refuses one's own work before it looks at its state: the
    rule is not a way around anything, even for a draft."""
    draft = assessment_start(author=curator, provider=mistral)
    with pytest.raises(AssessmentError) as caught:
        assessment_approve(assessment=draft, curator=curator, revision=draft.revision)
    assert caught.value.code == "forbidden"
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_the_shared_approval_service_does_not_publish_a_draft(mistral, reviewer, curator):
    """A draft has not passed the submit step's completeness check."""
    draft = assessment_start(author=reviewer, provider=mistral)
    with pytest.raises(AssessmentError) as caught:
        assessment_approve(assessment=draft, curator=curator, revision=draft.revision)
    assert caught.value.code == "conflict"
    draft.refresh_from_db()
    assert (draft.status, published_of(mistral).status) == (Status.DRAFT, Status.PUBLISHED)
