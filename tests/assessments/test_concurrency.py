"""Two curators acting on one submission at the same moment, each on their own connection."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from assessments.models import Assessment, ModerationNote
from assessments.services.assessments import (
    Publication,
    assessment_approve,
    assessment_reject,
    assessment_start,
    assessment_submit,
)
from assessments.services.moderation import AssessmentError
from catalog.catalogue_file import SEED_CATALOGUE
from catalog.loader import catalogue_load
from tests.factories import amend_one_criterion, make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(actions):
    """Run each action in its own thread (so on its own database connection), released at
    the same instant; returns what each returned or raised."""
    barrier = threading.Barrier(len(actions))
    outcomes: list = [None] * len(actions)

    def run(index, action):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = action()
        except Exception as exc:  # the outcome under test
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.fixture
def racing_submission():
    if connection.vendor != "postgresql":
        pytest.skip("row locking under real concurrency is tested on PostgreSQL")
    catalogue_load(path=SEED_CATALOGUE)
    reviewer = make_user("rita-reviewer", "reviewer")
    draft = assessment_start(
        author=reviewer, provider=Assessment.objects.get(status="published").provider
    )
    amend_one_criterion(draft)
    draft.refresh_from_db()
    return assessment_submit(assessment=draft, author=reviewer, revision=draft.revision)


@pytest.mark.parametrize("rounds", range(3))
def test_two_curators_approving_at_once_resolve_to_exactly_one(racing_submission, rounds):
    first, second = make_user("carla-curator", "curator"), make_user("cora-curator", "curator")
    read = racing_submission.revision
    outcomes = _race(
        [
            lambda: assessment_approve(assessment=racing_submission, curator=first, revision=read),
            lambda: assessment_approve(assessment=racing_submission, curator=second, revision=read),
        ]
    )
    wins = [o for o in outcomes if isinstance(o, Publication)]
    losses = [o for o in outcomes if isinstance(o, AssessmentError)]
    assert len(wins) == 1, outcomes
    assert len(losses) == 1, outcomes
    assert losses[0].code == "conflict"
    assert "meanwhile" in losses[0].message
    provider = racing_submission.provider
    assert list(
        Assessment.objects.filter(provider=provider, status="published").values_list(
            "pk", flat=True
        )
    ) == [racing_submission.pk]
    assert Assessment.objects.filter(provider=provider, status="superseded").count() == 1
    assert (
        ModerationNote.objects.filter(assessment=racing_submission, action="approve").count() == 1
    )


def test_an_approval_racing_a_rejection_leaves_one_decision(racing_submission):
    first, second = make_user("carla-curator", "curator"), make_user("cora-curator", "curator")
    read = racing_submission.revision
    outcomes = _race(
        [
            lambda: assessment_approve(assessment=racing_submission, curator=first, revision=read),
            lambda: assessment_reject(
                assessment=racing_submission, curator=second, revision=read, reason="Off-topic."
            ),
        ]
    )
    errors = [o for o in outcomes if isinstance(o, AssessmentError)]
    assert len(errors) == 1, outcomes
    racing_submission.refresh_from_db()
    assert racing_submission.status in {"published", "rejected"}
    decided = ModerationNote.objects.filter(
        assessment=racing_submission, action__in=["approve", "reject"]
    )
    assert decided.count() == 1
