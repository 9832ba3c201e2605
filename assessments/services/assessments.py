"""Writes to assessments: a reviewer's draft (started from the published assessment, saved,
submitted) and a curator's decisions on it (request changes, reject, approve, revert).

Every state change claims the row's revision first (``moderation.claim_revision``) and leaves
exactly one history record on the changed row, attributed to the actor and carrying the words
they gave, plus a ``ModerationNote`` that the reviewer and curators read as a thread.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from assessments.models import (
    Assessment,
    AssessmentSource,
    Criterion,
    ModerationNote,
    Rating,
    RatingEvidence,
)
from assessments.services.moderation import (
    MODERATION_REASON_MAX,
    AssessmentError,
    approver_required,
    author_required,
    claim_revision,
    curator_required,
    model_check,
    note_add,
    reviewer_required,
    save_recorded,
    words,
)
from assessments.services.notices import assessment_decision_notify
from assessments.services.rereading import (
    LatestTexts,
    claim_reread,
    reading_record,
    reading_withdraw,
)
from catalog.models import Claim, Provider, Source, Verification

Status = Assessment.Status
EDITABLE_STATUSES = (Status.DRAFT, Status.CHANGES_REQUESTED)
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


def _claim_assessment(*, assessment: Assessment, revision: int, statuses: tuple[str, ...]):
    return claim_revision(
        Assessment.objects.select_related("provider"),
        pk=assessment.pk,
        revision=revision,
        statuses=statuses,
        noun="assessment",
    )


# --- evidence sources -----------------------------------------------------------------------


def evidence_source_for_url(*, url: str, provider: Provider) -> Source:
    """The catalogue's source at ``url``, created (as a document about ``provider``) when a
    reviewer cites an address the catalogue does not know yet. A created source is unlisted:
    the public does not see it and the crawler does not read it until a curator approves a
    submission or correction citing it (``sources_publish``), so a draft publishes nothing."""
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
            "listed": False,
        },
    )
    return source


def sources_publish(*, source_ids, curator, reason: str) -> int:
    """List the unlisted sources among ``source_ids`` (an approval cites them), each change
    recorded with ``curator`` and ``reason``; returns how many were listed. From then on the
    public sees them and the crawler's sweep reads them."""
    unlisted = Source.objects.select_for_update().filter(pk__in=source_ids, listed=False)
    count = 0
    for source in unlisted.order_by("pk"):
        source.listed = True
        save_recorded(source, user=curator, reason=reason, update_fields=["listed", "updated_at"])
        count += 1
    return count


# --- assessments -----------------------------------------------------------------------------


def assessment_start(*, author, provider: Provider) -> Assessment:
    """A new draft of ``provider``'s assessment by ``author`` (a reviewer or curator),
    pre-filled from the published one (fields, ratings, evidence and reading list) so the
    reviewer changes only what they found different."""
    reviewer_required(author, to="write assessments")
    published = (
        Assessment.objects.filter(provider=provider, status=Status.PUBLISHED)
        .prefetch_related("ratings__criterion", "ratings__evidence__source", "sources")
        .first()
    )
    copied: dict = {}
    if published is not None:
        copied = {
            "verdict": published.verdict,
            "conclusion": published.conclusion,
            "data_processing": published.data_processing,
            "positives": published.positives,
            "negatives": published.negatives,
            "server_locations": published.server_locations,
            "strengths": list(published.strengths),
            "weaknesses": list(published.weaknesses),
        }
    with transaction.atomic():
        draft = Assessment(
            provider=provider,
            author=author,
            status=Status.DRAFT,
            assessed_on=timezone.localdate(),
            **copied,
        )
        model_check(draft)
        draft.save()
        if published is None:
            return draft
        for old in published.ratings.all():
            rating = Rating.objects.create(
                assessment=draft,
                criterion=old.criterion,
                value=old.value,
                justification=old.justification,
            )
            # One by one (not bulk) so each piece of evidence gets its history record.
            for ev in old.evidence.all():
                RatingEvidence.objects.create(
                    rating=rating, source=ev.source, quote=ev.quote, read_on=ev.read_on
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
    """Save the editor's own draft (or submission sent back with changes requested).
    ``revision`` must be the one the editor read (otherwise someone changed it meanwhile).
    ``fields`` (any of ``ASSESSMENT_FIELDS``) replace the draft's; ratings are changed in
    place, so the history records only what really changed (a rating whose value and
    justification are unchanged gets no new version). ``ratings``, when given, are the whole
    set (a criterion left out loses its rating); None keeps them."""
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
        saved = Assessment.objects.select_for_update().get(pk=assessment.pk)
        author_required(editor, author_id=saved.author_id, to="edit an assessment")
        if saved.status not in EDITABLE_STATUSES:
            raise AssessmentError(
                f"a {saved.get_status_display().lower()} assessment cannot be edited",
                code="conflict",
            )
        if saved.revision != revision:
            raise AssessmentError(
                f"revision {revision} is stale; the assessment is at revision {saved.revision}",
                code="conflict",
                path="revision",
            )
        unknown = sorted(set(fields) - set(ASSESSMENT_FIELDS))
        if unknown:
            raise AssessmentError(f"unknown fields {unknown}", path=unknown[0])
        for name, value in fields.items():
            setattr(saved, name, value)
        saved.revision += 1
        model_check(saved)
        saved.save()
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
    author_required(author, author_id=assessment.author_id, to="submit an assessment")
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
            statuses=EDITABLE_STATUSES,
        )
        locked.status = Status.SUBMITTED
        save_recorded(locked, user=author, reason="Submitted for review")
        note_add(user=author, action=ModerationNote.Action.SUBMIT, assessment=locked)
    return locked


