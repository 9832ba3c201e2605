"""Writes to assessments and claim corrections. Each service validates, writes inside one
transaction and raises ``AssessmentError`` for anything a caller did wrong."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from assessments.models import (
    Assessment,
    ClaimCorrection,
    Criterion,
    Rating,
    RatingEvidence,
)
from assessments.permissions import is_curator, is_reviewer
from catalog.models import Claim, Provider, Source, Verification


class AssessmentError(Exception):
    """A write that cannot be done. ``code`` is one of ``invalid`` (bad input, with ``path``
    naming the field), ``forbidden`` (not this user's to change) or ``conflict`` (the record
    changed meanwhile or its state does not allow it). ``problems`` lists every offending
    field as (path, message) pairs when there is more than one to name (an incomplete
    submission); otherwise it is the one pair of ``path`` and ``message``, or empty."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid",
        path: str = "",
        problems: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.path = path
        if problems is None:
            problems = [(path, message)] if path else []
        self.problems = problems


EDITABLE_STATUSES = (Assessment.Status.DRAFT, Assessment.Status.CHANGES_REQUESTED)
# Only a submission: a draft has not passed the completeness check of ``assessment_submit``.
APPROVABLE_STATUSES = (Assessment.Status.SUBMITTED,)
ASSESSMENT_FIELDS = (
    "verdict",
    "conclusion",
    "data_processing",
    "positives",
    "negatives",
    "server_locations",
    "strengths",
    "weaknesses",
    "assessed_on",
)


@dataclass(frozen=True)
class EvidenceInput:
    source: Source
    read_on: dt.date
    quote: str = ""


@dataclass(frozen=True)
class RatingInput:
    criterion: Criterion
    value: str
    justification: str = ""
    evidence: list[EvidenceInput] = field(default_factory=list)


def model_check(instance, *, path: str = "", exclude: list[str] | None = None) -> None:
    """Run the model's field validation; the first problem becomes an ``AssessmentError``
    naming the field (under ``path``)."""
    try:
        instance.full_clean(exclude=exclude, validate_constraints=False)
    except ValidationError as exc:
        name, messages = next(iter(exc.message_dict.items()))
        where = f"{path}.{name}" if path else name
        raise AssessmentError(f"{where}: {' '.join(messages)}", path=where) from None


def _write_ratings(*, assessment: Assessment, ratings: list[RatingInput]) -> None:
    seen: set[int] = set()
    for index, rating_input in enumerate(ratings):
        if rating_input.criterion.pk in seen:
            raise AssessmentError(
                f"criterion {rating_input.criterion.slug!r} is rated twice",
                path=f"ratings.{index}.criterion",
            )
        seen.add(rating_input.criterion.pk)
    assessment.ratings.all().delete()
    for index, rating_input in enumerate(ratings):
        rating = Rating(
            assessment=assessment,
            criterion=rating_input.criterion,
            value=rating_input.value,
            justification=rating_input.justification,
        )
        model_check(rating, path=f"ratings.{index}", exclude=["assessment"])
        rating.save()
        sources: set[int] = set()
        for position, evidence in enumerate(rating_input.evidence):
            where = f"ratings.{index}.evidence.{position}"
            if evidence.source.pk in sources:
                raise AssessmentError(f"{where}.source: source cited twice", path=f"{where}.source")
            sources.add(evidence.source.pk)
            RatingEvidence.objects.create(
                rating=rating,
                source=evidence.source,
                quote=evidence.quote,
                read_on=evidence.read_on,
            )


@transaction.atomic
def assessment_create(
    *,
    author,
    provider: Provider,
    assessed_on: dt.date,
    ratings: list[RatingInput] | None = None,
    **fields: Any,
) -> Assessment:
    """Create a draft assessment of ``provider`` by ``author`` (a reviewer or curator)."""
    if not is_reviewer(author):
        raise AssessmentError("only reviewers and curators write assessments", code="forbidden")
    unknown = set(fields) - set(ASSESSMENT_FIELDS)
    if unknown:
        raise AssessmentError(f"unknown fields {sorted(unknown)}", path=sorted(unknown)[0])
    assessment = Assessment(
        provider=provider,
        author=author,
        status=Assessment.Status.DRAFT,
        assessed_on=assessed_on,
        **fields,
    )
    model_check(assessment)
    assessment.save()
    _write_ratings(assessment=assessment, ratings=ratings or [])
    return assessment


@transaction.atomic
def assessment_update(
    *,
    assessment: Assessment,
    editor,
    revision: int,
    ratings: list[RatingInput] | None = None,
    **fields: Any,
) -> Assessment:
    """Update the editor's own draft. ``revision`` must be the one the editor read (otherwise
    someone changed it meanwhile); ``ratings``, when given, replace all ratings."""
    locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if locked.author_id != editor.pk:
        raise AssessmentError("only the author may edit an assessment", code="forbidden")
    if locked.status not in EDITABLE_STATUSES:
        raise AssessmentError(
            f"a {locked.get_status_display().lower()} assessment cannot be edited", code="conflict"
        )
    if locked.revision != revision:
        raise AssessmentError(
            f"revision {revision} is stale; the assessment is at revision {locked.revision}",
            code="conflict",
            path="revision",
        )
    unknown = set(fields) - set(ASSESSMENT_FIELDS)
    if unknown:
        raise AssessmentError(f"unknown fields {sorted(unknown)}", path=sorted(unknown)[0])
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.revision += 1
    model_check(locked)
    locked.save()
    if ratings is not None:
        _write_ratings(assessment=locked, ratings=ratings)
    return locked


