"""Moderation: submitting an assessment, a curator's comment, request for changes, rejection,
approval and revert, and the same path for claim corrections.

Every state change is claimed with a conditional ``UPDATE … WHERE revision = <the one the actor
read>``: of two curators acting on the same submission at once exactly one matches the row, the
other gets ``AssessmentError(code="conflict")``. The conditional update is the first statement of
its transaction so it also serialises correctly on SQLite, where ``select_for_update`` is a no-op.

Each state change leaves exactly one history record on the changed row, attributed to the actor
and carrying the words they gave (``history_change_reason``), plus a ``ModerationNote`` that the
reviewer and curators read as a thread.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.text import slugify

from assessments.models import (
    Assessment,
    AssessmentSource,
    ClaimCorrection,
    Criterion,
    ModerationNote,
    Rating,
    RatingEvidence,
)
from assessments.permissions import is_curator
from assessments.services import (
    AssessmentError,
    EvidenceInput,
    RatingInput,
    assessment_approve,
    assessment_create,
    assessment_update,
    claim_correction_approve,
    correction_check,
    model_check,
)
from catalog.models import Claim, Provider, Source, Verification

Status = Assessment.Status
MODERATION_REASON_MAX = 4000


# --- helpers ---------------------------------------------------------------------------------


def _save_recorded(instance, *, user, reason: str, update_fields: list[str] | None = None) -> None:
    """Save ``instance`` so that its one new history record names ``user`` and ``reason``."""
    instance._history_user = user
    instance._change_reason = reason[:MODERATION_REASON_MAX]
    instance.save(update_fields=update_fields)


def _annotate_latest_history(instance, *, user, reason: str) -> None:
    """Attribute the newest history record of ``instance`` (written by a service that does not
    take a reason) to ``user`` with ``reason``; adds no record."""
    record = instance.history.order_by("-history_date", "-history_id").first()
    if record is not None:
        record.history_user = user
        record.history_change_reason = reason[:MODERATION_REASON_MAX]
        record.save(update_fields=["history_user", "history_change_reason"])


def _words(text: str, *, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise AssessmentError(f"{what}: write a few words; it cannot be empty", path="text")
    if len(text) > MODERATION_REASON_MAX:
        raise AssessmentError(
            f"{what}: at most {MODERATION_REASON_MAX} characters, got {len(text)}", path="text"
        )
    return text


def _claim_revision(queryset, *, pk: int, revision: int, statuses: tuple[str, ...], noun: str):
    """Take the right to change the row ``pk`` of ``queryset``'s model (an assessment or a
    claim correction, called ``noun`` in messages): bump its revision if it is still at
    ``revision`` and in one of ``statuses``. Returns the row from ``queryset``, locked, or
    raises a conflict naming why not."""
    model = queryset.model
    claimed = model.objects.filter(pk=pk, revision=revision, status__in=statuses).update(
        revision=F("revision") + 1
    )
    if not claimed:
        current = model.objects.filter(pk=pk).first()
        if current is None:
            raise AssessmentError(f"this {noun} no longer exists", code="conflict")
        status = current.get_status_display().lower()
        if current.revision != revision:
            raise AssessmentError(
                f"someone changed this {noun} meanwhile (it is now {status}, revision "
                f"{current.revision}; you read revision {revision}); reload it and decide again",
                code="conflict",
                path="revision",
            )
        raise AssessmentError(
            f"this {noun} is {status}, which does not allow this", code="conflict"
        )
    return queryset.select_for_update(of=("self",)).get(pk=pk)


def _claim_assessment(*, assessment: Assessment, revision: int, statuses: tuple[str, ...]):
    return _claim_revision(
        Assessment.objects.select_related("provider"),
        pk=assessment.pk,
        revision=revision,
        statuses=statuses,
        noun="assessment",
    )


def _note(*, user, action: str, text: str = "", **subject) -> ModerationNote:
    return ModerationNote.objects.create(author=user, action=action, text=text, **subject)


# --- evidence sources ------------------------------------------------------------------------


def evidence_source_for_url(*, url: str, provider: Provider) -> Source:
    """The catalogue's source at ``url``, created (as a document about ``provider``) when a
    reviewer cites an address the catalogue does not know yet."""
    source = Source.objects.filter(url=url).first()
    if source is not None:
        return source
    parts = urlsplit(url)
    digest = hashlib.sha256(url.encode()).hexdigest()[:10]
    slug = f"{slugify(parts.netloc + ' ' + parts.path)[:100]}-{digest}".strip("-")
    source, _ = Source.objects.get_or_create(
        url=url,
        defaults={
            "slug": slug,
            "title": url[:300],
            "publisher": parts.netloc[:200] or "Unknown",
            "provider": provider,
            "doc_type": Source.DocType.DOCUMENTATION,
        },
    )
    return source


# --- assessments -----------------------------------------------------------------------------


def assessment_start(*, author, provider: Provider) -> Assessment:
    """A new draft of ``provider``'s assessment by ``author``, pre-filled from the published one
    (fields, ratings and evidence) so the reviewer changes only what they found different."""
    published = (
        Assessment.objects.filter(provider=provider, status=Status.PUBLISHED)
        .prefetch_related("ratings__criterion", "ratings__evidence__source", "sources")
        .first()
    )
    if published is None:
        return assessment_create(author=author, provider=provider, assessed_on=timezone.localdate())
    ratings = [
        RatingInput(
            criterion=rating.criterion,
            value=rating.value,
            justification=rating.justification,
            evidence=[
                EvidenceInput(source=ev.source, read_on=ev.read_on, quote=ev.quote)
                for ev in rating.evidence.all()
            ],
        )
        for rating in published.ratings.all()
    ]
    with transaction.atomic():
        draft = assessment_create(
            author=author,
            provider=provider,
            assessed_on=timezone.localdate(),
            ratings=ratings,
            verdict=published.verdict,
            conclusion=published.conclusion,
            data_processing=published.data_processing,
            positives=published.positives,
            negatives=published.negatives,
            server_locations=published.server_locations,
            strengths=list(published.strengths),
            weaknesses=list(published.weaknesses),
        )
        AssessmentSource.objects.bulk_create(
            AssessmentSource(assessment=draft, source_id=s.source_id, read_on=s.read_on)
            for s in published.sources.all()
        )
    return draft


def assessment_draft_save(
    *,
    assessment: Assessment,
    editor,
    revision: int,
    ratings: list[RatingInput] | None = None,
    **fields,
) -> Assessment:
    """Save the editor's draft: fields through ``assessment_update`` (author, state and revision
    checks), then ratings changed in place, so the history records only what really changed
    (a rating whose value and justification are unchanged gets no new version). ``ratings``,
    when given, are the whole set (a criterion left out loses its rating); None keeps them."""
    seen: set[int] = set()
    for rating_input in ratings or []:
        if rating_input.criterion.pk in seen:
            raise AssessmentError(
                f"criterion {rating_input.criterion.slug!r} is rated twice",
                path=f"ratings.{rating_input.criterion.slug}.value",
            )
        seen.add(rating_input.criterion.pk)
        sources = [e.source.pk for e in rating_input.evidence]
        if len(sources) != len(set(sources)):
            raise AssessmentError(
                f"{rating_input.criterion.name}: the same source is cited twice",
                path=f"ratings.{rating_input.criterion.slug}.evidence",
            )
        if rating_input.value not in Rating.Value.values:
            raise AssessmentError(
                f"{rating_input.criterion.name}: {rating_input.value!r} is not a rating",
                path=f"ratings.{rating_input.criterion.slug}.value",
            )
    with transaction.atomic():
        saved = assessment_update(
            assessment=assessment, editor=editor, revision=revision, ratings=None, **fields
        )
        if ratings is None:
            return saved
        existing = {
            r.criterion_id: r for r in saved.ratings.prefetch_related("evidence").order_by("id")
        }
        for rating_input in ratings:
            rating = existing.pop(rating_input.criterion.pk, None)
            if rating is None:
                rating = Rating.objects.create(
                    assessment=saved,
                    criterion=rating_input.criterion,
                    value=rating_input.value,
                    justification=rating_input.justification,
                )
                old_evidence: list = []
            else:
                if (rating.value, rating.justification) != (
                    rating_input.value,
                    rating_input.justification,
                ):
                    rating.value = rating_input.value
                    rating.justification = rating_input.justification
                    rating._history_user = editor
                    rating.save()
                old_evidence = [(e.source_id, e.quote, e.read_on) for e in rating.evidence.all()]
            new_evidence = [(e.source.pk, e.quote, e.read_on) for e in rating_input.evidence]
            if old_evidence != new_evidence:
                rating.evidence.all().delete()
                # One by one (not bulk) so each piece of evidence gets its history record.
                for source_id, quote, read_on in new_evidence:
                    RatingEvidence.objects.create(
                        rating=rating, source_id=source_id, quote=quote, read_on=read_on
                    )
        for leftover in existing.values():
            leftover.delete()
    return saved


def assessment_problems(*, assessment: Assessment) -> list[tuple[str, str]]:
    """What stops ``assessment`` from being submitted, as (field path, message) pairs; empty
    when it is complete. Every active criterion needs a rating, a justification and at least
    one piece of evidence with its source address, exact quote and reading date."""
    problems: list[tuple[str, str]] = []
    if assessment.verdict == Assessment.Verdict.UNRATED:
        problems.append(("verdict", "Propose an overall verdict."))
    if not assessment.conclusion.strip():
        problems.append(("conclusion", "Write a conclusion."))
    if not assessment.server_locations.strip():
        problems.append(("server_locations", "Say where the servers are, or that it is unknown."))
    ratings = {
        r.criterion_id: r
        for r in assessment.ratings.select_related("criterion").prefetch_related("evidence__source")
    }
    # Evidence carried over unchanged from the published assessment was accepted by a curator
    # already (the seeded catalogue has no quotes); new or changed evidence needs its quote.
    accepted = set(
        RatingEvidence.objects.filter(
            rating__assessment__provider_id=assessment.provider_id,
            rating__assessment__status=Status.PUBLISHED,
        ).values_list("rating__criterion_id", "source_id", "read_on", "quote")
    )
    for criterion in Criterion.objects.filter(active=True):
        rating = ratings.get(criterion.pk)
        where = f"ratings.{criterion.slug}"
        if rating is None:
            problems.append((f"{where}.value", f"{criterion.name}: choose a rating."))
            continue
        if not rating.justification.strip():
            problems.append((f"{where}.justification", f"{criterion.name}: justify the rating."))
        evidence = list(rating.evidence.all())
        if not evidence:
            problems.append((f"{where}.evidence", f"{criterion.name}: cite at least one source."))
        for position, ev in enumerate(evidence):
            inherited = (criterion.pk, ev.source_id, ev.read_on, ev.quote) in accepted
            if not ev.quote.strip() and not inherited:
                problems.append(
                    (
                        f"{where}.evidence.{position}.quote",
                        f"{criterion.name}: quote the exact words of {ev.source.url or ev.source}.",
                    )
                )
            if not ev.source.url:
                problems.append(
                    (
                        f"{where}.evidence.{position}.url",
                        f"{criterion.name}: the source has no address anyone can check.",
                    )
                )
    return problems


def assessment_submit(*, assessment: Assessment, author, revision: int) -> Assessment:
    """Send the author's complete draft (or amended submission) to the curators' queue."""
    if assessment.author_id != author.pk:
        raise AssessmentError("only the author may submit an assessment", code="forbidden")
    problems = assessment_problems(assessment=assessment)
    if problems:
        raise AssessmentError(
            "not complete: " + " ".join(message for _, message in problems),
            path=problems[0][0],
            problems=problems,
        )
    with transaction.atomic():
        locked = _claim_assessment(
            assessment=assessment,
            revision=revision,
            statuses=(Status.DRAFT, Status.CHANGES_REQUESTED),
        )
        locked.status = Status.SUBMITTED
        _save_recorded(locked, user=author, reason="Submitted for review")
        _note(user=author, action=ModerationNote.Action.SUBMIT, assessment=locked)
    return locked


def _curator_decision(
    *, assessment: Assessment, curator, revision: int, new_status: str, action: str, text: str
) -> Assessment:
    if not is_curator(curator):
        raise AssessmentError("only curators moderate assessments", code="forbidden")
    with transaction.atomic():
        locked = _claim_assessment(
            assessment=assessment, revision=revision, statuses=(Status.SUBMITTED,)
        )
        locked.status = new_status
        _save_recorded(locked, user=curator, reason=text)
        _note(user=curator, action=action, text=text, assessment=locked)
    return locked


def assessment_request_changes(
    *, assessment: Assessment, curator, revision: int, comment: str
) -> Assessment:
    """Send a submission back to its author with the curator's words; the author amends it."""
    text = _words(comment, what="Say what needs to change")
    return _curator_decision(
        assessment=assessment,
        curator=curator,
        revision=revision,
        new_status=Status.CHANGES_REQUESTED,
        action=ModerationNote.Action.REQUEST_CHANGES,
        text=text,
    )


