"""Exports: the whole public catalogue as one JSON document and every claim as CSV, streamed,
each record shaped as on its own endpoint.

Each carries a weak ETag (the bytes differ by ``generated_at``; the records do not) from the
change stamps of the tables it reads and the day, and a Last-Modified from the newest save
among them or the day's start, whichever is later (freshness is relative to today); a
matching ``If-None-Match`` or ``If-Modified-Since`` is a 304 before anything is streamed."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Max, Model, QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from assessments.apis.assessments import AssessmentSerializer, CriterionSerializer
from assessments.models import Assessment, Criterion, Rating
from assessments.selectors import assessments_visible_to
from atlas.api.conditional import not_modified, set_validators
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
from catalog.change_stamp import tables_stamp
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

EXPORT_CHUNK = 2000
# Every table either export reads (the claims CSV reads fewer; the catalogue's changes move
# its validators too, which costs a client one needless download, never a stale one).
EXPORT_MODELS: tuple[type[Model], ...] = (
    Provider,
    Licence,
    Modality,
    AIModel,
    AIModel.modalities.through,
    Source,
    ClaimKey,
    Claim,
    Verification,
    Price,
    Criterion,
    Assessment,
    Rating,
)
# When each of them was last saved: a verification moves a claim's check date without
# saving the claim.
SAVED_AT: dict[type[Model], str] = {
    model: "created_at" if model is Verification else "updated_at"
    for model in EXPORT_MODELS
    if model not in (Modality, AIModel.modalities.through)  # neither keeps a date
}


def export_validators(name: str) -> tuple[str, int]:
    """The weak ETag and the Last-Modified timestamp of export ``name`` as it would be built
    now. One query per model, and one for the change stamps (which also see deletions)."""
    today = timezone.localdate()
    start_of_day = timezone.make_aware(dt.datetime.combine(today, dt.time()))
    saved = [
        model.objects.aggregate(latest=Max(field))["latest"] for model, field in SAVED_AT.items()
    ]
    latest = max([start_of_day, *(moment for moment in saved if moment is not None)])
    stamp = tables_stamp(models=EXPORT_MODELS, fallback=())
    key = f"{name}:{stamp}:{latest.isoformat()}:{settings.ATLAS_FRESHNESS_DAYS}"
    etag = 'W/"' + hashlib.sha256(key.encode()).hexdigest()[:40] + '"'
    return etag, int(latest.timestamp())


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
        etag, last_modified = export_validators("catalogue")
        unchanged = not_modified(request, etag=etag, last_modified=last_modified)
        if unchanged is not None:
            return unchanged
        generated_at = timezone.now()
        response = StreamingHttpResponse(
            _stream_catalogue(generated_at), content_type="application/json"
        )
        set_validators(response, etag=etag, last_modified=last_modified)
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
        etag, last_modified = export_validators("claims")
        unchanged = not_modified(request, etag=etag, last_modified=last_modified)
        if unchanged is not None:
            return unchanged
        generated_at = timezone.now()
        response = StreamingHttpResponse(
            _stream_claims_csv(generated_at), content_type="text/csv; charset=utf-8"
        )
        set_validators(response, etag=etag, last_modified=last_modified)
        response["Content-Disposition"] = (
            f'attachment; filename="atlas-claims-{generated_at:%Y%m%dT%H%M%SZ}.csv"'
        )
        response["X-Generated-At"] = _stamp(generated_at)
        return response
