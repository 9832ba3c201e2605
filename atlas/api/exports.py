"""Exports: the whole public catalogue as one JSON document and every claim as CSV, streamed,
each record shaped as on its own endpoint."""

from __future__ import annotations

import csv
import datetime as dt

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from assessments.apis.assessments import AssessmentSerializer, CriterionSerializer
from assessments.models import Criterion
from assessments.selectors import assessments_visible_to
from atlas.api.parsing import StrictQueryMixin
from catalog.apis import (
    AIModelSerializer,
    ClaimKeySerializer,
    ClaimSerializer,
    ClaimViewSet,
    LicenceSerializer,
    PriceSerializer,
    PriceViewSet,
    ProviderSerializer,
    SourceSerializer,
    models_queryset,
    providers_queryset,
)
from catalog.models import Claim, ClaimKey, Licence, Source

EXPORT_CHUNK = 2000


def _export_sections() -> list[tuple[str, QuerySet, type[serializers.Serializer]]]:
    published = assessments_visible_to(user=None).order_by("id")
    return [
        ("providers", providers_queryset().order_by("id"), ProviderSerializer),
        ("licences", Licence.objects.order_by("id"), LicenceSerializer),
        ("models", models_queryset().order_by("id"), AIModelSerializer),
        (
            "sources",
            Source.objects.listed().select_related("provider").order_by("id"),
            SourceSerializer,
        ),
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
