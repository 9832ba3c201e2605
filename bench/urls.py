"""The site's URLs plus the bare Django JSON view the API benchmark compares against."""

from __future__ import annotations

from django.http import JsonResponse
from django.urls import include, path

from catalog.models import AIModel


def bare_models(request):
    """The framework's floor: the first page of models as JSON, straight from ``values()``,
    with no DRF, serializers, filters, paging logic or conditional GET."""
    rows = list(
        AIModel.objects.order_by("slug").values(
            "slug", "name", "provider__slug", "weights", "licence__slug", "updated_at"
        )[:50]
    )
    return JsonResponse({"results": rows})


urlpatterns = [
    path("bench/bare-models", bare_models),
    path("", include("atlas.urls")),
]
