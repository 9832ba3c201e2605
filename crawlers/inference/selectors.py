"""Reads for the inference tester: which endpoint tests a claim, which claims are due."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet

from catalog.models import Claim, Verification
from crawlers.inference import probes
from crawlers.inference.models import Endpoint, ProbeJob


def endpoint_for_claim(*, claim: Claim) -> Endpoint | None:
    """The active endpoint that serves the claim's model, else one of its provider's."""
    active = Endpoint.objects.filter(active=True).order_by("name")
    if claim.model_id:
        served = active.filter(served_models=claim.model_id).first()
        if served is not None:
            return served
        return active.filter(provider_id=claim.model.provider_id).first()
    return active.filter(provider_id=claim.provider_id).first()


def claims_due_for_probe(*, older_than: datetime, limit: int) -> list[Claim]:
    """Current testable claims with no probe since ``older_than`` and none queued."""
    recent = Verification.objects.filter(
        claim=OuterRef("pk"),
        method=Verification.Method.INFERENCE_PROBE,
        checked_at__gte=older_than,
    )
    queued = ProbeJob.objects.filter(
        claim=OuterRef("pk"), status__in=[ProbeJob.Status.PENDING, ProbeJob.Status.RUNNING]
    )
    servable = (
        Q(provider__inference_endpoints__active=True)
        | Q(model__inference_endpoints__active=True)
        | Q(model__provider__inference_endpoints__active=True)
    )
    return list(
        Claim.objects.filter(key__key__in=list(probes.PROBES), status=Claim.Status.CURRENT)
        .filter(servable)
        .exclude(Exists(recent))
        .exclude(Exists(queued))
        .select_related("key", "model", "provider")
        .distinct()
        .order_by("id")[:limit]
    )


def probe_verifications(*, claim: Claim) -> QuerySet[Verification]:
    """The claim's probe and judge results, newest first (uses verification_claim_idx)."""
    return Verification.objects.filter(
        claim=claim,
        method__in=[Verification.Method.INFERENCE_PROBE, Verification.Method.MODEL_JUDGE],
    ).select_related("actor")
