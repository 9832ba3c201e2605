"""API of GDPR criteria, assessments, claim corrections and API tokens.

Reads of assessments go through ``assessments_visible_to`` (published ones for
everyone, plus a reviewer's own, plus everything for a curator), so another
reviewer's draft is a 404 in every method. Writes go through
``assessments.services``; its ``AssessmentError`` becomes the API error shape.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from knox.auth import TokenAuthentication
from knox.models import AuthToken
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.authentication import BasicAuthentication, SessionAuthentication
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from assessments import filters, selectors, services
from assessments.models import (
    Assessment,
    AssessmentSource,
    AssessmentVerdict,
    ClaimCorrection,
    Criterion,
    Rating,
    RatingEvidence,
    RatingValue,
)
from assessments.permissions import IsCurator, IsReviewer, ReadOnlyOrReviewer
from atlas.api import ConditionalGetMixin, Conflict, RejectUnknownFieldsMixin, StrictQueryMixin
from catalog.apis import ID_REGEX, ProviderRefSerializer, ReadOnlyViewSet, SourceRefSerializer
from catalog.models import Claim, ClaimFlag, Provider, Source


def raise_api_error(error: services.AssessmentError) -> None:
    if error.code == "forbidden":
        raise exceptions.PermissionDenied(error.message)
    if error.code == "conflict":
        raise Conflict(error.message)
    raise exceptions.ValidationError({error.path or "non_field_errors": [error.message]})


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
    ratings = RatingWriteSerializer(many=True, required=False, max_length=100)

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
    StrictQueryMixin,
    ConditionalGetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """GDPR assessments with their ratings and evidence. Everyone reads published ones;
    reviewers write their own drafts; curators approve."""

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
        summary="Create a draft assessment (reviewers and curators)",
    )
    def create(self, request):
        serializer = AssessmentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            assessment = services.assessment_create(
                author=request.user, **serializer.to_service_kwargs()
            )
        except services.AssessmentError as error:
            raise_api_error(error)
        return self._read(assessment, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        request=AssessmentUpdateSerializer,
        responses={200: AssessmentSerializer},
        summary="Update your own draft (send the `revision` you read)",
    )
    def partial_update(self, request, pk=None):
        assessment = self.get_object()
        serializer = AssessmentUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        kwargs = serializer.to_service_kwargs()
        try:
            assessment = services.assessment_update(
                assessment=assessment, editor=request.user, **kwargs
            )
        except services.AssessmentError as error:
            raise_api_error(error)
        return self._read(assessment)

    @extend_schema(
        request=None,
        responses={200: AssessmentSerializer},
        summary="Approve and publish (curators); the previous published one is superseded",
    )
    @action(detail=True, methods=["post"], permission_classes=[IsCurator])
    def approve(self, request, pk=None):
        assessment = self.get_object()
        try:
            assessment = services.assessment_approve(assessment=assessment, curator=request.user)
        except services.AssessmentError as error:
            raise_api_error(error)
        return self._read(assessment)


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


@extend_schema(tags=["assessments"])
class ClaimCorrectionViewSet(
    StrictQueryMixin,
    ConditionalGetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Proposed corrections to claims. Reviewers see and propose their own; curators see all
    and approve, which applies the correction to the claim."""

    serializer_class = ClaimCorrectionSerializer
    filterset_class = filters.ClaimCorrectionFilter
    permission_classes = [IsReviewer]
    http_method_names = ["get", "post", "head", "options"]
    ordering_fields = ["id", "updated_at"]
    ordering = ("id",)
    lookup_value_regex = ID_REGEX

    def get_queryset(self):
        return selectors.claim_corrections_visible_to(user=self.request.user)

    @extend_schema(
        request=ClaimCorrectionCreateSerializer,
        responses={201: ClaimCorrectionSerializer},
        summary="Propose a correction to a claim",
    )
    def create(self, request):
        serializer = ClaimCorrectionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            correction = services.claim_correction_create(
                author=request.user, **serializer.validated_data
            )
        except services.AssessmentError as error:
            raise_api_error(error)
        return Response(ClaimCorrectionSerializer(correction).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={200: ClaimCorrectionSerializer},
        summary="Approve a correction and apply it to the claim (curators)",
    )
    @action(detail=True, methods=["post"], permission_classes=[IsCurator])
    def approve(self, request, pk=None):
        correction = self.get_object()
        try:
            correction = services.claim_correction_approve(
                correction=correction, curator=request.user
            )
        except services.AssessmentError as error:
            raise_api_error(error)
        return Response(ClaimCorrectionSerializer(correction).data)


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


@extend_schema(tags=["auth"])
class TokenView(StrictQueryMixin, APIView):
    """Create an API token by signing in (HTTP Basic or a browser session)."""

    authentication_classes = [BasicAuthentication, SessionAuthentication, TokenAuthentication]
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
