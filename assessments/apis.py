"""API of GDPR criteria, assessments, claim corrections and API tokens.

Reads of assessments go through ``assessments_visible_to`` (published ones for
everyone, plus a reviewer's own, plus everything for a curator), so another
reviewer's draft is a 404 in every method. Writes go through the moderation services the
web pages use (``assessments.moderation``): the same submit step and completeness check, the
same revision check, the same history records. An ``AssessmentError`` becomes the API error
shape, each offending field named by its path.

The moderation thread of an assessment or a correction (``.../notes``) is read and added to
by the people the web pages show it to: the author and curators (``selectors``), so another
reviewer gets a 404, as for a draft that is not theirs.
"""

from __future__ import annotations

import datetime as dt

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.db import transaction
from drf_spectacular.authentication import BasicScheme
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from knox.auth import TokenAuthentication
from knox.models import AuthToken
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.authentication import BasicAuthentication, SessionAuthentication
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView, set_rollback

from assessments import filters, moderation, queues, selectors, services
from assessments.models import (
    Assessment,
    AssessmentSource,
    AssessmentVerdict,
    ClaimCorrection,
    Criterion,
    ModerationNote,
    Rating,
    RatingEvidence,
    RatingValue,
)
from assessments.permissions import IsCurator, IsReviewer, ReadOnlyOrReviewer
from atlas.api.conditional import ConditionalGetMixin
from atlas.api.errors import error_body
from atlas.api.paging import CursorPagination
from atlas.api.parsing import RejectUnknownFieldsMixin, StrictQueryMixin
from atlas.api.viewsets import ID_REGEX, ReadOnlyViewSet
from catalog.apis import ProviderRefSerializer, SourceRefSerializer
from catalog.models import Claim, ClaimFlag, Provider, Source

_ERROR_STATUS = {
    "invalid": (status.HTTP_400_BAD_REQUEST, "invalid"),
    "forbidden": (status.HTTP_403_FORBIDDEN, "permission_denied"),
    "conflict": (status.HTTP_409_CONFLICT, "conflict"),
}


def error_response(error: services.AssessmentError) -> Response:
    """The API's error shape for a refused write: 400 naming every offending field, 403, or
    409 (a stale ``revision`` is named as the field ``revision`` with the code ``stale``)."""
    http_status, code = _ERROR_STATUS.get(error.code, _ERROR_STATUS["invalid"])
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
    return Response(error_body(code=code, message=message, fields=fields), status=http_status)


class ModerationErrorsMixin:
    """Views whose services raise ``AssessmentError`` answer it in the API's error shape."""

    def handle_exception(self, exc):
        if isinstance(exc, services.AssessmentError):
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


def _words(help_text: str, *, required: bool = True) -> serializers.CharField:
    return serializers.CharField(
        max_length=moderation.MODERATION_REASON_MAX,
        required=required,
        allow_blank=not required,
        default="" if not required else serializers.empty,
        help_text=help_text,
    )


class CommentDecisionSerializer(RevisionSerializer):
    """The revision you read and, in words, what the author should change."""

    comment = _words("What needs to change, for the author.")


class ReasonDecisionSerializer(RevisionSerializer):
    """The revision you read and the reason for the decision."""

    reason = _words("Why, in words; kept in the history and the moderation thread.")


class ApproveSerializer(RevisionSerializer):
    """The revision you read and, optionally, a comment kept as the reason for the change."""

    comment = _words("Recorded as the reason for the change (optional).", required=False)


def _decision(request, serializer_class):
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- moderation threads ---------------------------------------------------------------------


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

    text = _words("The comment, for the author and the curators.")


class ThreadPagination(CursorPagination):
    """A thread reads oldest first, as on the web pages."""

    ordering = ("created_at", "id")