def assessment_reject(*, assessment: Assessment, curator, revision: int, reason: str) -> Assessment:
    """Refuse a submission for good, with the reason; it can no longer be edited."""
    text = _words(reason, what="Give the reason for rejecting")
    return _curator_decision(
        assessment=assessment,
        curator=curator,
        revision=revision,
        new_status=Status.REJECTED,
        action=ModerationNote.Action.REJECT,
        text=text,
    )


def assessment_comment(*, assessment: Assessment, user, text: str) -> ModerationNote:
    """Add a comment to the moderation thread without changing the assessment (its author or
    a curator); returns the new note. Empty or overlong ``text`` is refused naming ``text``."""
    if assessment.author_id != user.pk and not is_curator(user):
        raise AssessmentError("only the author and curators may comment", code="forbidden")
    text = _words(text, what="Comment")
    with transaction.atomic():
        return _note(
            user=user, action=ModerationNote.Action.COMMENT, text=text, assessment=assessment
        )


@dataclass(frozen=True)
class Publication:
    assessment: Assessment
    superseded: Assessment | None
    claims_rechecked: int


def assessment_publish(
    *, assessment: Assessment, curator, revision: int, comment: str = ""
) -> Publication:
    """Approve a submission: it becomes the provider's published assessment, the one before it
    is kept as superseded, and the provider's claims whose sources the assessment cites are
    marked checked on the day those sources were read. A curator cannot approve their own
    submission; a stale ``revision`` is a conflict."""
    if not is_curator(curator):
        raise AssessmentError("only curators approve assessments", code="forbidden")
    if assessment.author_id == curator.pk:
        raise AssessmentError(
            "you wrote this submission; another curator must approve it", code="forbidden"
        )
    comment = (comment or "").strip()[:MODERATION_REASON_MAX]
    with transaction.atomic():
        locked = _claim_assessment(
            assessment=assessment, revision=revision, statuses=(Status.SUBMITTED,)
        )
        published = assessment_approve(assessment=locked, curator=curator)
        reason = comment or "Approved"
        _annotate_latest_history(published, user=curator, reason=reason)
        superseded = published.supersedes
        if superseded is not None:
            _annotate_latest_history(
                superseded,
                user=curator,
                reason=f"Superseded by assessment {published.pk}: {reason}",
            )
        rechecked = _recheck_claims(assessment=published, curator=curator, reason=reason)
        _note(
            user=curator, action=ModerationNote.Action.APPROVE, text=comment, assessment=published
        )
    return Publication(assessment=published, superseded=superseded, claims_rechecked=rechecked)


