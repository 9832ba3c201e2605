"""Reads of assessments and claim corrections; visibility is decided in these querysets."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from assessments.models import (
    Assessment,
    AssessmentSource,
    ClaimCorrection,
    Rating,
    RatingEvidence,
)
from assessments.permissions import is_curator, is_reviewer


def assessments_visible_to(*, user) -> QuerySet[Assessment]:
    """Published assessments for everyone; a reviewer also sees their own assessments in any
    state; a curator sees every assessment. Ratings, evidence and sources are prefetched."""
    queryset = Assessment.objects.select_related("provider", "author").prefetch_related(
        Prefetch(
            "ratings",
            queryset=Rating.objects.select_related("criterion")
            .prefetch_related(
                Prefetch("evidence", queryset=RatingEvidence.objects.select_related("source"))
            )
            .order_by("criterion__position", "criterion__slug"),
        ),
        Prefetch("sources", queryset=AssessmentSource.objects.select_related("source")),
    )
    if is_curator(user):
        return queryset
    visible = Q(status=Assessment.Status.PUBLISHED)
    if is_reviewer(user):
        visible |= Q(author=user)
    return queryset.filter(visible)


def claim_corrections_visible_to(*, user) -> QuerySet[ClaimCorrection]:
    """A reviewer's own corrections; every correction for a curator; nothing for anyone else.
    The same people read and add to a correction's moderation thread, as on the web pages
    (the author's correction page, the curators' moderation page)."""
    queryset = ClaimCorrection.objects.select_related("claim", "author", "source", "decided_by")
    if is_curator(user):
        return queryset
    if is_reviewer(user):
        return queryset.filter(author=user)
    return queryset.none()


def assessment_threads_visible_to(*, user) -> QuerySet[Assessment]:
    """Assessments whose moderation thread ``user`` may read and add to, as on the web pages:
    a reviewer's own in every state (their editing page) and, for a curator, every assessment
    that is not a draft (the moderation page). Another reviewer's draft is its author's alone;
    anyone without a role gets nothing."""
    if not is_reviewer(user):
        return Assessment.objects.none()
    visible = Q(author=user)
    if is_curator(user):
        visible |= ~Q(status=Assessment.Status.DRAFT)
    return Assessment.objects.filter(visible)
