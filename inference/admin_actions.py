"""The curator's "test this claim now" admin action, on the claim and claims-to-test admins."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

# Probes run while the curator waits; a larger batch belongs in `manage.py probe`.
MAX_CLAIMS_PER_ACTION = 20


@admin.action(description="Test the selected claims now against their endpoint")
def test_claims_now(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    from inference import services
    from inference.models import ProbeRun

    if not request.user.has_perm("inference.run_probe"):
        modeladmin.message_user(
            request, "You do not have permission to test claims.", messages.ERROR
        )
        return
    claims = list(queryset.select_related("key", "model", "provider")[: MAX_CLAIMS_PER_ACTION + 1])
    if len(claims) > MAX_CLAIMS_PER_ACTION:
        modeladmin.message_user(
            request,
            f"Select at most {MAX_CLAIMS_PER_ACTION} claims to test at once; "
            "use the probe command for more.",
            messages.ERROR,
        )
        return
    outcomes = services.claims_probe(
        claims=claims, trigger=ProbeRun.Trigger.CURATOR, actor=request.user
    )
    for outcome in outcomes:
        level = messages.SUCCESS if outcome.verification is not None else messages.WARNING
        modeladmin.message_user(
            request,
            f"Claim {outcome.claim.pk} ({outcome.claim.key.key}): {outcome.label}. "
            f"{outcome.message}",
            level,
        )
