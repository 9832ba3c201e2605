"""Read API of the catalogue: providers, models, licences, claims, sources, prices, claim keys,
and the catalogue's claim statistics.

Every list is cursor-paginated, filterable (``catalog.filters``), searchable and
orderable, and each response is served with ETag / Last-Modified. Querysets load
related rows with a fixed number of queries whatever the page size.
"""

from __future__ import annotations

import dataclasses

from django.db.models import Count, Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from assessments.models import Assessment, Criterion, Rating
from atlas.api.parsing import StrictQueryMixin
from atlas.api.viewsets import ID_REGEX, ReadOnlyViewSet
from catalog import claim_state, filters
from catalog.models import (
    AIModel,
    Claim,
    ClaimKey,
    Licence,
    LicenceTerm,
    Modality,
    Price,
    Provider,
    Source,
    Verification,
)
from catalog.selectors.coverage import PROVIDER_EVIDENCE_MIN
from catalog.selectors.home import catalogue_figures


class OptionalURLField(serializers.URLField):
    """A URL that may be missing: null rather than an empty string that is not a URL."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, allow_null=True, **kwargs)

    def to_representation(self, value):
        return value or None


# --- serializers ----------------------------------------------------------------------------


class SourceSerializer(serializers.ModelSerializer):
    provider = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    url = OptionalURLField(help_text="Null for a document with no public address.")

    class Meta:
        model = Source
        fields = [
            "slug",
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
    url = OptionalURLField(help_text="Null for a document with no public address.")

    class Meta:
        model = Source
        fields = ["slug", "url", "title", "publisher", "doc_type", "updated_at"]


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
        read_only=True,
        help_text="current, ageing or stale, from `checked_at` alone: for a claim that is not "
        "`verifiable` it dates the record, not a confirmation.",
    )
    verifiable = serializers.SerializerMethodField(
        help_text="Whether the claim has an evidence quote a check can confirm or contradict. "
        "False: unverifiable until a quote is added, whatever its `checked_at`."
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
            "verifiable",
            "checked_at",
            "freshness",
            "status",
            "note",
            "verifications",
            "created_at",
            "updated_at",
        ]

    def get_verifiable(self, claim: Claim) -> bool:
        return claim_state.verifiable(claim.evidence_quote)


class ClaimKeySerializer(serializers.ModelSerializer):
    class Meta:
        model = ClaimKey
        fields = ["key", "label", "group", "value_type", "unit", "description", "updated_at"]


class LicenceTermSerializer(serializers.ModelSerializer):
    source = SourceRefSerializer(read_only=True)

    class Meta:
        model = LicenceTerm
        fields = ["key", "value", "number", "note", "quote", "source", "read_on"]


class LicenceSerializer(serializers.ModelSerializer):
    url = OptionalURLField(help_text="Where the licence text is; null when not recorded.")
    terms = LicenceTermSerializer(
        many=True, read_only=True, help_text="The AI-specific obligations, in the licence's words."
    )
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
            "terms",
            "created_at",
            "updated_at",
        ]


class LicenceRefSerializer(serializers.ModelSerializer):
    url = OptionalURLField(help_text="Where the licence text is; null when not recorded.")

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
    website = OptionalURLField()
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
    queryset = Provider.objects.annotate(
        model_count=Count("models", distinct=True)
    ).prefetch_related(Prefetch("assessments", queryset=published, to_attr="published_assessments"))
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


@extend_schema(tags=["catalogue"])
class ProviderViewSet(ReadOnlyViewSet):
    """AI providers: model developers, API platforms and hosting layers."""

    # A list reads assessments for the published one, and ratings, criteria, claims and claim
    # keys for its filters; a detail page reads the claims in full.
    page_cache_models = (Provider, AIModel, Assessment, Rating, Criterion, Claim, ClaimKey)
    detail_page_cache_models = (
        Provider,
        AIModel,
        Assessment,
        Claim,
        ClaimKey,
        Source,
        Verification,
    )

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

    # A list reads claims and claim keys for its filters only, so a verification (what
    # crawlers and probes write) leaves list pages cached; a detail page shows them.
    page_cache_models = (
        AIModel,
        Provider,
        Licence,
        Modality,
        AIModel.modalities.through,
        Claim,
        ClaimKey,
    )
    detail_page_cache_models = (*page_cache_models, Source, Verification, Price)

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

    page_cache_models = (Licence, LicenceTerm, Source)

    serializer_class = LicenceSerializer
    filterset_class = filters.LicenceFilter
    lookup_field = "slug"
    search_fields = ["name", "spdx_id", "summary"]
    ordering_fields = ["name", "slug", "updated_at"]
    ordering = ("slug",)
    queryset = Licence.objects.prefetch_related(
        Prefetch("terms", LicenceTerm.objects.select_related("source"))
    )


@extend_schema(tags=["catalogue"])
class ClaimViewSet(ReadOnlyViewSet):
    """Sourced, dated claims about providers and models, with their verification history."""

    page_cache_models = (Claim, ClaimKey, Source, Provider, AIModel, Verification)

    lookup_value_regex = ID_REGEX
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

    page_cache_models = (Source, Provider)

    serializer_class = SourceSerializer
    filterset_class = filters.SourceFilter
    lookup_field = "slug"
    search_fields = ["title", "publisher", "url"]
    ordering_fields = ["slug", "title", "updated_at"]
    ordering = ("slug",)
    queryset = Source.objects.listed().select_related("provider")


@extend_schema(tags=["catalogue"])
class PriceViewSet(ReadOnlyViewSet):
    """List prices per million tokens, dated and sourced."""

    page_cache_models = (Price, AIModel, Source, Provider)

    lookup_value_regex = ID_REGEX
    serializer_class = PriceSerializer
    filterset_class = filters.PriceFilter
    search_fields = ["model__name", "tier"]
    ordering_fields = ["id", "as_of", "input_per_mtok", "updated_at"]
    ordering = ("id",)
    queryset = Price.objects.select_related("model", "source")


@extend_schema(tags=["catalogue"])
class ClaimKeyViewSet(ReadOnlyViewSet):
    """The vocabulary of claim keys (what a claim can be about)."""

    page_cache_models = (ClaimKey,)

    serializer_class = ClaimKeySerializer
    filterset_class = filters.ClaimKeyFilter
    lookup_field = "key"
    search_fields = ["key", "label"]
    ordering_fields = ["key", "updated_at"]
    ordering = ("key",)
    queryset = ClaimKey.objects.all()


class CoverageSerializer(serializers.Serializer):
    providers = serializers.IntegerField()
    providers_evidenced = serializers.IntegerField(
        help_text="Providers with at least `evidence_min` of their own claims found in a "
        "stored text of their sources."
    )
    evidence_min = serializers.SerializerMethodField()
    models = serializers.IntegerField()
    claims = serializers.IntegerField(help_text="Claims in force (retired ones aside).")
    claims_unknown = serializers.IntegerField(
        help_text="Claims recorded as unknown: the texts read are silent, so no quote carries them."
    )
    claims_with_quote = serializers.IntegerField()
    claims_found_in_text = serializers.IntegerField(
        help_text="Claims whose latest source check found their quote in a dated text of "
        "their source that Atlas stores."
    )
    open_weight_models = serializers.IntegerField()
    open_weight_models_without_licence = serializers.IntegerField()
    published_assessments = serializers.IntegerField()

    def get_evidence_min(self, _coverage) -> int:
        return PROVIDER_EVIDENCE_MIN


class ClaimStatsSerializer(serializers.Serializer):
    verifiable = serializers.IntegerField(
        help_text="Claims with an evidence quote, which a check can confirm or contradict."
    )
    confirmed_within_window = serializers.IntegerField(
        help_text="Verifiable claims whose latest source check or manual verification confirmed "
        "them within the last `freshness_days` days."
    )
    changed_wording = serializers.IntegerField(
        help_text="Claims whose latest source check found the quote with its wording changed."
    )
    needs_review = serializers.IntegerField(help_text="Claims waiting for a curator's review.")
    unverifiable = serializers.IntegerField(
        help_text="Claims without an evidence quote: no check can confirm or contradict them."
    )
    freshness_days = serializers.IntegerField(
        source="window_days", help_text="The freshness window, in days."
    )
    catalogue = CoverageSerializer(
        help_text="What the catalogue holds and how much of it was found in stored texts."
    )


@extend_schema(tags=["catalogue"])
class ClaimStatsView(StrictQueryMixin, APIView):
    """How many claims (retired ones aside) are verifiable, confirmed within the freshness
    window, found with changed wording, waiting for review and unverifiable: the figures the
    home page shows, from the same cache."""

    permission_classes = [AllowAny]

    @extend_schema(responses={200: ClaimStatsSerializer}, summary="Claim statistics")
    def get(self, request):
        figures = catalogue_figures()
        figures = {**dataclasses.asdict(figures.claim_stats), "catalogue": figures.coverage}
        return Response(ClaimStatsSerializer(figures).data)