def _recheck_claims(*, assessment: Assessment, curator, reason: str) -> int:
    read_on: dict[int, dt.date] = dict(
        RatingEvidence.objects.filter(rating__assessment=assessment)
        .values("source_id")
        .annotate(last=Max("read_on"))
        .values_list("source_id", "last")
    )
    claims = Claim.objects.select_for_update(of=("self",)).filter(
        Q(provider_id=assessment.provider_id) | Q(model__provider_id=assessment.provider_id),
        source_id__in=read_on,
    )
    count = 0
    now = timezone.now()
    for claim in claims.exclude(status=Claim.Status.RETIRED):
        when = read_on[claim.source_id]
        if claim.checked_at >= when:
            continue
        claim.checked_at = when
        _save_recorded(
            claim,
            user=curator,
            reason=f"Source read on {when:%Y-%m-%d} for assessment {assessment.pk}: {reason}",
        )
        Verification.objects.create(
            claim=claim,
            checked_at=now,
            method=Verification.Method.MANUAL,
            outcome=Verification.Outcome.CONFIRMED,
            note=f"Source read on {when:%Y-%m-%d} for GDPR assessment {assessment.pk}.",
            actor=curator,
        )
        count += 1
    return count


def assessment_revert(
    *, assessment: Assessment, curator, revision: int, reason: str
) -> Assessment | None:
    """Take a published assessment down and put back the one it superseded (if any). Both
    changes are recorded with the curator and the reason. Returns the restored assessment."""
    if not is_curator(curator):
        raise AssessmentError("only curators revert assessments", code="forbidden")
    text = _words(reason, what="Give the reason for reverting")
    with transaction.atomic():
        locked = _claim_assessment(
            assessment=assessment, revision=revision, statuses=(Status.PUBLISHED,)
        )
        locked.status = Status.SUPERSEDED
        _save_recorded(locked, user=curator, reason=f"Reverted: {text}")
        restored = None
        if locked.supersedes_id is not None:
            restored = Assessment.objects.select_for_update().get(pk=locked.supersedes_id)
            if restored.status == Status.SUPERSEDED:
                restored.status = Status.PUBLISHED
                restored.revision += 1
                _save_recorded(
                    restored,
                    user=curator,
                    reason=f"Restored by reverting assessment {locked.pk}: {text}",
                )
            else:
                restored = None
        _note(user=curator, action=ModerationNote.Action.REVERT, text=text, assessment=locked)
    return restored