def _curator_decision(
    *, assessment: Assessment, curator, revision: int, new_status: str, action: str, text: str
) -> Assessment:
    curator_required(curator, to="moderate assessments")
    with transaction.atomic():
        locked = _claim_assessment(
            assessment=assessment, revision=revision, statuses=(Status.SUBMITTED,)
        )
        locked.status = new_status
        save_recorded(locked, user=curator, reason=text)
        note_add(user=curator, action=action, text=text, assessment=locked)
        assessment_decision_notify(
            assessment=locked, decision=new_status, curator=curator, text=text
        )
    return locked


def assessment_request_changes(
    *, assessment: Assessment, curator, revision: int, comment: str
) -> Assessment:
    """Send a submission back to its author with the curator's words; the author amends it."""
    text = words(comment, what="Say what needs to change")
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
    text = words(reason, what="Give the reason for rejecting")
    return _curator_decision(
        assessment=assessment,
        curator=curator,
        revision=revision,
        new_status=Status.REJECTED,
        action=ModerationNote.Action.REJECT,
        text=text,
    )


@dataclass(frozen=True)
class Publication:
    assessment: Assessment
    superseded: Assessment | None
    claims_rechecked: int


def assessment_approve(
    *, assessment: Assessment, curator, revision: int, comment: str = ""
) -> Publication:
    """Approve a submission: it becomes the provider's published assessment and the one before
    it is kept as superseded. Of the provider's claims citing a source the ratings cite, only
    those whose quote is found in that source's latest stored text get a new check date and a
    confirmed verification (``rereading``); the others are left exactly as they were. What
    moved is kept on the assessment (``claims_moved``) for a revert. The sources its evidence
    cites are listed (``sources_publish``), and stay listed after a revert. A curator cannot
    approve their own submission; a stale ``revision`` is a conflict. ``comment`` is the reason
    recorded."""
    approver_required(
        curator,
        author_id=assessment.author_id,
        to="approve assessments",
        authored="wrote this submission",
    )
    comment = (comment or "").strip()[:MODERATION_REASON_MAX]
    reason = comment or "Approved"
    with transaction.atomic():
        locked = _claim_assessment(
            assessment=assessment, revision=revision, statuses=(Status.SUBMITTED,)
        )
        superseded = (
            Assessment.objects.select_for_update()
            .filter(provider_id=locked.provider_id, status=Status.PUBLISHED)
            .first()
        )
        if superseded is not None:
            superseded.status = Status.SUPERSEDED
            superseded.revision += 1
            save_recorded(
                superseded,
                user=curator,
                reason=f"Superseded by assessment {locked.pk}: {reason}",
                update_fields=["status", "revision", "updated_at"],
            )
            locked.supersedes = superseded
        locked.status = Status.PUBLISHED
        locked.published_at = timezone.now()
        sources_publish(
            source_ids=RatingEvidence.objects.filter(rating__assessment=locked).values("source_id"),
            curator=curator,
            reason=f"Cited by assessment {locked.pk}, approved",
        )
        # Before the one save, so the approval's history record carries what it moved.
        locked.claims_moved = _reread_claims(assessment=locked, curator=curator)
        # Publishing counts as a second change after the claim: clients have always read
        # the approved assessment two revisions on from the submission.
        locked.revision += 1
        try:
            # The partial unique constraint catches a concurrent approval for the same provider.
            with transaction.atomic():
                save_recorded(locked, user=curator, reason=reason)
        except IntegrityError:
            raise AssessmentError(
                "another assessment of this provider was published meanwhile", code="conflict"
            ) from None
        note_add(
            user=curator, action=ModerationNote.Action.APPROVE, text=comment, assessment=locked
        )
        assessment_decision_notify(
            assessment=locked, decision="approved", curator=curator, text=comment
        )
    return Publication(
        assessment=locked, superseded=superseded, claims_rechecked=len(locked.claims_moved)
    )