@transaction.atomic
def assessment_approve(*, assessment: Assessment, curator) -> Assessment:
    """Publish a submitted assessment; the provider's previously published assessment, if any,
    becomes superseded by it. Callers go through ``moderation.assessment_publish``, which also
    checks the revision and records who approved it and why."""
    if not is_curator(curator):
        raise AssessmentError("only curators approve assessments", code="forbidden")
    locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if locked.author_id is not None and locked.author_id == curator.pk:
        raise AssessmentError(
            "you wrote this assessment; another curator must approve it", code="forbidden"
        )
    if locked.status not in APPROVABLE_STATUSES:
        raise AssessmentError(
            f"a {locked.get_status_display().lower()} assessment cannot be approved",
            code="conflict",
        )
    previous = (
        Assessment.objects.select_for_update()
        .filter(provider_id=locked.provider_id, status=Assessment.Status.PUBLISHED)
        .first()
    )
    if previous is not None:
        previous.status = Assessment.Status.SUPERSEDED
        previous.revision += 1
        previous.save(update_fields=["status", "revision", "updated_at"])
        locked.supersedes = previous
    locked.status = Assessment.Status.PUBLISHED
    locked.published_at = timezone.now()
    locked.revision += 1
    try:
        # The partial unique constraint catches a concurrent approval for the same provider.
        with transaction.atomic():
            locked.save()
    except IntegrityError:
        raise AssessmentError(
            "another assessment of this provider was published meanwhile", code="conflict"
        ) from None
    return locked


def correction_check(
    *,
    claim: Claim,
    reason: str,
    value_flag: str,
    value_number: Decimal | None,
    value_unit: str,
    value_text: str,
    condition: str | None,
    source: Source | None,
    evidence_quote: str | None,
) -> None:
    """Raise ``AssessmentError`` naming the field when a proposed correction of ``claim`` is
    not one a curator could apply: no reason, nothing proposed, two values at once, or a value
    of the wrong type for the claim's key."""
    if not reason.strip():
        raise AssessmentError("say why the claim is wrong", path="reason")
    values = [bool(value_flag), value_number is not None, bool(value_text)]
    if sum(values) > 1:
        raise AssessmentError("propose at most one of flag, number or text", path="value_flag")
    if (
        not any(values)
        and condition is None
        and source is None
        and evidence_quote is None
        and not value_unit
    ):
        raise AssessmentError(
            "propose at least one change (value, condition, source or quote)", path="value_flag"
        )
    if any(values):
        # Check the proposed value against the claim key's type now, not at approval time.
        trial = Claim(
            provider_id=claim.provider_id,
            model_id=claim.model_id,
            key=claim.key,
            value_flag=value_flag,
            value_number=value_number,
            value_unit=value_unit,
            value_text=value_text,
            source_id=claim.source_id,
            checked_at=claim.checked_at,
        )
        model_check(trial, exclude=["provider", "model", "source"])


@transaction.atomic
def claim_correction_create(
    *,
    author,
    claim: Claim,
    reason: str,
    value_flag: str = "",
    value_number: Decimal | None = None,
    value_unit: str = "",
    value_text: str = "",
    condition: str | None = None,
    source: Source | None = None,
    evidence_quote: str | None = None,
) -> ClaimCorrection:
    """Record a reviewer's proposed change to ``claim``; it changes nothing until approved."""
    if not is_reviewer(author):
        raise AssessmentError("only reviewers and curators propose corrections", code="forbidden")
    fields = {
        "reason": reason,
        "value_flag": value_flag,
        "value_number": value_number,
        "value_unit": value_unit,
        "value_text": value_text,
        "condition": condition,
        "source": source,
        "evidence_quote": evidence_quote,
    }
    correction_check(claim=claim, **fields)
    correction = ClaimCorrection(claim=claim, author=author, **fields)
    model_check(correction)
    correction.save()
    return correction


@transaction.atomic
def claim_correction_approve(*, correction: ClaimCorrection, curator) -> ClaimCorrection:
    """Apply a pending correction to its claim (which counts as a manual check today) and mark
    it approved; the claim's history and a verification record keep the trail."""
    if not is_curator(curator):
        raise AssessmentError("only curators approve corrections", code="forbidden")
    locked = ClaimCorrection.objects.select_for_update().get(pk=correction.pk)
    if locked.author_id == curator.pk:
        raise AssessmentError(
            "you proposed this correction; another curator must approve it", code="forbidden"
        )
    if locked.status != ClaimCorrection.Status.PENDING:
        raise AssessmentError(
            f"this correction is already {locked.get_status_display().lower()}", code="conflict"
        )
    claim = Claim.objects.select_for_update().select_related("key").get(pk=locked.claim_id)
    if locked.value_flag or locked.value_number is not None or locked.value_text:
        claim.value_flag = locked.value_flag
        claim.value_number = locked.value_number
        claim.value_text = locked.value_text
        claim.value_unit = locked.value_unit
    elif locked.value_unit:
        claim.value_unit = locked.value_unit
    if locked.condition is not None:
        claim.condition = locked.condition
    if locked.source_id is not None:
        claim.source_id = locked.source_id
    if locked.evidence_quote is not None:
        claim.evidence_quote = locked.evidence_quote
    now = timezone.now()
    claim.checked_at = timezone.localdate()
    model_check(claim)
    try:
        with transaction.atomic():
            claim.save()
    except IntegrityError:
        raise AssessmentError(
            "the corrected claim would duplicate another claim from the same source",
            code="conflict",
        ) from None
    Verification.objects.create(
        claim=claim,
        checked_at=now,
        method=Verification.Method.MANUAL,
        outcome=Verification.Outcome.CONFIRMED,
        note=f"Correction {locked.pk} approved: {locked.reason}"[:2000],
        actor=curator,
    )
    locked.status = ClaimCorrection.Status.APPROVED
    locked.decided_by = curator
    locked.decided_at = now
    locked.save()
    return locked