class ModerationThreadMixin:
    """Serves the `notes` action of a moderated resource: the paged thread on GET, a new
    comment on POST. The action takes only the thread's paging, none of the list's filters."""

    def allowed_query_params(self) -> set[str]:
        if self.action == "notes" and self.request.method in ("GET", "HEAD"):
            return {"cursor", "page_size"}
        return super().allowed_query_params()

    def _thread(self, request, *, subject: dict, comment) -> Response:
        if request.method == "POST":
            data = _decision(request, CommentSerializer)
            note = comment(user=request.user, text=data["text"], **subject)
            return Response(ModerationNoteSerializer(note).data, status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(queues.notes_for(**subject))
        return self.get_paginated_response(ModerationNoteSerializer(page, many=True).data)


# --- criteria -------------------------------------------------------------------------------


class CriterionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Criterion
        fields = ["slug", "name", "description", "position", "active", "updated_at"]


@extend_schema(tags=["assessments"])
class CriterionViewSet(ReadOnlyViewSet):
    """The GDPR criteria every assessment rates."""

    page_cache_models = (Criterion,)

    serializer_class = CriterionSerializer
    filterset_class = filters.CriterionFilter
    lookup_field = "slug"
    search_fields = ["name", "description"]
    ordering_fields = ["position", "slug", "updated_at"]
    ordering = ("position",)
    queryset = Criterion.objects.all()


# --- assessments: read ----------------------------------------------------------------------


class EvidenceSerializer(serializers.ModelSerializer):
    source = SourceRefSerializer(read_only=True)

    class Meta:
        model = RatingEvidence
        fields = ["source", "quote", "read_on", "updated_at"]


class RatingSerializer(serializers.ModelSerializer):
    criterion = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    criterion_name = serializers.CharField(source="criterion.name", read_only=True)
    evidence = EvidenceSerializer(many=True, read_only=True)

    class Meta:
        model = Rating
        fields = ["criterion", "criterion_name", "value", "justification", "evidence", "updated_at"]


class AssessmentSourceSerializer(serializers.ModelSerializer):
    source = SourceRefSerializer(read_only=True)

    class Meta:
        model = AssessmentSource
        fields = ["source", "read_on"]


class AssessmentSerializer(serializers.ModelSerializer):
    provider = ProviderRefSerializer(read_only=True)
    author = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    strengths = serializers.ListField(child=serializers.CharField(), read_only=True)
    weaknesses = serializers.ListField(child=serializers.CharField(), read_only=True)
    ratings = RatingSerializer(many=True, read_only=True)
    sources = AssessmentSourceSerializer(many=True, read_only=True)

    class Meta:
        model = Assessment
        fields = [
            "id",
            "provider",
            "status",
            "verdict",
            "conclusion",
            "data_processing",
            "positives",
            "negatives",
            "server_locations",
            "strengths",
            "weaknesses",
            "assessed_on",
            "author",
            "published_at",
            "supersedes",
            "revision",
            "ratings",
            "sources",
            "created_at",
            "updated_at",
        ]


# --- assessments: write ---------------------------------------------------------------------


class EvidenceWriteSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    source = serializers.SlugRelatedField(slug_field="slug", queryset=Source.objects.all())
    quote = serializers.CharField(allow_blank=True, required=False, default="", max_length=5000)
    read_on = serializers.DateField()


class RatingWriteSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    criterion = serializers.SlugRelatedField(
        slug_field="slug", queryset=Criterion.objects.filter(active=True)
    )
    value = serializers.ChoiceField(choices=RatingValue.choices)
    justification = serializers.CharField(
        allow_blank=True, required=False, default="", max_length=10000
    )
    evidence = EvidenceWriteSerializer(many=True, required=False, default=list, max_length=50)


def _text(**kwargs) -> serializers.CharField:
    return serializers.CharField(allow_blank=True, required=False, max_length=20000, **kwargs)


class AssessmentFieldsSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    verdict = serializers.ChoiceField(choices=AssessmentVerdict.choices, required=False)
    conclusion = _text()
    data_processing = _text()
    positives = _text()
    negatives = _text()
    server_locations = _text()
    strengths = serializers.ListField(
        child=serializers.CharField(max_length=500), required=False, max_length=50
    )
    weaknesses = serializers.ListField(
        child=serializers.CharField(max_length=500), required=False, max_length=50
    )
    ratings = RatingWriteSerializer(
        many=True,
        required=False,
        max_length=100,
        help_text="The whole set of ratings: a criterion left out loses its rating. Leave the "
        "field out to keep the ratings as they are.",
    )

    def validate_ratings(self, ratings: list[dict]) -> list[dict]:
        # Named by their place in the body, as every other field error is.
        errors: list[dict] = [{} for _ in ratings]
        seen: set[int] = set()
        for index, rating in enumerate(ratings):
            if rating["criterion"].pk in seen:
                errors[index]["criterion"] = ["This criterion is rated twice."]
            seen.add(rating["criterion"].pk)
            sources: set[int] = set()
            evidence_errors: list[dict] = [{} for _ in rating["evidence"]]
            for position, item in enumerate(rating["evidence"]):
                if item["source"].pk in sources:
                    evidence_errors[position]["source"] = ["This source is cited twice."]
                sources.add(item["source"].pk)
            if any(evidence_errors):
                errors[index]["evidence"] = evidence_errors
        if any(errors):
            raise serializers.ValidationError(errors)
        return ratings

    def to_service_kwargs(self) -> dict:
        data = dict(self.validated_data)
        if "ratings" in data:
            data["ratings"] = [
                services.RatingInput(
                    criterion=rating["criterion"],
                    value=rating["value"],
                    justification=rating["justification"],
                    evidence=[services.EvidenceInput(**item) for item in rating["evidence"]],
                )
                for rating in data["ratings"]
            ]
        return data


class AssessmentCreateSerializer(AssessmentFieldsSerializer):
    provider = serializers.SlugRelatedField(slug_field="slug", queryset=Provider.objects.all())
    assessed_on = serializers.DateField()


class AssessmentUpdateSerializer(AssessmentFieldsSerializer):
    revision = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        help_text="The `revision` you read; a stale one is refused with 409.",
    )
    assessed_on = serializers.DateField(required=False)


