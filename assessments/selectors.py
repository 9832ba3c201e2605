"""Reads of assessments, claim corrections, moderation threads and public reviews. Who may
see what is decided in these querysets, so another reviewer's draft is simply not found:

- everyone reads published assessments; a reviewer also their own in every state; a curator
  every assessment (``assessments_visible_to``, the API);
- a reviewer's own work (``own_assessments``, ``own_corrections``), the curators' queues
  (``submissions_for_curator``, ``corrections_for_curator``, ``reported_reviews``);
- the moderation thread: its author and curators (``assessment_threads_visible_to``,
  ``claim_corrections_visible_to``, ``notes_for``);
- a submission beside the published assessment (``comparison``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from assessments.models import (
    Assessment,
    AssessmentSource,
    ClaimCorrection,
    Criterion,
    ModerationNote,
    Rating,
    RatingEvidence,
    Review,
)
from assessments.permissions import is_curator, is_reviewer
from catalog.models import Provider


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


# --- reviewers' work and curators' queues ---------------------------------------------------


def own_assessments(*, user) -> QuerySet[Assessment]:
    """The user's own assessments in every state; nothing for someone who is not a reviewer.
    Another reviewer's draft is simply not in this queryset (so a lookup is a 404)."""
    if not is_reviewer(user):
        return Assessment.objects.none()
    return Assessment.objects.filter(author=user).select_related("provider")


def own_corrections(*, user) -> QuerySet[ClaimCorrection]:
    """The user's own corrections; nothing for someone who is not a reviewer."""
    if not is_reviewer(user):
        return ClaimCorrection.objects.none()
    return ClaimCorrection.objects.filter(author=user).select_related("claim__key")


def submissions_for_curator(
    *, user, provider: str = "", author: str = "", older_than_days: int | None = None
) -> QuerySet[Assessment]:
    """Submitted assessments, oldest first, filtered by provider slug, author username and
    age; nothing for anyone but a curator."""
    if not is_curator(user):
        return Assessment.objects.none()
    queryset = Assessment.objects.filter(status=Assessment.Status.SUBMITTED).select_related(
        "provider", "author"
    )
    if provider:
        queryset = queryset.filter(provider__slug=provider)
    if author:
        queryset = queryset.filter(author__username=author)
    if older_than_days:
        queryset = queryset.filter(
            updated_at__lte=timezone.now() - dt.timedelta(days=older_than_days)
        )
    return queryset.order_by("updated_at", "id")


def assessments_for_curator(*, user) -> QuerySet[Assessment]:
    """Every assessment that is not a draft; curators only."""
    if not is_curator(user):
        return Assessment.objects.none()
    return Assessment.objects.exclude(status=Assessment.Status.DRAFT).select_related(
        "provider", "author", "supersedes"
    )


def corrections_for_curator(
    *, user, provider: str = "", author: str = ""
) -> QuerySet[ClaimCorrection]:
    """Pending corrections, oldest first, filtered by provider slug and author username;
    nothing for anyone but a curator."""
    if not is_curator(user):
        return ClaimCorrection.objects.none()
    queryset = ClaimCorrection.objects.filter(status=ClaimCorrection.Status.PENDING).select_related(
        "claim__key", "claim__provider", "claim__model__provider", "claim__source", "author"
    )
    if provider:
        queryset = queryset.filter(claim__provider__slug=provider) | queryset.filter(
            claim__model__provider__slug=provider
        )
    if author:
        queryset = queryset.filter(author__username=author)
    return queryset.order_by("created_at", "id")


def notes_for(**subject) -> QuerySet[ModerationNote]:
    """The moderation thread of ``subject`` (``assessment=``, ``correction=`` or ``review=``),
    oldest first; the caller has found the subject in a queryset the user may read."""
    return ModerationNote.objects.filter(**subject).select_related("author")


# --- a submission beside the published assessment -----------------------------------------

_RATINGS = Prefetch(
    "ratings",
    queryset=Rating.objects.select_related("criterion").prefetch_related(
        Prefetch("evidence", queryset=RatingEvidence.objects.select_related("source"))
    ),
)


@dataclass
class Cell:
    value: str
    justification: str = ""
    evidence: list[RatingEvidence] = field(default_factory=list)


