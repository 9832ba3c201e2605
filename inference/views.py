"""The curator's view of a claim's probe evidence and the "test this claim now" button."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from catalog.models import Claim
from inference import probes, selectors, services
from inference.models import ProbeRun


def _claim(claim_id: int) -> Claim:
    return get_object_or_404(
        Claim.objects.select_related("key", "provider", "model", "source"), pk=claim_id
    )


@require_GET
@permission_required("inference.run_probe", raise_exception=True)
def claim_probes(request: HttpRequest, claim_id: int) -> HttpResponse:
    claim = _claim(claim_id)
    return render(
        request,
        "inference/claim_probes.html",
        {
            "claim": claim,
            "testable": claim.key.key in probes.PROBES,
            "verifications": selectors.probe_verifications(claim=claim)[:20],
        },
    )


@require_POST
@permission_required("inference.run_probe", raise_exception=True)
def claim_probe_now(request: HttpRequest, claim_id: int) -> HttpResponse:
    claim = _claim(claim_id)
    [outcome] = services.claims_probe(
        claims=[claim], trigger=ProbeRun.Trigger.CURATOR, actor=request.user
    )
    if outcome.verification is not None:
        messages.success(request, f"Probe finished: {outcome.verification.get_outcome_display()}.")
    else:
        messages.warning(request, f"No probe result stored: {outcome.message}")
    return redirect("inference:claim-probes", claim_id=claim.pk)
