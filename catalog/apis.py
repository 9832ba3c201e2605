"""Read API of the catalogue: providers, models, licences, claims, sources, prices, claim keys.

Every list is cursor-paginated, filterable (``catalog.filters``), searchable and
orderable, and each response is served with ETag / Last-Modified. Querysets load
related rows with a fixed number of queries whatever the page size.
"""

from __future__ import annotations

from django.db.models import Count, Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets

from assessments.models import Assessment
from atlas.api import ConditionalGetMixin, StrictQueryMixin
from catalog import filters
from catalog.models import (
    AIModel,
    Claim,
    ClaimKey,
    Licence,
    Price,
    Provider,
    Source,
    Verification,
)

# --- serializers ----------------------------------------------------------------------------


class SourceSerializer(serializers.ModelSerializer):
    provider = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)

    class Meta:
        model = Source
        fields = [
            "id",
            "url",
            "title",
            "publisher",
            "provider",
            "doc_type",
            "language",
            "created_at",
            "updated_at",
        ]


class SourceRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Source
        fields = ["id", "url", "title", "publisher", "doc_type", "updated_at"]


class VerificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Verification
        fields = ["checked_at", "method", "outcome", "note", "match_score"]


class ClaimValueSerializer(serializers.Serializer):
    flag = serializers.CharField(source="value_flag", allow_blank=True)
    number = serializers.DecimalField(
        source="value_number", max_digits=20, decimal_places=4, allow_null=True
    )
    unit = serializers.CharField(source="value_unit", allow_blank=True)
    text = serializers.CharField(source="value_text", allow_blank=True)
    display = serializers.CharField(source="display_value")


class ClaimScopeSerializer(serializers.Serializer):
    plan = serializers.CharField(source="scope_plan", allow_blank=True)
    surface = serializers.CharField(source="scope_surface")
    region = serializers.CharField(source="scope_region", allow_blank=True)


class ClaimSerializer(serializers.ModelSerializer):
    provider = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    model = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    key = serializers.SlugRelatedField(slug_field="key", read_only=True)
    key_label = serializers.CharField(source="key.label", read_only=True)
    key_group = serializers.CharField(source="key.group", read_only=True)
    value = ClaimValueSerializer(source="*", read_only=True)
    scope = ClaimScopeSerializer(source="*", read_only=True)
    source = SourceRefSerializer(read_only=True)
    freshness = serializers.CharField(
        read_only=True, help_text="current, ageing or stale, from `checked_at`."
    )
    verifications = VerificationSerializer(many=True, read_only=True)

    class Meta:
        model = Claim
        fields = [
            "id",
            "provider",
            "model",
            "key",
            "key_label",
            "key_group",
            "value",
            "condition",
            "scope",
            "source",
            "evidence_quote",
            "checked_at",
            "freshness",
            "status",
            "note",
            "verifications",
            "created_at",
            "updated_at",
        ]


class ClaimKeySerializer(serializers.ModelSerializer):
    class Meta:
        model = ClaimKey
        fields = ["key", "label", "group", "value_type", "unit", "description", "updated_at"]


class LicenceSerializer(serializers.ModelSerializer):
    permissions = serializers.ListField(child=serializers.CharField(), read_only=True)
    conditions = serializers.ListField(child=serializers.CharField(), read_only=True)
    limitations = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Licence
        fields = [
            "slug",
            "spdx_id",
            "name",
            "kind",
            "url",
            "summary",
            "permissions",
            "conditions",
            "limitations",
            "commercial_use",
            "self_hosting",
            "fine_tuning",
            "weight_redistribution",
            "attribution_required",
            "output_restrictions",
            "user_threshold",
            "created_at",
            "updated_at",
        ]


class LicenceRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Licence
        fields = ["slug", "name", "kind", "url", "updated_at"]


class ProviderRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Provider
        fields = ["slug", "name", "kind", "updated_at"]


class PriceSerializer(serializers.ModelSerializer):
    model = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    source = SourceRefSerializer(read_only=True)

    class Meta:
        model = Price
        fields = [
            "id",
            "model",
            "input_per_mtok",
            "output_per_mtok",
            "currency",
            "tier",
            "as_of",
            "source",
            "created_at",
            "updated_at",
        ]


class AIModelSerializer(serializers.ModelSerializer):
    provider = ProviderRefSerializer(read_only=True)
    licence = LicenceRefSerializer(read_only=True, allow_null=True)
    modalities = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    api_ids = serializers.ListField(child=serializers.CharField(), read_only=True)
    successor = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)

    class Meta:
        model = AIModel
        fields = [
            "slug",
            "name",
            "provider",
            "family",
            "weights",
            "licence",
            "architecture",
            "total_params_b",
            "active_params_b",
            "context_window",
            "modalities",
            "api_ids",
            "release_date",
            "deprecation_date",
            "retirement_date",
            "successor",
            "created_at",
            "updated_at",
        ]


class AIModelDetailSerializer(AIModelSerializer):
    claims = ClaimSerializer(many=True, read_only=True)
    prices = PriceSerializer(many=True, read_only=True)

    class Meta(AIModelSerializer.Meta):
        fields = [*AIModelSerializer.Meta.fields, "description", "claims", "prices"]


class PublishedAssessmentRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Assessment
        fields = ["id", "verdict", "assessed_on", "published_at", "updated_at"]


