from __future__ import annotations

from django.urls import path

from inference import views

app_name = "inference"

urlpatterns = [
    path("claims/<int:claim_id>/", views.claim_probes, name="claim-probes"),
    path("claims/<int:claim_id>/probe/", views.claim_probe_now, name="claim-probe-now"),
]
