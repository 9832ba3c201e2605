"""Writes to claim corrections: a reviewer proposes a change to a claim, a curator requests
changes, rejects it or approves it (which applies it to the claim), and may revert it later.

Like assessments, every state change claims the correction's revision first and leaves one
history record naming the actor and their words; the claim's history says which correction
changed it and why.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from assessments.models import ClaimCorrection, ModerationNote
from assessments.services.assessments import sources_publish
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
from assessments.services.rereading import (
    LatestTexts,
    claim_reread,
    reading_record,
    reading_withdraw,
)
from catalog.models import Claim, Source, Verification

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


def _correction_check(
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
    reviewer_required(author, to="propose corrections")
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
    _correction_check(claim=claim, **fields)
    correction = ClaimCorrection(claim=claim, author=author, **fields)
    model_check(correction)
    correction.save()
    return correction


def _claim_correction(
    *, correction: ClaimCorrection, revision: int, statuses: tuple[str, ...]
) -> ClaimCorrection:
    return claim_revision(
        ClaimCorrection.objects.all(),
        pk=correction.pk,
        revision=revision,
        statuses=statuses,
        noun="correction",
    )


def claim_correction_approve(
    *, correction: ClaimCorrection, curator, revision: int, comment: str = ""
) -> ClaimCorrection:
    """Apply a pending correction (not one's own) to its claim and mark it approved; the
    claim's history names the curator, the correction and ``comment`` or else the author's
    reason. The claim's check date moves only when its (corrected) quote is found in its
    (corrected) source's latest stored text, with a confirmed verification (``rereading``);
    otherwise it and the claim's status stay as they were. The source it proposes is listed
    (``sources_publish``). A stale ``revision`` is a conflict."""
    approver_required(
        curator,
        author_id=correction.author_id,
        to="approve corrections",
        authored="proposed this correction",
    )
    comment = (comment or "").strip()[:MODERATION_REASON_MAX]
    with transaction.atomic():
        locked = _claim_correction(
            correction=correction, revision=revision, statuses=(ClaimCorrection.Status.PENDING,)
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
            sources_publish(
                source_ids=[locked.source_id],
                curator=curator,
                reason=f"Cited by correction {locked.pk}, approved",
            )
        if locked.evidence_quote is not None:
            claim.evidence_quote = locked.evidence_quote
        now = timezone.now()
        reading = claim_reread(claim=claim, texts=LatestTexts())
        if reading is not None:
            claim.checked_at = reading.text.read_on
        model_check(claim)
        try:
            with transaction.atomic():
                save_recorded(
                    claim,
                    user=curator,
                    reason=f"Correction {locked.pk} approved: {comment or locked.reason}",
                )
        except IntegrityError:
            raise AssessmentError(
                "the corrected claim would duplicate another claim from the same source",
                code="conflict",
            ) from None
        if reading is not None:
            reading_record(
                reading=reading,
                curator=curator,
                occasion=f"approval of correction {locked.pk}",
                correction=locked.pk,
            )
        locked.status = ClaimCorrection.Status.APPROVED
        locked.decided_by = curator
        locked.decided_at = now
        save_recorded(locked, user=curator, reason=comment or "Approved")
        note_add(
            user=curator, action=ModerationNote.Action.APPROVE, text=comment, correction=locked
        )
    return locked


def claim_correction_reject(
    *, correction: ClaimCorrection, curator, revision: int, reason: str
) -> ClaimCorrection:
    """Refuse a pending correction with the reason; the claim is left as it is."""
    curator_required(curator, to="reject corrections")
    text = words(reason, what="Give the reason for rejecting")
    with transaction.atomic():
        locked = _claim_correction(
            correction=correction, revision=revision, statuses=(ClaimCorrection.Status.PENDING,)
        )
        locked.status = ClaimCorrection.Status.REJECTED
        locked.decided_at = timezone.now()
        locked.decided_by = curator
        save_recorded(locked, user=curator, reason=text)
        note_add(user=curator, action=ModerationNote.Action.REJECT, text=text, correction=locked)
    return locked


def claim_correction_request_changes(
    *, correction: ClaimCorrection, curator, revision: int, comment: str
) -> ClaimCorrection:
    """Send a pending correction back to its author with the curator's words; the author
    amends it and submits it again."""
    curator_required(curator, to="moderate corrections")
    text = words(comment, what="Say what needs to change")
    with transaction.atomic():
        locked = _claim_correction(
            correction=correction, revision=revision, statuses=(ClaimCorrection.Status.PENDING,)
        )
        locked.status = ClaimCorrection.Status.CHANGES_REQUESTED
        save_recorded(locked, user=curator, reason=text)
        note_add(
            user=curator,
            action=ModerationNote.Action.REQUEST_CHANGES,
            text=text,
            correction=locked,
        )
    return locked


def claim_correction_amend(
    *, correction: ClaimCorrection, author, revision: int, **fields
) -> ClaimCorrection:
    """Change the author's correction while changes are requested: the ``fields`` given (any
    of ``CORRECTION_FIELDS``) replace the proposal's; the result is checked as a new proposal
    would be. It stays with the author until ``claim_correction_submit``."""
    author_required(author, author_id=correction.author_id, to="amend a correction")
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
        _correction_check(
            claim=Claim.objects.select_related("key").get(pk=locked.claim_id),
            **{name: getattr(locked, name) for name in CORRECTION_FIELDS},
        )
        model_check(locked)
        save_recorded(locked, user=author, reason="Amended by the author")
    return locked


def claim_correction_submit(
    *, correction: ClaimCorrection, author, revision: int
) -> ClaimCorrection:
    """Send the author's amended correction back to the curators' queue."""
    author_required(author, author_id=correction.author_id, to="submit a correction")
    with transaction.atomic():
        locked = _claim_correction(
            correction=correction,
            revision=revision,
            statuses=(ClaimCorrection.Status.CHANGES_REQUESTED,),
        )
        locked.status = ClaimCorrection.Status.PENDING
        save_recorded(locked, user=author, reason="Submitted for review")
        note_add(user=author, action=ModerationNote.Action.SUBMIT, correction=locked)
    return locked


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
    curator_required(curator, to="revert claims")
    text = words(reason, what="Give the reason for reverting")
    version = claim.history.filter(history_id=to_history_id).first()
    if version is None:
        raise AssessmentError(
            f"claim {claim.pk} has no recorded version {to_history_id}", path="to_history_id"
        )
    with transaction.atomic():
        locked = Claim.objects.select_for_update().get(pk=claim.pk)
        for name in CLAIM_RESTORED_FIELDS:
            setattr(locked, name, getattr(version, name))
        save_recorded(
            locked,
            user=curator,
            reason=f"Reverted to the version of {version.history_date:%Y-%m-%d %H:%M} UTC: {text}",
        )
    return locked


def claim_correction_revert(*, correction: ClaimCorrection, curator, reason: str) -> Claim:
    """Undo an approved correction: the claim returns to its version before the approval
    (values, status and check date); the approval's verification, if any, is kept and marked
    withdrawn."""
    text = words(reason, what="Give the reason for reverting")
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
        reading_withdraw(
            verifications=Verification.objects.filter(
                claim_id=correction.claim_id,
                method=Verification.Method.MANUAL,
                evidence__correction=correction.pk,
            ),
            curator=curator,
            occasion=f"reverting correction {correction.pk}",
            reason=text,
        )
        note_add(
            user=curator, action=ModerationNote.Action.REVERT, text=text, correction=correction
        )
    return claim