class ProviderSerializer(serializers.ModelSerializer):
    model_count = serializers.IntegerField(read_only=True)
    published_assessment = serializers.SerializerMethodField()

    class Meta:
        model = Provider
        fields = [
            "slug",
            "name",
            "kind",
            "status",
            "headquarters_country",
            "headquarters_address",
            "founded_year",
            "website",
            "summary",
            "model_count",
            "published_assessment",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(PublishedAssessmentRefSerializer(allow_null=True))
    def get_published_assessment(self, provider: Provider) -> dict | None:
        published = provider.published_assessments
        return PublishedAssessmentRefSerializer(published[0]).data if published else None


class ModelRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = AIModel
        fields = ["slug", "name", "weights", "updated_at"]


class ProviderDetailSerializer(ProviderSerializer):
    models = ModelRefSerializer(many=True, read_only=True)
    claims = ClaimSerializer(many=True, read_only=True)

    class Meta(ProviderSerializer.Meta):
        fields = [*ProviderSerializer.Meta.fields, "analysis", "models", "claims"]


# --- querysets ------------------------------------------------------------------------------


def _claims() -> Prefetch:
    return Prefetch(
        "claims",
        queryset=Claim.objects.select_related("key", "source", "provider", "model")
        .prefetch_related("verifications")
        .order_by("key__group", "key__key", "id"),
    )


def providers_queryset(*, detail: bool = False):
    published = Assessment.objects.filter(status=Assessment.Status.PUBLISHED)
    queryset = Provider.objects.annotate(model_count=Count("models", distinct=True)).prefetch_related(
        Prefetch("assessments", queryset=published, to_attr="published_assessments")
    )
    if detail:
        queryset = queryset.prefetch_related(
            Prefetch("models", queryset=AIModel.objects.order_by("name")), _claims()
        )
    return queryset


def models_queryset(*, detail: bool = False):
    queryset = AIModel.objects.select_related("provider", "licence", "successor").prefetch_related(
        "modalities"
    )
    if detail:
        queryset = queryset.prefetch_related(
            _claims(),
            Prefetch("prices", queryset=Price.objects.select_related("model", "source")),
        )
    return queryset


# --- views ----------------------------------------------------------------------------------


class ReadOnlyViewSet(
    StrictQueryMixin,
    ConditionalGetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    lookup_value_regex = "[^/]+"
    detail_serializer_class: type[serializers.Serializer] | None = None

    def get_serializer_class(self):
        if self.action == "retrieve" and self.detail_serializer_class is not None:
            return self.detail_serializer_class
        return self.serializer_class


@extend_schema(tags=["catalogue"])
class ProviderViewSet(ReadOnlyViewSet):
    """AI providers: model developers, API platforms and hosting layers."""

    serializer_class = ProviderSerializer
    detail_serializer_class = ProviderDetailSerializer
    filterset_class = filters.ProviderFilter
    lookup_field = "slug"
    search_fields = ["name", "summary"]
    ordering_fields = ["name", "slug", "updated_at"]
    ordering = ("slug",)

    def get_queryset(self):
        return providers_queryset(detail=self.action == "retrieve")


@extend_schema(tags=["catalogue"])
class AIModelViewSet(ReadOnlyViewSet):
    """AI models with their provider, licence and modalities; detail adds claims and prices."""

    serializer_class = AIModelSerializer
    detail_serializer_class = AIModelDetailSerializer
    filterset_class = filters.AIModelFilter
    lookup_field = "slug"
    search_fields = ["name", "family", "description"]
    ordering_fields = ["name", "slug", "updated_at"]
    ordering = ("slug",)

    def get_queryset(self):
        return models_queryset(detail=self.action == "retrieve")


@extend_schema(tags=["catalogue"])
class LicenceViewSet(ReadOnlyViewSet):
    """Licences and what they allow (commercial use, self-hosting, fine-tuning, redistribution)."""

    serializer_class = LicenceSerializer
    filterset_class = filters.LicenceFilter
    lookup_field = "slug"
    search_fields = ["name", "spdx_id", "summary"]
    ordering_fields = ["name", "slug", "updated_at"]
    ordering = ("slug",)
    queryset = Licence.objects.all()


@extend_schema(tags=["catalogue"])
class ClaimViewSet(ReadOnlyViewSet):
    """Sourced, dated claims about providers and models, with their verification history."""

    serializer_class = ClaimSerializer
    filterset_class = filters.ClaimFilter
    search_fields = ["value_text", "condition", "evidence_quote"]
    ordering_fields = ["id", "checked_at", "updated_at"]
    ordering = ("id",)
    queryset = Claim.objects.select_related("key", "source", "provider", "model").prefetch_related(
        "verifications"
    )


@extend_schema(tags=["catalogue"])
class SourceViewSet(ReadOnlyViewSet):
    """The documents claims, prices and ratings are read from."""

    serializer_class = SourceSerializer
    filterset_class = filters.SourceFilter
    search_fields = ["title", "publisher", "url"]
    ordering_fields = ["id", "title", "updated_at"]
    ordering = ("id",)
    queryset = Source.objects.select_related("provider")


@extend_schema(tags=["catalogue"])
class PriceViewSet(ReadOnlyViewSet):
    """List prices per million tokens, dated and sourced."""

    serializer_class = PriceSerializer
    filterset_class = filters.PriceFilter
    ordering_fields = ["id", "as_of", "input_per_mtok", "updated_at"]
    ordering = ("id",)
    queryset = Price.objects.select_related("model", "source")


@extend_schema(tags=["catalogue"])
class ClaimKeyViewSet(ReadOnlyViewSet):
    """The vocabulary of claim keys (what a claim can be about)."""

    serializer_class = ClaimKeySerializer
    filterset_class = filters.ClaimKeyFilter
    lookup_field = "key"
    search_fields = ["key", "label"]
    ordering_fields = ["key", "updated_at"]
    ordering = ("key",)
    queryset = ClaimKey.objects.all()


def not_found(request, *args, **kwargs):
    from django.http import JsonResponse

    from atlas.api import error_body

    return JsonResponse(
        error_body(code="not_found", message=f"No API endpoint at {request.path}."), status=404
    )
