"""What the assessment and correction APIs share: a refused write (``AssessmentError``) in
the API's error shape, the decision bodies (the `revision` read, with a comment or a
reason), and the moderation thread (``.../notes``), read and added to by the people the web
pages show it to: the author and curators (``selectors``), so anyone else gets a 404.
"""

from __future__ import annotations

from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from assessments.models import ModerationNote
from assessments.selectors import notes_for
from assessments.services.moderation import MODERATION_REASON_MAX, AssessmentError, thread_comment
from atlas.api.errors import error_body
from atlas.api.paging import CursorPagination
from atlas.api.parsing import RejectUnknownFieldsMixin

# The API's name for each refused write; anything else is `invalid`.
_ERROR_CODES = {"forbidden": "permission_denied", "conflict": "conflict"}


def error_response(error: AssessmentError) -> Response:
    """The API's error shape for a refused write: 400 naming every offending field, 403, or
    409 (a stale ``revision`` is named as the field ``revision`` with the code ``stale``)."""
    code = _ERROR_CODES.get(error.code, "invalid")
    fields = [
        {
            "path": path or "non_field_errors",
            "code": "stale" if path == "revision" and error.code == "conflict" else error.code,
            "message": message,
        }
        for path, message in error.problems
    ]
    if error.code == "invalid" and not fields:
        fields = [{"path": "non_field_errors", "code": "invalid", "message": error.message}]
    message = error.message[:1].upper() + error.message[1:]
    return Response(error_body(code=code, message=message, fields=fields), status=error.http_status)


class ModerationErrorsMixin:
    """Views whose services raise ``AssessmentError`` answer it in the API's error shape."""

    def handle_exception(self, exc):
        if isinstance(exc, AssessmentError):
            # As DRF does for its own errors: nothing of a refused write is kept.
            set_rollback()
            return error_response(exc)
        return super().handle_exception(exc)


class RevisionSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """The revision of the record you read, so a change made meanwhile is not overlooked."""

    revision = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        help_text="The `revision` you read; a stale one is refused with 409 (`fields` names "
        "`revision`, code `stale`).",
    )


def words_field(help_text: str, *, required: bool = True) -> serializers.CharField:
    return serializers.CharField(
        max_length=MODERATION_REASON_MAX,
        required=required,
        allow_blank=not required,
        default="" if not required else serializers.empty,
        help_text=help_text,
    )


class CommentDecisionSerializer(RevisionSerializer):
    """The revision you read and, in words, what the author should change."""

    comment = words_field("What needs to change, for the author.")


class ReasonDecisionSerializer(RevisionSerializer):
    """The revision you read and the reason for the decision."""

    reason = words_field("Why, in words; kept in the history and the moderation thread.")


class ApproveSerializer(RevisionSerializer):
    """The revision you read and, optionally, a comment kept as the reason for the change."""

    comment = words_field("Recorded as the reason for the change (optional).", required=False)


def decision_data(request, serializer_class) -> dict:
    """The validated body of a decision (or a comment); a bad one is a 400."""
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ModerationNoteSerializer(serializers.ModelSerializer):
    """One step of the moderation thread: who did what, when, and the words they gave."""

    author = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        help_text="The author's username, as the web pages show it (never an e-mail address).",
    )

    class Meta:
        model = ModerationNote
        fields = ["id", "action", "text", "author", "created_at"]
        read_only_fields = fields


class CommentSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """A plain comment on the thread; it changes nothing else."""

    text = words_field("The comment, for the author and the curators.")


class ThreadPagination(CursorPagination):
    """A thread reads oldest first, as on the web pages."""

    ordering = ("created_at", "id")


class ModerationThreadMixin:
    """Serves the `notes` action of a moderated resource: the paged thread on GET, a new
    comment on POST. The action takes only the thread's paging, none of the list's filters."""

    def allowed_query_params(self) -> set[str]:
        if self.action == "notes" and self.request.method in ("GET", "HEAD"):
            return {"cursor", "page_size", "count"}
        return super().allowed_query_params()

    def thread(self, request, **subject) -> Response:
        """The thread of ``subject`` (``assessment=`` or ``correction=``, found in a queryset
        the user may read): the page asked for on GET, the new comment on POST."""
        if request.method == "POST":
            data = decision_data(request, CommentSerializer)
            note = thread_comment(user=request.user, text=data["text"], **subject)
            return Response(ModerationNoteSerializer(note).data, status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(notes_for(**subject))
        return self.get_paginated_response(ModerationNoteSerializer(page, many=True).data)