# --- claim corrections -----------------------------------------------------------------------


def _claim_correction(
    *, correction: ClaimCorrection, revision: int, statuses: tuple[str, ...]
) -> ClaimCorrection:
    return _claim_revision(
        ClaimCorrection.objects.all(),
        pk=correction.pk,
        revision=revision,
        statuses=statuses,
        noun="correction",
    )


def claim_correction_publish(
    *, correction: ClaimCorrection, curator, revision: int, comment: str = ""
) -> ClaimCorrection:
    """Approve a pending correction (not one's own) and record who approved it and why on the
    claim's history. A stale ``revision`` is a conflict."""
    if not is_curator(curator):
        raise AssessmentError("only curators approve corrections", code="forbidden")
    if correction.author_id == curator.pk:
        raise AssessmentError(
            "you proposed this correction; another curator must approve it", code="forbidden"
        )
    comment = (comment or "").strip()[:MODERATION_REASON_MAX]
    with transaction.atomic():
        locked = _claim_correction(
            correction=correction, revision=revision, statuses=(ClaimCorrection.Status.PENDING,)
        )
        approved = claim_correction_approve(correction=locked, curator=curator)
        claim = Claim.objects.get(pk=approved.claim_id)
        _annotate_latest_history(
            claim,
            user=curator,
            reason=f"Correction {approved.pk} approved: {comment or approved.reason}",
        )
        _annotate_latest_history(approved, user=curator, reason=comment or "Approved")
        _note(user=curator, action=ModerationNote.Action.APPROVE, text=comment, correction=approved)
    return approved