@extend_schema(tags=["assessments"])
class AssessmentViewSet(
    ModerationErrorsMixin,
    ModerationThreadMixin,
    StrictQueryMixin,
    ConditionalGetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """GDPR assessments with their ratings and evidence. Everyone reads published ones;
    reviewers write their own drafts and submit them; curators request changes, reject,
    approve and revert."""

    serializer_class = AssessmentSerializer
    filterset_class = filters.AssessmentFilter
    permission_classes = [ReadOnlyOrReviewer]
    http_method_names = ["get", "post", "patch", "head", "options"]
    search_fields = ["provider__name", "conclusion"]
    ordering_fields = ["id", "assessed_on", "updated_at"]
    ordering = ("id",)
    lookup_value_regex = ID_REGEX

    def get_queryset(self):
        return selectors.assessments_visible_to(user=self.request.user)

    def _read(self, assessment: Assessment, *, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=assessment.pk)
        return Response(AssessmentSerializer(fresh).data, status=status_code)

    @extend_schema(
        request=AssessmentCreateSerializer,
        responses={201: AssessmentSerializer},
        summary="Start a draft assessment (reviewers and curators)",
        description="The draft starts as a copy of the provider's published assessment (fields, "
        "ratings and evidence), as on the web; the fields and ratings you send replace the "
        "copied ones. Only you and curators can read it until it is published.",
    )
    def create(self, request):
        serializer = AssessmentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        kwargs = serializer.to_service_kwargs()
        provider = kwargs.pop("provider")
        ratings = kwargs.pop("ratings", None)
        with transaction.atomic():
            draft = moderation.assessment_start(author=request.user, provider=provider)
            draft = moderation.assessment_draft_save(
                assessment=draft,
                editor=request.user,
                revision=draft.revision,
                ratings=ratings,
                **kwargs,
            )
        return self._read(draft, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        request=AssessmentUpdateSerializer,
        responses={200: AssessmentSerializer},
        summary="Update your own draft (send the `revision` you read)",
        description="Only while it is a draft or changes are requested. Fields you leave out "
        "are kept; `ratings`, when sent, are the whole set.",
    )
    def partial_update(self, request, pk=None):
        assessment = self.get_object()
        serializer = AssessmentUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        kwargs = serializer.to_service_kwargs()
        assessment = moderation.assessment_draft_save(
            assessment=assessment,
            editor=request.user,
            revision=kwargs.pop("revision"),
            ratings=kwargs.pop("ratings", None),
            **kwargs,
        )
        return self._read(assessment)

    @extend_schema(
        request=RevisionSerializer,
        responses={200: AssessmentSerializer},
        summary="Submit your draft for review (its author)",
        description="Every active criterion needs a rating, a justification and evidence with "
        "a source address, the exact quote and the reading date; a verdict, a conclusion and "
        "the server locations are needed too. An incomplete draft is refused with 400 and "
        "`fields` naming every missing part (`verdict`, `ratings.<criterion>.justification`, "
        "`ratings.<criterion>.evidence.<n>.quote`, ...).",
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        assessment = self.get_object()
        data = _decision(request, RevisionSerializer)
        assessment = moderation.assessment_submit(
            assessment=assessment, author=request.user, revision=data["revision"]
        )
        return self._read(assessment)

    @extend_schema(
        request=CommentDecisionSerializer,
        responses={200: AssessmentSerializer},
        summary="Send a submission back to its author with what to change (curators)",
    )
    @action(
        detail=True, methods=["post"], url_path="request-changes", permission_classes=[IsCurator]
    )
    def request_changes(self, request, pk=None):
        assessment = self.get_object()
        data = _decision(request, CommentDecisionSerializer)
        assessment = moderation.assessment_request_changes(
            assessment=assessment,
            curator=request.user,
            revision=data["revision"],
            comment=data["comment"],
        )
        return self._read(assessment)

    @extend_schema(
        request=ReasonDecisionSerializer,
        responses={200: AssessmentSerializer},
        summary="Reject a submission for good, with the reason (curators)",
    )
    @action(detail=True, methods=["post"], permission_classes=[IsCurator])
    def reject(self, request, pk=None):
        assessment = self.get_object()
        data = _decision(request, ReasonDecisionSerializer)
        assessment = moderation.assessment_reject(
            assessment=assessment,
            curator=request.user,
            revision=data["revision"],
            reason=data["reason"],
        )
        return self._read(assessment)

    @extend_schema(
        request=ApproveSerializer,
        responses={200: AssessmentSerializer},
        summary="Approve a submission and publish it (curators, not its author)",
        description="The provider's published assessment becomes superseded, and the claims "
        "whose sources the assessment cites are marked checked on the day they were read. "
        "Only a submitted assessment can be approved, and never by its own author (403).",
    )
    @action(detail=True, methods=["post"], permission_classes=[IsCurator])
    def approve(self, request, pk=None):
        assessment = self.get_object()
        data = _decision(request, ApproveSerializer)
        publication = moderation.assessment_publish(
            assessment=assessment,
            curator=request.user,
            revision=data["revision"],
            comment=data["comment"],
        )
        return self._read(publication.assessment)

    @extend_schema(
        request=ReasonDecisionSerializer,
        responses={200: AssessmentSerializer},
        summary="Revert a published assessment (curators)",
        description="The assessment is taken down (superseded) and the one it superseded, if "
        "any, is published again; the response is the reverted assessment, whose `supersedes` "
        "names the one restored.",
    )
    @action(detail=True, methods=["post"], permission_classes=[IsCurator])
    def revert(self, request, pk=None):
        assessment = self.get_object()
        data = _decision(request, ReasonDecisionSerializer)
        moderation.assessment_revert(
            assessment=assessment,
            curator=request.user,
            revision=data["revision"],
            reason=data["reason"],
        )
        return self._read(assessment)

    @extend_schema(
        methods=["GET"],
        responses=ModerationNoteSerializer(many=True),
        summary="Read the moderation thread (its author and curators)",
        description="Every step, oldest first: submissions, comments, requests for changes "
        "with what to change, rejections, approvals and reverts. The author reads it in every "
        "state and curators once the assessment is submitted, as on the web pages; anyone else "
        "gets 404.",
    )
    @extend_schema(
        methods=["POST"],
        request=CommentSerializer,
        responses={201: ModerationNoteSerializer},
        summary="Comment on the moderation thread (its author and curators)",
        description="Adds a comment and changes nothing else, so no `revision` is needed. The "
        "same people who read the thread may comment; anyone else gets 404.",
    )
    @action(
        detail=True,
        methods=["get", "post"],
        permission_classes=[IsAuthenticated],
        filter_backends=[],
        pagination_class=ThreadPagination,
    )
    def notes(self, request, pk=None):
        assessment = get_object_or_404(
            selectors.assessment_threads_visible_to(user=request.user), pk=pk
        )
        return self._thread(
            request, subject={"assessment": assessment}, comment=moderation.assessment_comment
        )


# --- claim corrections ----------------------------------------------------------------------


class ClaimCorrectionSerializer(serializers.ModelSerializer):
    claim = serializers.PrimaryKeyRelatedField(read_only=True)
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)
    source = SourceRefSerializer(read_only=True, allow_null=True)
    decided_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = ClaimCorrection
        fields = [
            "id",
            "claim",
            "author",
            "value_flag",
            "value_number",
            "value_unit",
            "value_text",
            "condition",
            "source",
            "evidence_quote",
            "reason",
            "status",
            "decided_by",
            "decided_at",
            "revision",
            "created_at",
            "updated_at",
        ]


class ClaimCorrectionCreateSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    claim = serializers.PrimaryKeyRelatedField(queryset=Claim.objects.select_related("key"))
    reason = serializers.CharField(max_length=5000, help_text="Why the claim is wrong.")
    value_flag = serializers.ChoiceField(
        choices=[("", "(unchanged)"), *ClaimFlag.choices], required=False, default=""
    )
    value_number = serializers.DecimalField(
        max_digits=20, decimal_places=4, required=False, allow_null=True, default=None
    )
    value_unit = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    value_text = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    condition = serializers.CharField(
        max_length=5000,
        required=False,
        allow_blank=True,
        allow_null=True,
        default=None,
        help_text="New condition; null keeps the current one, an empty string removes it.",
    )
    source = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Source.objects.all(),
        required=False,
        allow_null=True,
        default=None,
    )
    evidence_quote = serializers.CharField(
        max_length=10000, required=False, allow_blank=True, allow_null=True, default=None
    )


