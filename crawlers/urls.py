from __future__ import annotations

from django.urls import path

from crawlers import views

app_name = "crawlers"

urlpatterns = [
    path("", views.source_list, name="sources"),
    path("triage/", views.triage, name="triage"),
    path("unverifiable/", views.unverifiable, name="unverifiable"),
    path("<int:source_id>/", views.source_detail, name="source"),
    path("<int:source_id>/check/", views.source_check_now, name="check-now"),
    path("<int:source_id>/versions/<int:number>/", views.version_detail, name="version"),
    path("<int:source_id>/compare/", views.version_compare, name="compare"),
]