def claim_correction_reject(
    *, correction: ClaimCorrection, curator, revision: int, reason: str
) -> ClaimCorrection:
    """Refuse a pending correction with the reason; the claim is left as it is."""
    if not is_curator(curator):
        raise AssessmentError("only curators reject corrections", code="forbidden")
    text = _words(reason, what="Give the reason for rejecting")
    with transaction.atomic():
        locked = _claim_correction(
            correction=correction, revision=revision, statuses=(ClaimCorrection.Status.PENDING,)
        )
        locked.status = ClaimCorrection.Status.REJECTED
        locked.decided_at = timezone.now()
        locked.decided_by = curator
        _save_recorded(locked, user=curator, reason=text)
        _note(user=curator, action=ModerationNote.Action.REJECT, text=text, correction=locked)
    return locked


def claim_correction_request_changes(
    *, correction: ClaimCorrection, curator, revision: int, comment: str
) -> ClaimCorrection:
    """Send a pending correction back to its author with the curator's words; the author
    amends it and submits it again."""
    if not is_curator(curator):
        raise AssessmentError("only curators moderate corrections", code="forbidden")
    text = _words(comment, what="Say what needs to change")
    with transaction.atomic():
        locked = _claim_correction(
            correction=correction, revision=revision, statuses=(ClaimCorrection.Status.PENDING,)
        )
        locked.status = ClaimCorrection.Status.CHANGES_REQUESTED
        _save_recorded(locked, user=curator, reason=text)
        _note(
            user=curator,
            action=ModerationNote.Action.REQUEST_CHANGES,
            text=text,
            correction=locked,
        )
    return locked


CORRECTION_FIELDS = (
    "reason",
    "value_flag",
    "value_number",
    "value_unit",
    "value_text",
    "condition",
    "source",
    "evidence_quote",
)