class ClaimCorrectionAmendSerializer(RevisionSerializer):
    """The proposal's fields, each optional: what is sent replaces the proposal's value."""

    reason = serializers.CharField(max_length=5000, required=False)
    value_flag = serializers.ChoiceField(
        choices=[("", "(unchanged)"), *ClaimFlag.choices], required=False
    )
    value_number = serializers.DecimalField(
        max_digits=20, decimal_places=4, required=False, allow_null=True
    )
    value_unit = serializers.CharField(max_length=30, required=False, allow_blank=True)
    value_text = serializers.CharField(max_length=300, required=False, allow_blank=True)
    condition = serializers.CharField(
        max_length=5000, required=False, allow_blank=True, allow_null=True
    )
    source = serializers.SlugRelatedField(
        slug_field="slug", queryset=Source.objects.all(), required=False, allow_null=True
    )
    evidence_quote = serializers.CharField(
        max_length=10000, required=False, allow_blank=True, allow_null=True
    )


@extend_schema(tags=["assessments"])
class ClaimCorrectionViewSet(
    ModerationErrorsMixin,
    ModerationThreadMixin,
    StrictQueryMixin,
    ConditionalGetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Proposed corrections to claims, moderated like assessments. Reviewers see and propose
    their own (a proposal is submitted when made) and amend and resubmit them when a curator
    requests changes; curators see all, request changes, reject with a reason or approve,
    which applies the correction to the claim."""

    serializer_class = ClaimCorrectionSerializer
    filterset_class = filters.ClaimCorrectionFilter
    permission_classes = [IsReviewer]
    http_method_names = ["get", "post", "patch", "head", "options"]
    ordering_fields = ["id", "updated_at"]
    ordering = ("id",)
    lookup_value_regex = ID_REGEX

    def get_queryset(self):
        return selectors.claim_corrections_visible_to(user=self.request.user)

    def _read(self, correction: ClaimCorrection, *, status_code: int = status.HTTP_200_OK):
        fresh = self.get_queryset().get(pk=correction.pk)
        return Response(ClaimCorrectionSerializer(fresh).data, status=status_code)

    @extend_schema(
        request=ClaimCorrectionCreateSerializer,
        responses={201: ClaimCorrectionSerializer},
        summary="Propose a correction to a claim (submitted to the curators at once)",
    )
    def create(self, request):
        serializer = ClaimCorrectionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        correction = services.claim_correction_create(
            author=request.user, **serializer.validated_data
        )
        return self._read(correction, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        request=ClaimCorrectionAmendSerializer,
        responses={200: ClaimCorrectionSerializer},
        summary="Amend your correction while changes are requested (send the `revision`)",
    )
    def partial_update(self, request, pk=None):
        correction = self.get_object()
        serializer = ClaimCorrectionAmendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        correction = moderation.claim_correction_amend(
            correction=correction, author=request.user, revision=fields.pop("revision"), **fields
        )
        return self._read(correction)

    @extend_schema(
        request=RevisionSerializer,
        responses={200: ClaimCorrectionSerializer},
        summary="Submit your amended correction again (its author)",
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        correction = self.get_object()
        data = _decision(request, RevisionSerializer)
        correction = moderation.claim_correction_submit(
            correction=correction, author=request.user, revision=data["revision"]
        )
        return self._read(correction)

    @extend_schema(
        request=CommentDecisionSerializer,
        responses={200: ClaimCorrectionSerializer},
        summary="Send a correction back to its author with what to change (curators)",
    )
    @action(
        detail=True, methods=["post"], url_path="request-changes", permission_classes=[IsCurator]
    )
    def request_changes(self, request, pk=None):
        correction = self.get_object()
        data = _decision(request, CommentDecisionSerializer)
        correction = moderation.claim_correction_request_changes(
            correction=correction,
            curator=request.user,
            revision=data["revision"],
            comment=data["comment"],
        )
        return self._read(correction)

    @extend_schema(
        request=ReasonDecisionSerializer,
        responses={200: ClaimCorrectionSerializer},
        summary="Reject a correction with the reason (curators); the claim is left as it is",
    )
    @action(detail=True, methods=["post"], permission_classes=[IsCurator])
    def reject(self, request, pk=None):
        correction = self.get_object()
        data = _decision(request, ReasonDecisionSerializer)
        correction = moderation.claim_correction_reject(
            correction=correction,
            curator=request.user,
            revision=data["revision"],
            reason=data["reason"],
        )
        return self._read(correction)

    @extend_schema(
        request=ApproveSerializer,
        responses={200: ClaimCorrectionSerializer},
        summary="Approve a correction and apply it to the claim (curators, not its author)",
    )
    @action(detail=True, methods=["post"], permission_classes=[IsCurator])
    def approve(self, request, pk=None):
        correction = self.get_object()
        data = _decision(request, ApproveSerializer)
        correction = moderation.claim_correction_publish(
            correction=correction,
            curator=request.user,
            revision=data["revision"],
            comment=data["comment"],
        )
        return self._read(correction)

    @extend_schema(
        methods=["GET"],
        responses=ModerationNoteSerializer(many=True),
        summary="Read the moderation thread (its author and curators)",
        description="Every step, oldest first: submissions, comments, requests for changes "
        "with what to change, rejections, approvals and reverts. The author and curators read "
        "it, as on the web pages; another reviewer gets 404.",
    )
    @extend_schema(
        methods=["POST"],
        request=CommentSerializer,
        responses={201: ModerationNoteSerializer},
        summary="Comment on the moderation thread (its author and curators)",
        description="Adds a comment and changes nothing else, so no `revision` is needed. The "
        "same people who read the thread may comment; another reviewer gets 404.",
    )
    @action(
        detail=True,
        methods=["get", "post"],
        filter_backends=[],
        pagination_class=ThreadPagination,
    )
    def notes(self, request, pk=None):
        correction = get_object_or_404(
            selectors.claim_corrections_visible_to(user=request.user), pk=pk
        )
        return self._thread(
            request,
            subject={"correction": correction},
            comment=moderation.claim_correction_comment,
        )


# --- API tokens -----------------------------------------------------------------------------


class TokenCreateSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    expires_in_days = serializers.IntegerField(
        min_value=1,
        max_value=settings.API_TOKEN_TTL_DAYS,
        required=False,
        help_text="Lifetime in days (default and maximum: the server's token lifetime).",
    )


TokenSerializer = inline_serializer(
    "Token",
    fields={
        "token": serializers.CharField(help_text="Shown once; only its hash is stored."),
        "expiry": serializers.DateTimeField(),
        "username": serializers.CharField(),
    },
)


class LockedOut(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"

    def __init__(self) -> None:
        hours = settings.AXES_COOLOFF_TIME
        self.wait = round(hours * 3600)
        super().__init__(
            "Too many failed sign-ins for this user from this address: signing in is locked "
            f"for {round(hours * 60)} minutes after the last failure (see `Retry-After`)."
        )


class LockoutBasicAuthentication(BasicAuthentication):
    """HTTP Basic sign-in that counts towards the web login's lock-out (django-axes, per
    username and client address): Django's ``authenticate`` reports each failure to axes, a
    locked-out pair is refused with 429, even with the right password, and a success clears
    the count."""

    def authenticate_credentials(self, userid, password, request=None):
        try:
            user, auth = super().authenticate_credentials(userid, password, request)
        except exceptions.AuthenticationFailed:
            # Axes refuses a locked-out pair inside ``authenticate`` without saying so to the
            # caller; ask it, so the client is told to wait rather than that the password is
            # wrong.
            if request is not None and AxesProxyHandler.is_locked(
                request, credentials={"username": userid}
            ):
                raise LockedOut() from None
            raise
        if request is not None:
            # A successful sign-in clears the failures, as the web login's does (axes listens
            # for ``user_logged_in``, which HTTP Basic never sends).
            AxesProxyHandler.user_logged_in(type(self), request=request, user=user)
        return user, auth


class LockoutBasicScheme(BasicScheme):
    """Documents ``LockoutBasicAuthentication`` as the HTTP Basic scheme it is."""

    target_class = LockoutBasicAuthentication


@extend_schema(tags=["auth"])
class TokenView(StrictQueryMixin, APIView):
    """Create an API token by signing in (HTTP Basic or a browser session). Failed HTTP Basic
    sign-ins count towards the same lock-out as the web login; a locked-out user and address
    get 429 (code `locked_out`) until the cool-off has passed."""

    authentication_classes = [
        LockoutBasicAuthentication,
        SessionAuthentication,
        TokenAuthentication,
    ]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=TokenCreateSerializer,
        responses={201: TokenSerializer},
        summary="Create an API token",
    )
    def post(self, request):
        serializer = TokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        days = serializer.validated_data.get("expires_in_days", settings.API_TOKEN_TTL_DAYS)
        instance, token = AuthToken.objects.create(request.user, expiry=dt.timedelta(days=days))
        return Response(
            {"token": token, "expiry": instance.expiry, "username": request.user.get_username()},
            status=status.HTTP_201_CREATED,
        )


@extend_schema(tags=["auth"])
class CurrentTokenView(StrictQueryMixin, APIView):
    """The token this request is authenticated with."""

    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses={204: OpenApiResponse(description="Revoked.")},
        summary="Revoke the token used for this request",
    )
    def delete(self, request):
        if not isinstance(request.auth, AuthToken):
            raise exceptions.NotAuthenticated("Send the token you want to revoke.")
        request.auth.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
