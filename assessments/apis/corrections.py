"""API of claim corrections, moderated like assessments through the same services the web
pages use (``assessments.services.corrections``)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from assessments import filters, selectors
from assessments.apis.moderation import (
    ApproveSerializer,
    CommentDecisionSerializer,
    CommentSerializer,
    ModerationErrorsMixin,
    ModerationNoteSerializer,
    ModerationThreadMixin,
    ReasonDecisionSerializer,
    RevisionSerializer,
    ThreadPagination,
    decision_data,
)
from assessments.models import ClaimCorrection
from assessments.permissions import IsCurator, IsReviewer
from assessments.services.corrections import (
    claim_correction_amend,
    claim_correction_approve,
    claim_correction_create,
    claim_correction_reject,
    claim_correction_request_changes,
    claim_correction_submit,
)
from atlas.api.conditional import ConditionalGetMixin
from atlas.api.parsing import RejectUnknownFieldsMixin, StrictQueryMixin
from atlas.api.viewsets import ID_REGEX
from catalog.apis import SourceRefSerializer
from catalog.models import Claim, ClaimFlag, Source


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
        correction = claim_correction_create(author=request.user, **serializer.validated_data)
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
        correction = claim_correction_amend(
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
        data = decision_data(request, RevisionSerializer)
        correction = claim_correction_submit(
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
        data = decision_data(request, CommentDecisionSerializer)
        correction = claim_correction_request_changes(
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
        data = decision_data(request, ReasonDecisionSerializer)
        correction = claim_correction_reject(
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
        data = decision_data(request, ApproveSerializer)
        correction = claim_correction_approve(
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
        return self.thread(request, correction=correction)