def claim_correction_amend(
    *, correction: ClaimCorrection, author, revision: int, **fields
) -> ClaimCorrection:
    """Change the author's correction while changes are requested: the ``fields`` given (any
    of ``CORRECTION_FIELDS``) replace the proposal's; the result is checked as a new proposal
    would be. It stays with the author until ``claim_correction_submit``."""
    if correction.author_id != author.pk:
        raise AssessmentError("only the author may amend a correction", code="forbidden")
    unknown = sorted(set(fields) - set(CORRECTION_FIELDS))
    if unknown:
        raise AssessmentError(f"unknown fields {unknown}", path=unknown[0])
    with transaction.atomic():
        locked = _claim_correction(
            correction=correction,
            revision=revision,
            statuses=(ClaimCorrection.Status.CHANGES_REQUESTED,),
        )
        for name, value in fields.items():
            setattr(locked, name, value)
        correction_check(
            claim=Claim.objects.select_related("key").get(pk=locked.claim_id),
            **{name: getattr(locked, name) for name in CORRECTION_FIELDS},
        )
        model_check(locked)
        _save_recorded(locked, user=author, reason="Amended by the author")
    return locked


def claim_correction_submit(
    *, correction: ClaimCorrection, author, revision: int
) -> ClaimCorrection:
    """Send the author's amended correction back to the curators' queue."""
    if correction.author_id != author.pk:
        raise AssessmentError("only the author may submit a correction", code="forbidden")
    with transaction.atomic():
        locked = _claim_correction(
            correction=correction,
            revision=revision,
            statuses=(ClaimCorrection.Status.CHANGES_REQUESTED,),
        )
        locked.status = ClaimCorrection.Status.PENDING
        _save_recorded(locked, user=author, reason="Submitted for review")
        _note(user=author, action=ModerationNote.Action.SUBMIT, correction=locked)
    return locked


def claim_correction_comment(*, correction: ClaimCorrection, user, text: str) -> ModerationNote:
    """Add a comment to the correction's moderation thread without changing it (its author or
    a curator); returns the new note. Empty or overlong ``text`` is refused naming ``text``."""
    if correction.author_id != user.pk and not is_curator(user):
        raise AssessmentError("only the author and curators may comment", code="forbidden")
    text = _words(text, what="Comment")
    with transaction.atomic():
        return _note(
            user=user, action=ModerationNote.Action.COMMENT, text=text, correction=correction
        )


CLAIM_RESTORED_FIELDS = (
    "value_flag",
    "value_number",
    "value_unit",
    "value_text",
    "condition",
    "scope_plan",
    "scope_surface",
    "scope_region",
    "source_id",
    "evidence_quote",
    "checked_at",
    "status",
    "note",
)


def claim_revert(*, claim: Claim, to_history_id: int, curator, reason: str) -> Claim:
    """Put ``claim`` back to one of its earlier recorded versions; the revert is itself a new
    version naming the curator, the version restored and the reason."""
    if not is_curator(curator):
        raise AssessmentError("only curators revert claims", code="forbidden")
    text = _words(reason, what="Give the reason for reverting")
    version = claim.history.filter(history_id=to_history_id).first()
    if version is None:
        raise AssessmentError(
            f"claim {claim.pk} has no recorded version {to_history_id}", path="to_history_id"
        )
    with transaction.atomic():
        locked = Claim.objects.select_for_update().get(pk=claim.pk)
        for name in CLAIM_RESTORED_FIELDS:
            setattr(locked, name, getattr(version, name))
        _save_recorded(
            locked,
            user=curator,
            reason=f"Reverted to the version of {version.history_date:%Y-%m-%d %H:%M} UTC: {text}",
        )
    return locked


def claim_correction_revert(*, correction: ClaimCorrection, curator, reason: str) -> Claim:
    """Undo an approved correction: the claim returns to its version before the approval."""
    text = _words(reason, what="Give the reason for reverting")
    correction = ClaimCorrection.objects.select_related("claim").get(pk=correction.pk)
    if correction.status != ClaimCorrection.Status.APPROVED:
        raise AssessmentError("only an approved correction can be reverted", code="conflict")
    approval = (
        Claim.history.filter(
            id=correction.claim_id,
            history_change_reason__startswith=f"Correction {correction.pk} approved",
        )
        .order_by("-history_date", "-history_id")
        .first()
    )
    before = approval.prev_record if approval is not None else None
    if before is None:
        raise AssessmentError(
            "the claim's version before this correction is not recorded", code="conflict"
        )
    with transaction.atomic():
        claim = claim_revert(
            claim=correction.claim,
            to_history_id=before.history_id,
            curator=curator,
            reason=f"Correction {correction.pk} reverted: {text}",
        )
        _note(user=curator, action=ModerationNote.Action.REVERT, text=text, correction=correction)
    return claim
