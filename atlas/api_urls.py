"""URLs of the versioned API (`/api/v1/...`), its OpenAPI schema and its documentation."""

from __future__ import annotations

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from assessments.apis import assessments as assessment_apis
from assessments.apis import corrections as correction_apis
from assessments.apis import tokens as token_apis
from atlas.api import changes, exports
from atlas.api.errors import not_found
from catalog import apis as catalog_apis
from catalog.requirements import api as requirements_api

router = SimpleRouter(trailing_slash=False)
router.register("providers", catalog_apis.ProviderViewSet, basename="provider")
router.register("models", catalog_apis.AIModelViewSet, basename="model")
router.register("licences", catalog_apis.LicenceViewSet, basename="licence")
router.register("claims", catalog_apis.ClaimViewSet, basename="claim")
router.register("claim-keys", catalog_apis.ClaimKeyViewSet, basename="claim-key")
router.register("sources", catalog_apis.SourceViewSet, basename="source")
router.register("prices", catalog_apis.PriceViewSet, basename="price")
router.register("criteria", assessment_apis.CriterionViewSet, basename="criterion")
router.register("assessments", assessment_apis.AssessmentViewSet, basename="assessment")
router.register(
    "claim-corrections", correction_apis.ClaimCorrectionViewSet, basename="claim-correction"
)

v1 = [
    path("auth/tokens", token_apis.TokenView.as_view(), name="token-create"),
    path("auth/tokens/current", token_apis.CurrentTokenView.as_view(), name="token-current"),
    path(
        "requirements/check",
        requirements_api.RequirementsCheckView.as_view(),
        name="requirements-check",
    ),
    path("changes", changes.ChangesView.as_view(), name="changes"),
    path("stats", catalog_apis.ClaimStatsView.as_view(), name="stats"),
    path("exports/catalogue.json", exports.CatalogueExportView.as_view(), name="export-json"),
    path("exports/claims.csv", exports.ClaimsExportView.as_view(), name="export-claims"),
    *router.urls,
]

app_name = "api"

urlpatterns = [
    path("v1/", include((v1, "v1"))),
    path("schema/", SpectacularAPIView.as_view(api_version="v1"), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path(
        "redoc/",
        SpectacularRedocView.as_view(url_name="api:schema", template_name="api/redoc.html"),
        name="redoc",
    ),
    # Anything else under /api/ is a JSON 404 in the API's error shape, not an HTML page.
    re_path(r"^.*$", not_found, name="not-found"),
]
