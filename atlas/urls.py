from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("atlas.api_urls")),
    path("", include("catalog.urls")),
]
