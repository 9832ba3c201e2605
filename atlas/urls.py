from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from assessments.urls import account_urlpatterns

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("atlas.api_urls")),
    path("review/", include("assessments.urls")),
    path("accounts/", include((account_urlpatterns, "accounts"))),
    path("sources/", include("crawlers.urls")),
    path("inference/", include("inference.urls")),
    path("", include("catalog.urls")),
]
