from __future__ import annotations

from django.urls import path

from catalog import feeds, views

app_name = "catalog"

urlpatterns = [
    path("", views.home, name="home"),
    path("providers/<slug:slug>/", views.provider_detail, name="provider"),
    path(
        "providers/<slug:slug>/changes/feed/",
        feeds.ProviderChangesFeed(),
        name="provider_changes_feed",
    ),
    path("models/<slug:slug>/", views.model_detail, name="model"),
    path("claims/<int:pk>/", views.claim_detail, name="claim"),
    path("licences/", views.licence_list, name="licences"),
    path("licences/<slug:slug>/", views.licence_detail, name="licence"),
    path("compare/", views.compare, name="compare"),
    path("finder/", views.finder, name="finder"),
    path("changes/", views.changes, name="changes"),
    path("changes/feed/", feeds.ChangesFeed(), name="changes_feed"),
]
