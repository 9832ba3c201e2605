"""Reads for the inference tester: which endpoint tests or judges a claim, which claims are due,
and the stored passage of a claim's source that the judge reads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery

from catalog.models import Claim, Verification
from crawlers.models import CrawlSettings, Version
from inference import passages, probes
from inference.models import Endpoint, EndpointKind, JudgeJob, ProbeJob

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
        from inference import local

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


# -- the claim page's block -------------------------------------------------------

PROBES_SHOWN = 5
EXCERPT_CHARS = 300


@dataclass(frozen=True)
class ProbeRow:
    """One probe result as the claim page shows it."""

    verification: Verification
    endpoint: str
    endpoint_kind: str
    model: str
    http_status: int | None
    latency_ms: float | None
    tokens: int | None
    cost: str
    excerpt: str


@dataclass(frozen=True)
class JudgeRow:
    """The latest judgement as the claim page shows it: the judge's advisory reading, never
    the claim's status (its Verification is inconclusive whatever the reading)."""

    verification: Verification
    judge_model: str
    summary: str
    quote: str
    reason: str
    downgraded: bool
    passage_from: dict[str, Any] | None


@dataclass(frozen=True)
class ClaimTests:
    testable: bool
    can_test: bool
    probes: list[ProbeRow]
    judge: JudgeRow | None

    @property
    def shown(self) -> bool:
        return self.testable or bool(self.probes) or self.judge is not None


def _probe_row(verification: Verification) -> ProbeRow:
    evidence = verification.evidence or {}
    endpoint = evidence.get("endpoint") or {}
    exchanges = evidence.get("exchanges") or []
    cost = evidence.get("cost_estimate") or {}
    return ProbeRow(
        verification=verification,
        endpoint=endpoint.get("name", ""),
        endpoint_kind=EndpointKind(endpoint["kind"]).label
        if endpoint.get("kind") in EndpointKind.values
        else "",
        model=evidence.get("model", ""),
        http_status=evidence.get("http_status"),
        latency_ms=evidence.get("latency_ms"),
        tokens=(evidence.get("usage") or {}).get("total_tokens"),
        cost=f"{cost['amount']} {cost['currency']}" if cost.get("amount") else "",
        excerpt=_answer_excerpt(exchanges[-1] if exchanges else {}),
    )


def _answer_excerpt(exchange: dict[str, Any]) -> str:
    """What the model answered, when the stored excerpt is a whole chat response; else the
    excerpt as stored (an error body, a model list, a stream's events)."""
    raw = str(exchange.get("response_excerpt") or "")
    try:
        data = json.loads(raw)
        message = data["choices"][0]["message"]
    except (ValueError, KeyError, IndexError, TypeError):
        return raw[:EXCERPT_CHARS]
    if not isinstance(message, dict):
        return raw[:EXCERPT_CHARS]
    answer = message.get("content") or message.get("tool_calls") or ""
    if not isinstance(answer, str):
        answer = json.dumps(answer, ensure_ascii=False)
    return answer[:EXCERPT_CHARS]


def _judge_row(verification: Verification) -> JudgeRow:
    from inference.models import JudgeVerdict

    evidence = verification.evidence or {}
    # The judge's advisory reading; "verdict" in evidence written before readings were kept.
    verdict = evidence.get("reading", evidence.get("verdict", ""))
    downgraded = bool(evidence.get("downgraded"))
    if verification.outcome == Verification.Outcome.ERROR:
        summary = "could not be asked"
    elif evidence.get("downgrade") == "not about the claim":
        summary = (
            "answered, but the sentence it relied on is not about the claim, "
            "so its answer counts as inconclusive"
        )
    elif downgraded:
        summary = (
            "answered, but the sentence it relied on is not in the passage, "
            "so its answer counts as inconclusive"
        )
    elif verdict in (JudgeVerdict.Verdict.SUPPORTS, JudgeVerdict.Verdict.CONTRADICTS):
        summary = f"judged that the passage {verdict} the claim"
    elif verdict == JudgeVerdict.Verdict.NOT_ADDRESSED:
        summary = "judged that the passage does not address the claim"
    else:
        summary = "gave an answer that could not be used (inconclusive)"
    return JudgeRow(
        verification=verification,
        judge_model=evidence.get("judge_model", ""),
        summary=summary,
        quote=evidence.get("quote", ""),
        reason=evidence.get("reason", ""),
        downgraded=downgraded,
        passage_from=evidence.get("passage_from"),
    )


def claim_tests(*, claim: Claim, user: Any) -> ClaimTests:
    """The latest probe results and the latest judgement of ``claim``, for its page.

    Reads ``claim.verifications.all()``, so a page that prefetched them (newest
    first) runs no query for this block; ``can_test`` asks the user's
    permissions, which Django caches on the user.
    """
    probe_rows: list[ProbeRow] = []
    judge_row: JudgeRow | None = None
    for verification in claim.verifications.all():
        if verification.method == Verification.Method.INFERENCE_PROBE:
            if len(probe_rows) < PROBES_SHOWN:
                probe_rows.append(_probe_row(verification))
        elif verification.method == Verification.Method.MODEL_JUDGE and judge_row is None:
            judge_row = _judge_row(verification)
    return ClaimTests(
        testable=claim.key.key in probes.PROBES,
        can_test=bool(user and user.is_authenticated and user.has_perm("inference.run_probe")),
        probes=probe_rows,
        judge=judge_row,
    )
