"""What every moderated write shares: the one error type, the moderation rules (who may do
what), the conditional revision claim, the history record with its reason, and the thread.

Each rule is checked here and only here, with one message:

- only reviewers and curators write assessments and propose corrections (``reviewer_required``);
- only the author edits, amends or submits their work (``author_required``);
- only curators decide (``curator_required``), and a curator never approves what they wrote
  themselves (``approver_required``);
- only the author and curators comment on a thread (``thread_comment``).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, QuerySet

from assessments.models import Assessment, ClaimCorrection, ModerationNote
from assessments.permissions import is_curator, is_reviewer

MODERATION_REASON_MAX = 4000

# The HTTP status a refused write answers with, on the web pages and in the API alike.
HTTP_STATUS = {"invalid": 400, "forbidden": 403, "conflict": 409, "rate_limited": 429}


class AssessmentError(Exception):
    """A write that cannot be done. ``code`` is one of ``invalid`` (bad input, with ``path``
    naming the field), ``forbidden`` (not this user's to change), ``conflict`` (the record
    changed meanwhile or its state does not allow it) or ``rate_limited`` (public reviews).
    ``problems`` lists every offending field as (path, message) pairs when there is more than
    one to name (an incomplete submission); otherwise it is the one pair of ``path`` and
    ``message``, or empty."""

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

    @property
    def http_status(self) -> int:
        """The HTTP status of the response that reports this error (400 for an unknown code)."""
        return HTTP_STATUS.get(self.code, HTTP_STATUS["invalid"])


# --- the rules -------------------------------------------------------------------------------


def reviewer_required(user, *, to: str) -> None:
    """Only reviewers and curators may ``to`` (e.g. "write assessments")."""
    if not is_reviewer(user):
        raise AssessmentError(f"only reviewers and curators {to}", code="forbidden")


def curator_required(user, *, to: str) -> None:
    """Only curators may ``to`` (e.g. "reject corrections")."""
    if not is_curator(user):
        raise AssessmentError(f"only curators {to}", code="forbidden")


def author_required(user, *, author_id: int | None, to: str) -> None:
    """Only the author may ``to`` (e.g. "submit an assessment")."""
    if author_id != user.pk:
        raise AssessmentError(f"only the author may {to}", code="forbidden")


def approver_required(user, *, author_id: int | None, to: str, authored: str) -> None:
    """Only curators approve (``to``, e.g. "approve assessments"), and never their own work
    (``authored`` says what they did, e.g. "wrote this submission"): a second pair of eyes
    sees everything that is published."""
    curator_required(user, to=to)
    if author_id is not None and author_id == user.pk:
        raise AssessmentError(f"you {authored}; another curator must approve it", code="forbidden")


def words(text: str, *, what: str) -> str:
    """``text`` stripped; refused (naming the field ``text``) when empty or over
    ``MODERATION_REASON_MAX`` characters. ``what`` opens the message."""
    text = (text or "").strip()
    if not text:
        raise AssessmentError(f"{what}: write a few words; it cannot be empty", path="text")
    if len(text) > MODERATION_REASON_MAX:
        raise AssessmentError(
            f"{what}: at most {MODERATION_REASON_MAX} characters, got {len(text)}", path="text"
        )
    return text


def model_check(instance, *, path: str = "", exclude: list[str] | None = None) -> None:
    """Run the model's field validation; the first problem becomes an ``AssessmentError``
    naming the field (under ``path``)."""
    try:
        instance.full_clean(exclude=exclude, validate_constraints=False)
    except ValidationError as exc:
        name, messages = next(iter(exc.message_dict.items()))
        where = f"{path}.{name}" if path else name
        raise AssessmentError(f"{where}: {' '.join(messages)}", path=where) from None


# --- state changes ---------------------------------------------------------------------------


def claim_revision(
    queryset: QuerySet, *, pk: int, revision: int, statuses: tuple[str, ...], noun: str
):
    """Take the right to change the row ``pk`` of ``queryset``'s model (an assessment or a
    claim correction, called ``noun`` in messages): bump its revision if it is still at
    ``revision`` and in one of ``statuses``. Returns the row from ``queryset``, locked, or
    raises a conflict naming why not.

    The conditional ``UPDATE … WHERE revision = <the one the actor read>`` is the first
    statement of the caller's transaction: of two curators acting at once exactly one matches
    the row, and it serialises on SQLite too, where ``select_for_update`` is a no-op."""
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


def save_recorded(instance, *, user, reason: str, update_fields: list[str] | None = None) -> None:
    """Save ``instance`` so that its one new history record names ``user`` and ``reason``."""
    instance._history_user = user
    instance._change_reason = reason[:MODERATION_REASON_MAX]
    instance.save(update_fields=update_fields)


# --- the thread ------------------------------------------------------------------------------


def note_add(*, user, action: str, text: str = "", **subject) -> ModerationNote:
    """Add a step to the thread of ``subject`` (``assessment=``, ``correction=`` or
    ``review=``); the caller has checked the step is allowed."""
    return ModerationNote.objects.create(author=user, action=action, text=text, **subject)


def thread_comment(
    *,
    user,
    text: str,
    assessment: Assessment | None = None,
    correction: ClaimCorrection | None = None,
) -> ModerationNote:
    """Add a comment to the moderation thread of ``assessment`` or ``correction`` without
    changing it (its author or a curator); returns the new note. Empty or overlong ``text`` is
    refused naming ``text``."""
    subject = assessment if assessment is not None else correction
    if subject.author_id != user.pk and not is_curator(user):
        raise AssessmentError("only the author and curators may comment", code="forbidden")
    text = words(text, what="Comment")
    with transaction.atomic():
        return note_add(
            user=user,
            action=ModerationNote.Action.COMMENT,
            text=text,
            assessment=assessment,
            correction=correction,
        )
