"""What changed: the newest changes to claims, GDPR ratings and assessments, from their
history tables, for the whole catalogue or one provider.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.db.models.functions import Coalesce, Greatest

from assessments.models import Assessment, AssessmentVerdict, Rating, RatingValue
from catalog.models import AIModel, Claim, Provider


@dataclass
class Change:
    when: dt.datetime
    kind: str  # "claim", "rating" or "assessment"
    action: str  # created / changed / deleted
    provider: Provider | None
    title: str
    summary: str
    record: Any
    diffs: list[tuple[str, str, str]] = field(default_factory=list)
    link: str = ""
    who: str = ""  # who made it: a user name, "catalogue load", "crawler" or "not recorded"

    @property
    def uid(self) -> str:
        return f"change-{self.kind}-{self.record.history_id}"


_ACTIONS = {"+": "added", "~": "changed", "-": "removed"}
CHANGES_LIMIT = 50
# Each page reads every newer change again, so paging stops here (5,000 changes back).
CHANGES_MAX_PAGE = 100

# How system writes are recorded: no history user, and the reason they leave.
_SYSTEM_REASONS = (("Loaded from the catalogue", "catalogue load"), ("Source re-check", "crawler"))


def _who(record: Any) -> str:
    """Who made a history ``record``: its user, else the system write its reason names."""
    if record.history_user_id is not None:
        return record.history_user.get_username()
    reason = record.history_change_reason or ""
    for prefix, name in _SYSTEM_REASONS:
        if reason.startswith(prefix):
            return name
    return "not recorded"


@dataclass(frozen=True)
class ChangesPage:
    """One page of ``recent_changes``, newest first; ``has_next`` when older ones exist."""

    changes: list[Change]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


def changes_page(
    *, provider: Provider | None = None, number: int = 1, size: int = CHANGES_LIMIT
) -> ChangesPage:
    """Page ``number`` (from 1, at most ``CHANGES_MAX_PAGE``) of the changes, ``size`` a page;
    as many queries as ``recent_changes``."""
    number = max(1, min(number, CHANGES_MAX_PAGE))
    start = (number - 1) * size
    found = recent_changes(provider=provider, limit=start + size + 1)
    return ChangesPage(
        changes=found[start : start + size],
        number=number,
        has_next=len(found) > start + size and number < CHANGES_MAX_PAGE,
    )


def _diffs(record: Any, previous: Any, fields: list[str]) -> list[tuple[str, str, str]]:
    if previous is None:
        return []
    out = []
    for name in fields:
        old, new = getattr(previous, name), getattr(record, name)
        if old != new:
            out.append((name.replace("_", " "), _show(old), _show(new)))
    return out


def _show(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _newest_claim_versions(*, provider: Provider, model_ids: list[int], limit: int) -> list[int]:
    """History ids of the newest ``limit`` versions of the provider's claims and as many of its
    models' claims; 2 queries (1 when it has no models).

    Apart, each side reads its owner's index from the newest end. One query with the two
    owners OR-ed walks the catalogue-wide ``history_date`` index backwards instead, past every
    newer change to every other provider: the longer the catalogue's history, the slower.
    """
    HistoricalClaim = Claim.history.model
    newest = ("-history_date", "-history_id")
    ids = list(
        HistoricalClaim.objects.filter(provider=provider)
        .order_by(*newest)
        .values_list("history_id", flat=True)[:limit]
    )
    if model_ids:
        ids += (
            HistoricalClaim.objects.filter(model_id__in=model_ids)
            .order_by(*newest)
            .values_list("history_id", flat=True)[:limit]
        )
    return ids


def _previous_records(history_model: Any, records: list[Any]) -> dict[int, Any]:
    """The record before each of ``records`` (same object), found with one query."""
    if not records:
        return {}
    ids = {r.id for r in records}
    versions: dict[int, list[Any]] = defaultdict(list)
    for version in history_model.objects.filter(id__in=ids).order_by("history_date", "history_id"):
        versions[version.id].append(version)
    previous: dict[int, Any] = {}
    for record in records:
        chain = versions[record.id]
        position = next((i for i, v in enumerate(chain) if v.history_id == record.history_id), None)
        previous[record.history_id] = chain[position - 1] if position else None
    return previous


CLAIM_DIFF_FIELDS = [
    "value_flag",
    "value_number",
    "value_unit",
    "value_text",
    "condition",
    "scope_plan",
    "scope_surface",
    "scope_region",
    "checked_at",
    "status",
    "evidence_quote",
    "note",
]
RATING_DIFF_FIELDS = ["value", "justification"]
ASSESSMENT_DIFF_FIELDS = [
    "status",
    "verdict",
    "conclusion",
    "server_locations",
    "assessed_on",
]


def recent_changes(*, provider: Provider | None = None, limit: int = CHANGES_LIMIT) -> list[Change]:
    """The latest changes to claims, ratings and assessments, newest first.

    A newly published assessment's ratings are listed at its publication, criterion by
    criterion, as changes against the assessment it superseded ("partial → supported");
    criteria it left as they were are not changes and are not listed.

    Five queries whatever ``limit`` is: one page of each history table, then the versions
    needed to say what changed (claims and ratings).
    """
    HistoricalClaim = Claim.history.model
    HistoricalRating = Rating.history.model
    HistoricalAssessment = Assessment.history.model

    claims_qs = HistoricalClaim.objects.select_related(
        "provider", "model", "model__provider", "key", "source", "history_user"
    )
    ratings_qs = HistoricalRating.objects.select_related(
        "assessment", "assessment__provider", "criterion", "history_user"
    )
    assessments_qs = HistoricalAssessment.objects.select_related("provider", "history_user")
    if provider is not None:
        model_ids = list(AIModel.objects.filter(provider=provider).values_list("pk", flat=True))
        claims_qs = claims_qs.filter(
            history_id__in=_newest_claim_versions(
                provider=provider, model_ids=model_ids, limit=limit
            )
        )
        ratings_qs = ratings_qs.filter(assessment__provider=provider)
        assessments_qs = assessments_qs.filter(provider=provider)
    # Drafts and reviews in progress are not public: only ratings of published assessments.
    ratings_qs = ratings_qs.filter(
        assessment__status__in=[Assessment.Status.PUBLISHED, Assessment.Status.SUPERSEDED]
    )
    assessments_qs = assessments_qs.filter(
        status__in=[Assessment.Status.PUBLISHED, Assessment.Status.SUPERSEDED]
    )
    claims = list(claims_qs.order_by("-history_date", "-history_id")[:limit])
    # A rating written while its assessment was a draft became public when the assessment
    # was published: it is listed then.
    shown_at = Greatest("history_date", Coalesce("assessment__published_at", "history_date"))
    ratings = list(
        ratings_qs.annotate(shown_at=shown_at).order_by("-shown_at", "-history_id")[:limit]
    )
    assessments = list(assessments_qs.order_by("-history_date", "-history_id")[:limit])

    changes: list[Change] = []
    previous = _previous_records(HistoricalClaim, claims)
    for r in claims:
        subject = r.provider if r.provider_id else r.model
        owner = r.provider if r.provider_id else (r.model.provider if r.model_id else None)
        value = r.value_flag or (
            f"{r.value_number.normalize():f} {r.value_unit}".strip()
            if r.value_number is not None
            else r.value_text
        )
        changes.append(
            Change(
                when=r.history_date,
                kind="claim",
                action=_ACTIONS[r.history_type],
                provider=owner,
                title=f"{subject}: {r.key.label if r.key_id else 'claim'}",
                summary=f"{value}"
                + (f" — {r.condition}" if r.condition else "")
                + (f" (source: {r.source.title}, checked {r.checked_at:%Y-%m-%d})"),
                record=r,
                diffs=_diffs(r, previous.get(r.history_id), CLAIM_DIFF_FIELDS),
                who=_who(r),
            )
        )
    changes += _rating_changes(HistoricalRating, ratings)
    # Assessment history needs no previous-version query: status and verdict are on the row.
    for r in assessments:
        changes.append(
            Change(
                when=r.history_date,
                kind="assessment",
                action=_ACTIONS[r.history_type],
                provider=r.provider,
                title=f"{r.provider}: GDPR assessment {Assessment.Status(r.status).label.lower()}",
                summary=f"Verdict: {AssessmentVerdict(r.verdict).label}"
                + (f" — {r.conclusion}" if r.conclusion else ""),
                record=r,
                who=_who(r),
            )
        )
    changes.sort(key=lambda c: (c.when, c.record.history_id), reverse=True)
    return changes[:limit]


def _rating_changes(history_model: Any, ratings: list[Any]) -> list[Change]:
    """``Change``s for a page of rating history (annotated ``shown_at``), with one query.

    A version made before its assessment was published (while it was a draft) is folded into
    the publication: only the last such version of each criterion counts, compared with the
    superseded assessment's rating of that criterion as it stood at the publication.
    """
    drafted: dict[tuple[int, int], Any] = {}
    live: list[Any] = []
    for r in ratings:
        published_at = r.assessment.published_at
        if published_at is not None and r.history_date <= published_at:
            # The page is newest first, so the first version seen per criterion is the last.
            drafted.setdefault((r.assessment_id, r.criterion_id), r)
        else:
            live.append(r)
    superseded_ids = {r.assessment.supersedes_id for r in drafted.values()} - {None}
    versions: dict[int, list[Any]] = defaultdict(list)
    before: dict[tuple[int, int], list[Any]] = defaultdict(list)
    if live or superseded_ids:
        query = Q(id__in={r.id for r in live}) | Q(assessment_id__in=superseded_ids)
        for version in history_model.objects.filter(query).order_by("history_date", "history_id"):
            versions[version.id].append(version)
            if version.assessment_id in superseded_ids:
                before[(version.assessment_id, version.criterion_id)].append(version)

    def label(value: str) -> str:
        return RatingValue(value).label.lower() if value in RatingValue.values else _show(value)

    changes: list[Change] = []
    for r in live:
        chain = versions[r.id]
        position = next((i for i, v in enumerate(chain) if v.history_id == r.history_id), None)
        previous = chain[position - 1] if position else None
        changes.append(
            _rating_change(
                r,
                when=r.history_date,
                action=_ACTIONS[r.history_type],
                diffs=_diffs(r, previous, RATING_DIFF_FIELDS),
            )
        )
    for r in drafted.values():
        if r.history_type == "-":
            continue
        published_at = r.assessment.published_at
        old = next(
            (
                v
                for v in reversed(before[(r.assessment.supersedes_id, r.criterion_id)])
                if v.history_date <= published_at
            ),
            None,
        )
        if old is None or old.history_type == "-":
            changes.append(_rating_change(r, when=published_at, action="added", diffs=[]))
            continue
        diffs = []
        if old.value != r.value:
            diffs.append((r.criterion.name, label(old.value), label(r.value)))
        if old.justification != r.justification:
            diffs.append(("justification", _show(old.justification), _show(r.justification)))
        if diffs:
            changes.append(_rating_change(r, when=published_at, action="changed", diffs=diffs))
    return changes


def _rating_change(r: Any, *, when: dt.datetime, action: str, diffs: list) -> Change:
    return Change(
        when=when,
        kind="rating",
        action=action,
        provider=r.assessment.provider,
        title=f"{r.assessment.provider}: GDPR criterion “{r.criterion.name}”",
        summary=RatingValue(r.value).label + (f" — {r.justification}" if r.justification else ""),
        record=r,
        diffs=diffs,
        who=_who(r),
    )
