"""A reviewer is e-mailed when a curator approves, sends back, rejects or reverts their
assessment, once the decision is committed."""

from __future__ import annotations

import pytest
from django.core import mail

from assessments.services.assessments import (
    assessment_approve,
    assessment_reject,
    assessment_request_changes,
    assessment_revert,
)
from assessments.services.moderation import AssessmentError


def test_sending_back_e_mails_the_author_with_the_curators_words_on_commit(
    reviewer, curator, submission, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assessment_request_changes(
            assessment=submission,
            curator=curator,
            revision=submission.revision,
            comment="Cite the DPA.",
        )
    assert mail.outbox == [], "nothing is sent before the decision is committed"
    for callback in callbacks:
        callback()
    [message] = mail.outbox
    assert message.to == [reviewer.email]
    assert message.subject == "Your assessment of Mistral AI on Atlas was sent back for changes"
    assert f"assessment #{submission.pk} of Mistral AI was sent back" in message.body
    assert "carla-curator wrote:\n\nCite the DPA." in message.body


def test_approval_and_revert_each_e_mail_the_author(
    reviewer, curator, second_curator, submission, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        published = assessment_approve(
            assessment=submission, curator=curator, revision=submission.revision
        ).assessment
    with django_capture_on_commit_callbacks(execute=True):
        assessment_revert(
            assessment=published,
            curator=second_curator,
            revision=published.revision,
            reason="Published by mistake.",
        )
    approved, reverted = mail.outbox
    assert approved.to == reverted.to == [reviewer.email]
    assert approved.subject == "Your assessment of Mistral AI on Atlas was approved"
    assert "is now the published assessment" in approved.body
    assert reverted.subject == "Your assessment of Mistral AI on Atlas was reverted"
    assert "Published by mistake." in reverted.body


def test_a_rejection_e_mails_the_author(
    reviewer, curator, submission, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assessment_reject(
            assessment=submission, curator=curator, revision=submission.revision, reason="Spam."
        )
    [message] = mail.outbox
    assert message.subject == "Your assessment of Mistral AI on Atlas was rejected"


def test_a_decision_that_fails_sends_nothing(
    curator, submission, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(AssessmentError),
    ):
        assessment_approve(assessment=submission, curator=curator, revision=submission.revision - 1)
    assert mail.outbox == []
