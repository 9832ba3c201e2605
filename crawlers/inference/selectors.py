"""Reads for the inference tester: which endpoint tests or judges a claim, which claims are due,
and the stored passage of a claim's source that the judge reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery

from catalog.models import Claim, Verification
from crawlers.inference import passages, probes
from crawlers.inference.models import Endpoint, EndpointKind, JudgeJob, ProbeJob
from crawlers.models import CrawlSettings, Version

# How far back the judge looks for the last text that held a claim's quote; each
# version searched is one read of its text.
MAX_VERSIONS_SEARCHED = 20


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


def judge_endpoint() -> Endpoint | None:
    """The endpoint named by ``INFERENCE_JUDGE_ENDPOINT`` if it is active and can run here.

    The embedded model counts only when llama-cpp-python and a model file are
    installed, so a deployment without them is simply not judging.
    """
    name = settings.INFERENCE_JUDGE_ENDPOINT
    if not name:
        return None
    endpoint = Endpoint.objects.filter(name=name, active=True).first()
    if endpoint is not None and endpoint.kind == EndpointKind.EMBEDDED_LOCAL:
        from crawlers.inference import local

        if not local.llama_available():
            return None
        try:
            local.model_path()
        except local.LocalModelUnavailable:
            return None
    return endpoint


@dataclass(frozen=True)
class ClaimPassage:
    """The passage of a stored source text around a claim's quote, and which text it is."""

    text: str
    version: Version
    current: bool
    score: float

    def as_evidence(self) -> dict[str, Any]:
        return {
            "source": self.version.source_id,
            "version": self.version.pk,
            "version_number": self.version.number,
            "version_created_at": self.version.created_at.isoformat(),
            "current": self.current,
            "match_score": self.score,
        }


def claim_passage(*, claim: Claim) -> ClaimPassage | None:
    """The passage around the claim's quote in its source's current text, else in the newest
    earlier text that held it (up to ``MAX_VERSIONS_SEARCHED`` texts back).

    None when the claim has no quote or no stored text holds it. Reads the
    version texts one at a time, newest first, and stops at the first match.
    """
    quote = claim.evidence_quote.strip()
    if not quote:
        return None
    current_id = (
        CrawlSettings.objects.filter(source_id=claim.source_id)
        .values_list("current_version_id", flat=True)
        .first()
    )
    # Uses version_unique_number (source, number): the source's texts, newest first.
    newest_first = list(
        Version.objects.filter(source_id=claim.source_id)
        .order_by("-number")
        .values_list("pk", flat=True)[:MAX_VERSIONS_SEARCHED]
    )
    if current_id in newest_first:
        newest_first.remove(current_id)
        newest_first.insert(0, current_id)
    elif newest_first and current_id is None:
        current_id = newest_first[0]
    for pk in newest_first:
        version = Version.objects.defer("raw_body").filter(pk=pk).first()
        if version is None:
            continue
        located = passages.passage_around(text=version.text, quote=quote)
        if located is not None:
            return ClaimPassage(
                text=located.passage,
                version=version,
                current=pk == current_id,
                score=located.score,
            )
    return None


def claims_due_for_judgement(*, limit: int) -> list[Claim]:
    """Claims with a quote whose source has a text newer than their last judgement, oldest first.

    Retired claims are left out, and so is a claim already queued (or judged
    by the schedule) for its source's newest text. Each claim carries
    ``newest_version_id``, the text that made it due.
    """
    # Uses version_unique_number (source, number).
    newest = Version.objects.filter(source_id=OuterRef("source_id")).order_by("-number")
    # Uses verification_claim_idx (claim, -checked_at).
    last_judged = (
        Verification.objects.filter(claim=OuterRef("pk"), method=Verification.Method.MODEL_JUDGE)
        .order_by("-checked_at")
        .values("checked_at")[:1]
    )
    # Uses judgejob_once_per_version (claim, version).
    queued = JudgeJob.objects.filter(claim=OuterRef("pk"), version=OuterRef("newest_version_id"))
    return list(
        Claim.objects.exclude(status=Claim.Status.RETIRED)
        .exclude(evidence_quote="")
        .annotate(
            newest_version_id=Subquery(newest.values("pk")[:1]),
            newest_version_at=Subquery(newest.values("created_at")[:1]),
            last_judged_at=Subquery(last_judged),
        )
        .filter(newest_version_id__isnull=False)
        .filter(Q(last_judged_at__isnull=True) | Q(last_judged_at__lt=F("newest_version_at")))
        .exclude(Exists(queued))
        .order_by("id")[:limit]
    )
