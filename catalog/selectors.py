"""Reads of the catalogue, shaped for pages and the API (no writes here)."""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet

from assessments.models import Assessment
from catalog.models import AIModel, Provider


def providers_for_listing() -> QuerySet[Provider]:
    """Providers with their published assessment (if any) and model count, in two queries."""
    published = Assessment.objects.filter(status=Assessment.Status.PUBLISHED)
    return Provider.objects.annotate(model_count=Count("models", distinct=True)).prefetch_related(
        Prefetch("assessments", queryset=published, to_attr="published_assessments")
    )


def models_for_listing() -> QuerySet[AIModel]:
    return AIModel.objects.select_related("provider", "licence").prefetch_related("modalities")