def _reread_claims(*, assessment: Assessment, curator) -> dict[str, dict]:
    """Re-read the quotes of the provider's claims citing a source the assessment's ratings
    cite (``rereading`` says when a date moves, and to what). Returns what moved, by claim
    id: the check date before, the date set and the verification recorded."""
    cited = (
        RatingEvidence.objects.filter(rating__assessment=assessment)
        .values_list("source_id", flat=True)
        .distinct()
    )
    claims = (
        Claim.objects.select_for_update(of=("self",))
        .filter(
            Q(provider_id=assessment.provider_id) | Q(model__provider_id=assessment.provider_id),
            source_id__in=cited,
        )
        .exclude(status=Claim.Status.RETIRED)
        .order_by("pk")
    )
    texts = LatestTexts()
    occasion = f"approval of assessment {assessment.pk}"
    moved: dict[str, dict] = {}
    for claim in claims:
        reading = claim_reread(claim=claim, texts=texts)
        if reading is None:
            continue
        before = claim.checked_at
        claim.checked_at = reading.text.read_on
        save_recorded(
            claim,
            user=curator,
            reason=f"Quote re-read in version {reading.text.version.number} of the source at "
            f"{occasion}",
            update_fields=["checked_at", "updated_at"],
        )
        verification = reading_record(
            reading=reading, curator=curator, occasion=occasion, assessment=assessment.pk
        )
        moved[str(claim.pk)] = {
            "checked_at": before.isoformat(),
            "moved_to": claim.checked_at.isoformat(),
            "verification": verification.pk,
        }
    return moved


def _claims_put_back(*, assessment: Assessment, curator, text: str) -> None:
    """Undo what approving ``assessment`` did to claims: each claim still dated by that
    approval gets its earlier check date back (a later reading, e.g. a source check since,
    stands), and the approval's verifications are marked withdrawn."""
    moved = assessment.claims_moved or {}
    if not moved:
        return
    claims = Claim.objects.select_for_update(of=("self",)).filter(pk__in=[int(k) for k in moved])
    for claim in claims.order_by("pk"):
        change = moved[str(claim.pk)]
        reread_since = Verification.objects.filter(
            claim=claim, outcome=Verification.Outcome.CONFIRMED, pk__gt=change["verification"]
        ).exists()
        if claim.checked_at.isoformat() != change["moved_to"] or reread_since:
            continue
        claim.checked_at = dt.date.fromisoformat(change["checked_at"])
        save_recorded(
            claim,
            user=curator,
            reason=f"Check date put back: approval of assessment {assessment.pk} reverted: {text}",
            update_fields=["checked_at", "updated_at"],
        )
    reading_withdraw(
        verifications=Verification.objects.filter(
            pk__in=[change["verification"] for change in moved.values()]
        ),
        curator=curator,
        occasion=f"reverting assessment {assessment.pk}",
        reason=text,
    )


def assessment_revert(
    *, assessment: Assessment, curator, revision: int, reason: str
) -> Assessment | None:
    """Take a published assessment down and put back the one it superseded (if any), and put
    back the check dates its approval moved (a claim re-read since keeps its newer date; the
    approval's verifications are kept, marked withdrawn). Every change is recorded with the
    curator and the reason. Returns the restored assessment."""
    curator_required(curator, to="revert assessments")
    text = words(reason, what="Give the reason for reverting")
    with transaction.atomic():
        locked = _claim_assessment(
            assessment=assessment, revision=revision, statuses=(Status.PUBLISHED,)
        )
        locked.status = Status.SUPERSEDED
        save_recorded(locked, user=curator, reason=f"Reverted: {text}")
        _claims_put_back(assessment=locked, curator=curator, text=text)
        restored = None
        if locked.supersedes_id is not None:
            restored = Assessment.objects.select_for_update().get(pk=locked.supersedes_id)
            if restored.status == Status.SUPERSEDED:
                restored.status = Status.PUBLISHED
                restored.revision += 1
                save_recorded(
                    restored,
                    user=curator,
                    reason=f"Restored by reverting assessment {locked.pk}: {text}",
                )
            else:
                restored = None
        note_add(user=curator, action=ModerationNote.Action.REVERT, text=text, assessment=locked)
        assessment_decision_notify(
            assessment=locked, decision="reverted", curator=curator, text=text
        )
    return restored
