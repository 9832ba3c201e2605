from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("atlas.api_urls")),
    path("sources/", include("crawlers.urls")),
    path("inference/", include("crawlers.inference.urls")),
    path("", include("catalog.urls")),
]