@dataclass
class DiffRow:
    label: str
    current: Cell | None
    proposed: Cell | None
    changed: bool
    anchor: str = ""


def _cell(rating: Rating | None) -> Cell | None:
    if rating is None:
        return None
    return Cell(
        value=rating.get_value_display(),
        justification=rating.justification,
        evidence=list(rating.evidence.all()),
    )


def _evidence_key(cell: Cell | None):
    if cell is None:
        return None
    return (
        cell.value,
        cell.justification.strip(),
        sorted((e.source_id, e.quote.strip(), e.read_on) for e in cell.evidence),
    )


@dataclass
class Comparison:
    submission: Assessment
    published: Assessment | None
    fields: list[DiffRow]
    criteria: list[DiffRow]

    @property
    def changed_count(self) -> int:
        return sum(row.changed for row in self.fields + self.criteria)


COMPARED_FIELDS = (
    ("verdict", "Overall verdict"),
    ("conclusion", "Conclusion"),
    ("server_locations", "Server locations"),
    ("data_processing", "Data processing"),
    ("strengths", "Strengths"),
    ("weaknesses", "Weaknesses"),
    ("assessed_on", "Sources read on"),
)


def _show(assessment: Assessment, name: str) -> str:
    if name == "verdict":
        return assessment.get_verdict_display()
    value = getattr(assessment, name)
    if isinstance(value, list):
        return "\n".join(f"• {item}" for item in value)
    if isinstance(value, dt.date):
        return f"{value:%Y-%m-%d}"
    return value or ""


def comparison(*, submission: Assessment) -> Comparison:
    """The submission beside the provider's published assessment, field by field and
    criterion by criterion, each row marked when it differs."""
    submission = (
        Assessment.objects.select_related("provider", "author")
        .prefetch_related(_RATINGS)
        .get(pk=submission.pk)
    )
    published = (
        Assessment.objects.filter(
            provider_id=submission.provider_id, status=Assessment.Status.PUBLISHED
        )
        .exclude(pk=submission.pk)
        .prefetch_related(_RATINGS)
        .first()
    )
    if published is None and submission.supersedes_id:
        published = (
            Assessment.objects.prefetch_related(_RATINGS)
            .filter(pk=submission.supersedes_id)
            .first()
        )
    fields = []
    for name, label in COMPARED_FIELDS:
        new = _show(submission, name)
        old = _show(published, name) if published else None
        fields.append(
            DiffRow(
                label=label,
                current=Cell(old) if old is not None else None,
                proposed=Cell(new),
                changed=old != new,
                anchor=f"field-{name}",
            )
        )
    proposed = {r.criterion_id: r for r in submission.ratings.all()}
    current = {r.criterion_id: r for r in published.ratings.all()} if published else {}
    rows = []
    for criterion in Criterion.objects.filter(pk__in=set(proposed) | set(current)).order_by(
        "position", "slug"
    ):
        old, new = _cell(current.get(criterion.pk)), _cell(proposed.get(criterion.pk))
        rows.append(
            DiffRow(
                label=criterion.name,
                current=old,
                proposed=new,
                changed=_evidence_key(old) != _evidence_key(new),
                anchor=f"criterion-{criterion.slug}",
            )
        )
    return Comparison(submission=submission, published=published, fields=fields, criteria=rows)


# --- public reviews --------------------------------------------------------------------------


def reviews_shown(*, provider: Provider) -> QuerySet[Review]:
    """What the public sees: confirmed reviews no curator hid. Never exposes the address."""
    return Review.objects.filter(provider=provider, status=Review.Status.PUBLISHED).defer(
        "email", "client_ip"
    )


def reported_reviews() -> QuerySet[Review]:
    """Published reviews with at least one open report, oldest first, for the curators' queue;
    each carries ``open_reports``, how many reports wait for a decision.

    Only published reviews can be reported, so an unconfirmed one never reaches the queue;
    a review without a report row is not "reported" (a bare ``reports__resolved_at__isnull``
    would match it through the outer join).
    """
    open_reports = Count("reports", filter=Q(reports__resolved_at__isnull=True))
    return (
        Review.objects.filter(status=Review.Status.PUBLISHED)
        .annotate(open_reports=open_reports)
        .filter(open_reports__gt=0)
        .select_related("provider")
        .order_by("created_at")
    )
