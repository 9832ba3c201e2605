"""API of GDPR criteria and assessments.

Reads go through ``assessments_visible_to`` (published ones for everyone, plus a reviewer's
own, plus everything for a curator), so another reviewer's draft is a 404 in every method.
Writes go through the services the web pages use (``assessments.services.assessments``): the
same submit step and completeness check, the same revision check, the same history records.
"""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import IsAuthenticated
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
from assessments.models import (
    Assessment,
    AssessmentSource,
    AssessmentVerdict,
    Criterion,
    Rating,
    RatingEvidence,
    RatingValue,
)
from assessments.permissions import IsCurator, ReadOnlyOrReviewer
from assessments.services.assessments import (
    EvidenceInput,
    RatingInput,
    assessment_approve,
    assessment_draft_save,
    assessment_reject,
    assessment_request_changes,
    assessment_revert,
    assessment_start,
    assessment_submit,
)
from atlas.api.conditional import ConditionalGetMixin
from atlas.api.parsing import RejectUnknownFieldsMixin, StrictQueryMixin
from atlas.api.viewsets import ID_REGEX, ReadOnlyViewSet
from catalog.apis import ProviderRefSerializer, SourceRefSerializer
from catalog.models import Provider, Source

# --- criteria -------------------------------------------------------------------------------


class CriterionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Criterion
        fields = ["slug", "name", "description", "position", "active", "updated_at"]


@extend_schema(tags=["assessments"])
class CriterionViewSet(ReadOnlyViewSet):
    """The GDPR criteria every assessment rates."""

    serializer_class = CriterionSerializer
    filterset_class = filters.CriterionFilter
    lookup_field = "slug"
    search_fields = ["name", "description"]
    ordering_fields = ["position", "slug", "updated_at"]
    ordering = ("position",)
    queryset = Criterion.objects.all()
    page_cache_models = (Criterion,)


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
                RatingInput(
                    criterion=rating["criterion"],
                    value=rating["value"],
                    justification=rating["justification"],
                    evidence=[EvidenceInput(**item) for item in rating["evidence"]],
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
            draft = assessment_start(author=request.user, provider=provider)
            draft = assessment_draft_save(
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
        assessment = assessment_draft_save(
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
        data = decision_data(request, RevisionSerializer)
        assessment = assessment_submit(
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
        data = decision_data(request, CommentDecisionSerializer)
        assessment = assessment_request_changes(
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
        data = decision_data(request, ReasonDecisionSerializer)
        assessment = assessment_reject(
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
        data = decision_data(request, ApproveSerializer)
        publication = assessment_approve(
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
        data = decision_data(request, ReasonDecisionSerializer)
        assessment_revert(
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
        return self.thread(request, assessment=assessment)
