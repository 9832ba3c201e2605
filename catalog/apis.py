"""Read API of the catalogue: providers, models, licences, claims, sources, prices, claim keys.

Every list is cursor-paginated, filterable (``catalog.filters``), searchable and
orderable, and each response is served with ETag / Last-Modified. Querysets load
related rows with a fixed number of queries whatever the page size.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce, Greatest
from django.http import JsonResponse, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import mixins, serializers, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from assessments.models import Assessment, Criterion
from atlas.api import (
    ConditionalGetMixin,
    PageCacheMixin,
    QueryValidationError,
    StrictQueryMixin,
    error_body,
)
from catalog import filters
from catalog.change_stamp import change_stamps, tables_read
from catalog.models import (
    AIModel,
    Claim,
    ClaimKey,
    Licence,
    Modality,
    Price,
    Provider,
    Source,
    Verification,
)


class OptionalURLField(serializers.URLField):
    """A URL that may be missing: null rather than an empty string that is not a URL."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, allow_null=True, **kwargs)

    def to_representation(self, value):
        return value or None


SLUG_REGEX = "[-a-zA-Z0-9_]+"
ID_REGEX = "[0-9]+"

# --- serializers ----------------------------------------------------------------------------


def _iso_datetime(value: dt.datetime | None, zone: dt.tzinfo) -> str | None:
    """A date-time as DRF writes it with ``DATETIME_FORMAT = "iso-8601"``."""
    if value is None:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _iso_date(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _prefetched(instance, relation: str) -> list:
    """A to-many relation's rows: the list a ``Prefetch(..., to_attr="prefetched_<relation>")``
    left (which skips building a queryset per row), else the relation's manager."""
    rows = getattr(instance, f"prefetched_{relation}", None)
    return rows if rows is not None else list(getattr(instance, relation).all())


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

    def to_representation(self, instance: Claim) -> dict:
        """The declared fields, written directly (claim lists and model and provider pages
        carry many claims). Byte for byte what the declared fields give (tests compare the
        two on varied records); keep both in step."""
        zone = timezone.get_current_timezone()
        source = instance.source
        number = instance.value_number
        return {
            "id": instance.pk,
            "provider": instance.provider.slug if instance.provider_id else None,
            "model": instance.model.slug if instance.model_id else None,
            "key": instance.key.key,
            "key_label": instance.key.label,
            "key_group": instance.key.group,
            "value": {
                "flag": instance.value_flag,
                "number": None if number is None else self._number(number),
                "unit": instance.value_unit,
                "text": instance.value_text,
                "display": instance.display_value,
            },
            "condition": instance.condition,
            "scope": {
                "plan": instance.scope_plan,
                "surface": instance.scope_surface,
                "region": instance.scope_region,
            },
            "source": {
                "slug": source.slug,
                "url": source.url or None,
                "title": source.title,
                "publisher": source.publisher,
                "doc_type": source.doc_type,
                "updated_at": _iso_datetime(source.updated_at, zone),
            },
            "evidence_quote": instance.evidence_quote,
            "checked_at": _iso_date(instance.checked_at),
            "freshness": instance.freshness,
            "status": instance.status,
            "note": instance.note,
            "verifications": [
                {
                    "checked_at": _iso_datetime(verification.checked_at, zone),
                    "method": verification.method,
                    "outcome": verification.outcome,
                    "note": verification.note,
                    "match_score": None
                    if verification.match_score is None
                    else float(verification.match_score),
                }
                for verification in _prefetched(instance, "verifications")
            ],
            "created_at": _iso_datetime(instance.created_at, zone),
            "updated_at": _iso_datetime(instance.updated_at, zone),
        }

    @property
    def _number(self):
        return self.fields["value"].fields["number"].to_representation


class ClaimKeySerializer(serializers.ModelSerializer):
    class Meta:
        model = ClaimKey
        fields = ["key", "label", "group", "value_type", "unit", "description", "updated_at"]


class LicenceSerializer(serializers.ModelSerializer):
    url = OptionalURLField(help_text="Where the licence text is; null when not recorded.")
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

    def to_representation(self, instance: AIModel) -> dict:
        """The declared fields, written directly: the models list's hot path, where DRF's
        per-field machinery cost more than the queries. Byte for byte what the declared
        fields give (tests compare the two on varied records); keep both in step."""
        zone = timezone.get_current_timezone()
        provider, licence = instance.provider, instance.licence
        decimal = self.fields["total_params_b"].to_representation
        return {
            "slug": instance.slug,
            "name": instance.name,
            "provider": {
                "slug": provider.slug,
                "name": provider.name,
                "kind": provider.kind,
                "updated_at": _iso_datetime(provider.updated_at, zone),
            },
            "family": instance.family,
            "weights": instance.weights,
            "licence": None
            if licence is None
            else {
                "slug": licence.slug,
                "name": licence.name,
                "kind": licence.kind,
                "url": licence.url or None,
                "updated_at": _iso_datetime(licence.updated_at, zone),
            },
            "architecture": instance.architecture,
            "total_params_b": None
            if instance.total_params_b is None
            else decimal(instance.total_params_b),
            "active_params_b": None
            if instance.active_params_b is None
            else decimal(instance.active_params_b),
            "context_window": instance.context_window,
            "modalities": [modality.slug for modality in _prefetched(instance, "modalities")],
            "api_ids": [None if item is None else str(item) for item in instance.api_ids],
            "release_date": _iso_date(instance.release_date),
            "deprecation_date": _iso_date(instance.deprecation_date),
            "retirement_date": _iso_date(instance.retirement_date),
            "successor": instance.successor.slug if instance.successor_id else None,
            "created_at": _iso_datetime(instance.created_at, zone),
            "updated_at": _iso_datetime(instance.updated_at, zone),
        }


class AIModelDetailSerializer(AIModelSerializer):
    claims = ClaimSerializer(many=True, read_only=True)
    prices = PriceSerializer(many=True, read_only=True)

    class Meta(AIModelSerializer.Meta):
        fields = [*AIModelSerializer.Meta.fields, "description", "claims", "prices"]

    def to_representation(self, instance: AIModel) -> dict:
        data = super().to_representation(instance)
        data["description"] = instance.description
        data["claims"] = self.fields["claims"].to_representation(instance.claims.all())
        data["prices"] = self.fields["prices"].to_representation(instance.prices.all())
        return data


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


def _verifications() -> Prefetch:
    # Into a list (see ``_prefetched``): cheaper than a prefetched manager per claim.
    return Prefetch(
        "verifications", queryset=Verification.objects.all(), to_attr="prefetched_verifications"
    )


def _claims() -> Prefetch:
    return Prefetch(
        "claims",
        queryset=Claim.objects.select_related("key", "source", "provider", "model")
        .prefetch_related(_verifications())
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
        # Into a list (see ``_prefetched``): cheaper than a prefetched manager per model.
        Prefetch("modalities", queryset=Modality.objects.all(), to_attr="prefetched_modalities")
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
    PageCacheMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    # Slugs, keys and ids only: anything else is the API's JSON 404 before a query runs.
    lookup_value_regex = SLUG_REGEX
    detail_serializer_class: type[serializers.Serializer] | None = None

    def page_cache_stamps(self) -> dict[str, str] | None:
        return change_stamps()

    def page_cache_tables(self, statements: list[str]) -> set[str] | None:
        return tables_read(statements)

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

    lookup_value_regex = ID_REGEX
    serializer_class = ClaimSerializer
    filterset_class = filters.ClaimFilter
    search_fields = ["value_text", "condition", "evidence_quote"]
    ordering_fields = ["id", "checked_at", "updated_at"]
    ordering = ("id",)
    queryset = Claim.objects.select_related("key", "source", "provider", "model").prefetch_related(
        _verifications()
    )


@extend_schema(tags=["catalogue"])
class SourceViewSet(ReadOnlyViewSet):
    """The documents claims, prices and ratings are read from."""

    serializer_class = SourceSerializer
    filterset_class = filters.SourceFilter
    lookup_field = "slug"
    search_fields = ["title", "publisher", "url"]
    ordering_fields = ["slug", "title", "updated_at"]
    ordering = ("slug",)
    queryset = Source.objects.select_related("provider")


@extend_schema(tags=["catalogue"])
class PriceViewSet(ReadOnlyViewSet):
    """List prices per million tokens, dated and sourced."""

    lookup_value_regex = ID_REGEX
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


# --- changes feed ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Tracked:
    resource: str
    model: type
    lookup: str
    route: str

    def retired_q(self) -> Q | None:
        today = timezone.localdate()
        return {
            "provider": Q(status=Provider.Status.DEFUNCT),
            "model": Q(retirement_date__lte=today),
            "claim": Q(status=Claim.Status.RETIRED),
            "assessment": Q(status=Assessment.Status.SUPERSEDED),
        }.get(self.resource)


TRACKED = (
    Tracked("provider", Provider, "slug", "providers"),
    Tracked("model", AIModel, "slug", "models"),
    Tracked("licence", Licence, "slug", "licences"),
    Tracked("source", Source, "slug", "sources"),
    Tracked("claim", Claim, "id", "claims"),
    Tracked("price", Price, "id", "prices"),
    Tracked("assessment", Assessment, "id", "assessments"),
)
CHANGES_MAX_LIMIT = 5000


class ChangeSerializer(serializers.Serializer):
    resource = serializers.ChoiceField(choices=[(t.resource, t.resource) for t in TRACKED])
    id = serializers.CharField(help_text="The lookup of the record: a slug, or an id.")
    change = serializers.ChoiceField(
        choices=[(c, c) for c in ("created", "updated", "retired", "deleted")]
    )
    changed_at = serializers.DateTimeField()
    url = serializers.CharField(help_text="Path of the record's detail endpoint.")


class ChangesSerializer(serializers.Serializer):
    since = serializers.DateTimeField()
    until = serializers.DateTimeField(help_text="Pass this as `since` on your next call.")
    truncated = serializers.BooleanField(help_text="More changes follow; see `next_since`.")
    next_since = serializers.DateTimeField(
        allow_null=True, help_text="When truncated: call again with this `since`."
    )
    changes = ChangeSerializer(many=True)


class ChangesQuerySerializer(serializers.Serializer):
    since = serializers.DateTimeField(help_text="ISO 8601 date-time; changes at or after it.")
    limit = serializers.IntegerField(min_value=1, max_value=CHANGES_MAX_LIMIT, default=1000)


def _history_rows(history: type, *, since: dt.datetime, limit: int, **lookups) -> list[dict]:
    """The first ``limit + 1`` records with history at or after ``since``, by their latest
    change: ``{"id", "changed_at", "created"}`` (``created`` counts creations since)."""
    return list(
        history.objects.filter(history_date__gte=since, **lookups)
        .values("id")
        .annotate(
            changed_at=Max("history_date"),
            created=Count("history_id", filter=Q(history_type="+")),
        )
        .order_by("changed_at", "id")[: limit + 1]
    )


def _claim_rows(*, since: dt.datetime, limit: int) -> list[dict]:
    """Like ``_history_rows`` for claims, where a verification written since counts as a
    change too: a crawler or probe adds a Verification row and leaves the claim's own row (and
    its history) untouched, yet the claim's representation changed. Exact: the first
    ``limit + 1`` by the latest of both, existing claims and deleted ones merged."""
    history = Claim.history.model
    changed = history.objects.filter(history_date__gte=since)
    verified = Verification.objects.filter(created_at__gte=since)
    last_changed = (
        changed.filter(id=OuterRef("pk"))
        .order_by()
        .values("id")
        .annotate(latest=Max("history_date"))
        .values("latest")
    )
    last_verified = (
        verified.filter(claim=OuterRef("pk"))
        .order_by()
        .values("claim")
        .annotate(latest=Max("created_at"))
        .values("latest")
    )
    # One set of ids (a UNION), not two IN tests joined by OR, which would scan every claim.
    ids = changed.order_by().values("id").union(verified.order_by().values("claim_id"))
    existing = list(
        Claim.objects.filter(pk__in=ids)
        .annotate(changed=Subquery(last_changed), verified=Subquery(last_verified))
        .annotate(
            changed_at=Greatest(Coalesce("changed", "verified"), Coalesce("verified", "changed")),
            created=Exists(changed.filter(id=OuterRef("pk"), history_type="+")),
        )
        .order_by("changed_at", "id")
        .values("id", "changed_at", "created")[: limit + 1]
    )
    # A deleted claim had no verifications (they protect it), so its history says it all.
    deleted = _history_rows(history, since=since, limit=limit, history_type="-")
    seen = {row["id"] for row in existing}
    deleted = [row for row in deleted if row["id"] not in seen]
    rows = sorted(existing + deleted, key=lambda row: (row["changed_at"], row["id"]))
    return rows[: limit + 1]


def changes_since(*, since: dt.datetime, limit: int) -> tuple[list[dict], bool]:
    """What changed at or after ``since``, oldest first, from the history tables (and, for
    claims, their verifications): one entry per record with its latest change. Returns
    (changes, truncated). Two or three queries per resource."""
    changes: list[dict] = []
    for tracked in TRACKED:
        history = tracked.model.history.model
        if tracked.model is Claim:
            rows = _claim_rows(since=since, limit=limit)
        else:
            rows = _history_rows(history, since=since, limit=limit)
        if not rows:
            continue
        current = tracked.model.objects.filter(pk__in=[row["id"] for row in rows])
        if tracked.resource == "assessment":
            # Drafts are private: the feed lists only what the public can read.
            current = current.filter(
                status__in=(Assessment.Status.PUBLISHED, Assessment.Status.SUPERSEDED)
            )
        retired = tracked.retired_q()
        fields = ["pk", tracked.lookup]
        if retired is not None:
            current = current.annotate(is_retired=ExpressionWrapper(retired, BooleanField()))
            fields.append("is_retired")
        state = {row["pk"]: row for row in current.values(*fields)}
        deleted = {
            row["id"]: row[tracked.lookup]
            for row in history.objects.filter(
                id__in=[r["id"] for r in rows if r["id"] not in state], history_type="-"
            ).values("id", tracked.lookup)
        }
        for row in rows:
            now_row = state.get(row["id"])
            if now_row is None:
                if row["id"] not in deleted:
                    continue  # a draft, or a record this feed does not show
                lookup, change = deleted[row["id"]], "deleted"
            else:
                lookup = now_row[tracked.lookup]
                if now_row.get("is_retired"):
                    change = "retired"
                elif row["created"]:
                    change = "created"
                else:
                    change = "updated"
            changes.append(
                {
                    "resource": tracked.resource,
                    "id": str(lookup),
                    "change": change,
                    "changed_at": row["changed_at"],
                    "url": f"/api/v1/{tracked.route}/{lookup}",
                }
            )
    changes.sort(key=lambda change: (change["changed_at"], change["resource"], change["id"]))
    truncated = len(changes) > limit
    return changes[:limit], truncated


@extend_schema(tags=["sync"])
class ChangesView(StrictQueryMixin, APIView):
    """What was created, updated, retired or deleted since a moment, so a mirror can catch up
    without downloading the catalogue again. Assessments appear once published."""

    permission_classes = [AllowAny]
    extra_query_params = ("since", "limit")

    @extend_schema(
        parameters=[ChangesQuerySerializer],
        responses={200: ChangesSerializer},
        summary="Changes since a moment",
    )
    def get(self, request):
        query = ChangesQuerySerializer(data=request.query_params)
        if not query.is_valid():
            raise QueryValidationError(query.errors)
        until = timezone.now()
        changes, truncated = changes_since(
            since=query.validated_data["since"], limit=query.validated_data["limit"]
        )
        body = {
            "since": query.validated_data["since"],
            "until": until,
            "truncated": truncated,
            "next_since": changes[-1]["changed_at"] if truncated else None,
            "changes": changes,
        }
        return Response(ChangesSerializer(body).data)


# --- exports --------------------------------------------------------------------------------

EXPORT_CHUNK = 2000


def _export_sections() -> list[tuple[str, QuerySet, type[serializers.Serializer]]]:
    from assessments.apis.assessments import AssessmentSerializer, CriterionSerializer
    from assessments.selectors import assessments_visible_to

    published = assessments_visible_to(user=None).order_by("id")
    return [
        ("providers", providers_queryset().order_by("id"), ProviderSerializer),
        ("licences", Licence.objects.order_by("id"), LicenceSerializer),
        ("models", models_queryset().order_by("id"), AIModelSerializer),
        ("sources", Source.objects.select_related("provider").order_by("id"), SourceSerializer),
        ("claim_keys", ClaimKey.objects.order_by("id"), ClaimKeySerializer),
        ("claims", ClaimViewSet.queryset.order_by("id"), ClaimSerializer),
        ("prices", PriceViewSet.queryset.order_by("id"), PriceSerializer),
        ("criteria", Criterion.objects.order_by("position", "id"), CriterionSerializer),
        ("assessments", published, AssessmentSerializer),
    ]


def _stamp(moment: dt.datetime) -> str:
    """The export's generated-at stamp, written the same way in bodies and headers."""
    return DjangoJSONEncoder().default(moment)


def _stream_catalogue(generated_at: dt.datetime):
    encoder = DjangoJSONEncoder()
    yield '{"api_version": "v1", "generated_at": ' + encoder.encode(_stamp(generated_at))
    for name, queryset, serializer_class in _export_sections():
        yield f', "{name}": ['
        first = True
        for instance in queryset.iterator(chunk_size=EXPORT_CHUNK):
            yield ("" if first else ", ") + encoder.encode(serializer_class(instance).data)
            first = False
        yield "]"
    yield "}\n"


CLAIM_COLUMNS = [
    "claim_id",
    "subject_type",
    "provider",
    "model",
    "key",
    "key_label",
    "value_flag",
    "value_number",
    "value_unit",
    "value_text",
    "condition",
    "scope_plan",
    "scope_surface",
    "scope_region",
    "status",
    "checked_at",
    "freshness",
    "evidence_quote",
    "source_slug",
    "source_url",
    "source_title",
    "source_publisher",
    "source_doc_type",
    "updated_at",
    "export_generated_at",
]


class _Echo:
    def write(self, value: str) -> str:
        return value


def _stream_claims_csv(generated_at: dt.datetime):
    writer = csv.writer(_Echo())
    yield writer.writerow(CLAIM_COLUMNS)
    stamp = _stamp(generated_at)
    rows = Claim.objects.select_related("key", "source", "provider", "model__provider").order_by(
        "id"
    )
    for claim in rows.iterator(chunk_size=EXPORT_CHUNK):
        yield writer.writerow(
            [
                claim.pk,
                "provider" if claim.provider_id else "model",
                claim.provider.slug if claim.provider_id else claim.model.provider.slug,
                claim.model.slug if claim.model_id else "",
                claim.key.key,
                claim.key.label,
                claim.value_flag,
                "" if claim.value_number is None else f"{claim.value_number.normalize():f}",
                claim.value_unit,
                claim.value_text,
                claim.condition,
                claim.scope_plan,
                claim.scope_surface,
                claim.scope_region,
                claim.status,
                claim.checked_at.isoformat(),
                claim.freshness,
                claim.evidence_quote,
                claim.source.slug,
                claim.source.url,
                claim.source.title,
                claim.source.publisher,
                claim.source.doc_type,
                claim.updated_at.isoformat(),
                stamp,
            ]
        )


class ForcedNegotiationMixin:
    """Exports answer whatever the Accept header says; errors are still JSON."""

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)


@extend_schema(tags=["exports"])
class CatalogueExportView(ForcedNegotiationMixin, StrictQueryMixin, APIView):
    """The whole public catalogue as one JSON document, streamed."""

    permission_classes = [AllowAny]

    @extend_schema(
        responses={
            (200, "application/json"): OpenApiResponse(
                response=OpenApiTypes.OBJECT,
                description="`generated_at`, then every provider, licence, model, source, claim "
                "key, claim, price, criterion and published assessment, each shaped as on its "
                "own endpoint.",
            )
        },
        summary="Export the catalogue as JSON",
    )
    def get(self, request):
        generated_at = timezone.now()
        response = StreamingHttpResponse(
            _stream_catalogue(generated_at), content_type="application/json"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="atlas-catalogue-{generated_at:%Y%m%dT%H%M%SZ}.json"'
        )
        response["X-Generated-At"] = _stamp(generated_at)
        return response


@extend_schema(tags=["exports"])
class ClaimsExportView(ForcedNegotiationMixin, StrictQueryMixin, APIView):
    """Every claim as CSV, one row per claim with its source, streamed."""

    permission_classes = [AllowAny]

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR,
                description=f"Columns: {', '.join(CLAIM_COLUMNS)}.",
            )
        },
        summary="Export the claims as CSV",
    )
    def get(self, request):
        generated_at = timezone.now()
        response = StreamingHttpResponse(
            _stream_claims_csv(generated_at), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="atlas-claims-{generated_at:%Y%m%dT%H%M%SZ}.csv"'
        )
        response["X-Generated-At"] = _stamp(generated_at)
        return response


def not_found(request, *args, **kwargs):
    return JsonResponse(
        error_body(code="not_found", message=f"No API endpoint at {request.path}."), status=404
    )
