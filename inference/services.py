"""Writes of the inference tester: runs, budgets, probe results as Verifications.

``claims_probe`` is the entry point for the command and the curator's
button; ``probe_job_execute`` for the Celery task; ``probe_schedule_due`` for
the scheduled sweep. Every result the tester stores is a
``catalog.Verification`` with method ``inference_probe``; the claim itself is
never changed here.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Least
from django.utils import timezone

from catalog.models import Claim, Price, Verification
from inference import probes, selectors
from inference.client import BudgetExceeded, LLMClient
from inference.models import Endpoint, EndpointKind, JudgeJob, ProbeJob, ProbeRun

logger = logging.getLogger(__name__)

EMBEDDED_BASE_URL = "http://embedded.local/v1"
MILLION = Decimal(1_000_000)


class InferenceError(Exception):
    """A probe request that cannot be carried out; the message says what to fix."""


# -- keys ---------------------------------------------------------------------


def _secrets_file_values(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.partition("=")
        values[name.strip()] = value.strip().strip("'\"")
    return values


def endpoint_api_key(*, endpoint: Endpoint) -> str | None:
    """The endpoint's key from the environment, else the secrets file; None if it needs none."""
    name = endpoint.api_key_env
    if not name:
        return None
    value = os.environ.get(name, "").strip()
    if value:
        return value
    secrets_file = settings.INFERENCE_SECRETS_FILE
    if secrets_file:
        path = Path(secrets_file)
        if path.is_file():
            value = _secrets_file_values(path).get(name, "")
            if value:
                return value
    raise InferenceError(
        f"Endpoint {endpoint.name!r} needs an API key in the environment variable {name}"
        + (" or in the secrets file" if secrets_file else "")
        + ", and it is not set."
    )


# -- budgets ------------------------------------------------------------------


class RunBudget:
    """A run's budget kept in its ProbeRun row; reservations are conditional UPDATEs.

    Spend is reserved at the dearer of the input and output prices, so a run
    stops before it could pass its spend limit, not after.
    """

    def __init__(self, *, run: ProbeRun, price_per_token: Decimal | None) -> None:
        self.run_id = run.pk
        self.price_per_token = price_per_token or Decimal(0)

    def reserve(self, *, requests: int, tokens: int) -> None:
        spend = self.price_per_token * tokens
        rows = ProbeRun.objects.filter(
            pk=self.run_id,
            status=ProbeRun.Status.RUNNING,
            requests_used__lte=F("max_requests") - requests,
            tokens_used__lte=F("max_tokens") - tokens,
        ).filter(Q(max_spend__isnull=True) | Q(spend_used__lte=F("max_spend") - spend))
        if rows.update(
            requests_used=F("requests_used") + requests,
            tokens_used=F("tokens_used") + tokens,
            spend_used=F("spend_used") + spend,
        ):
            return
        run = ProbeRun.objects.get(pk=self.run_id)
        if run.status != ProbeRun.Status.RUNNING:
            raise BudgetExceeded(f"run {run.pk} is already {run.get_status_display().lower()}")
        if run.requests_used + requests > run.max_requests:
            raise BudgetExceeded(
                f"the request budget of {run.max_requests} is used up "
                f"({run.requests_used} sent in this run)"
            )
        if run.tokens_used + tokens > run.max_tokens:
            raise BudgetExceeded(
                f"the next request may take up to {tokens} tokens and only "
                f"{run.max_tokens - run.tokens_used} of the run's {run.max_tokens} are left"
            )
        raise BudgetExceeded(
            f"the next request may cost up to {spend:.6f} and only "
            f"{(run.max_spend or 0) - run.spend_used:.6f} of the run's spend limit "
            f"{run.max_spend} is left"
        )

    def settle(self, *, reserved_tokens: int, used_tokens: int | None) -> None:
        if used_tokens is None:
            return
        delta = used_tokens - reserved_tokens
        ProbeRun.objects.filter(pk=self.run_id).update(
            # Capped at the limit: a server that used more than reserved leaves the
            # budget exhausted, and the next reservation stops the run.
            tokens_used=Least(F("tokens_used") + delta, F("max_tokens")),
            spend_used=F("spend_used") + self.price_per_token * delta,
        )


# -- runs ---------------------------------------------------------------------


def probe_run_start(*, endpoint: Endpoint, trigger: str, actor: Any = None) -> ProbeRun:
    if not endpoint.active:
        raise InferenceError(f"Endpoint {endpoint.name!r} is switched off.")
    return ProbeRun.objects.create(
        endpoint=endpoint,
        trigger=trigger,
        max_requests=endpoint.max_requests,
        max_tokens=endpoint.max_tokens,
        max_spend=endpoint.max_spend,
        actor=actor if getattr(actor, "pk", None) else None,
    )


def probe_run_finish(*, run: ProbeRun, message: str = "") -> None:
    ProbeRun.objects.filter(pk=run.pk, status=ProbeRun.Status.RUNNING).update(
        status=ProbeRun.Status.FINISHED, finished_at=timezone.now(), message=message
    )


def probe_run_stop_for_budget(*, run: ProbeRun, reason: str) -> str:
    message = f"Run stopped: {reason}. Raise the endpoint's budget or probe fewer claims."
    ProbeRun.objects.filter(pk=run.pk).update(
        status=ProbeRun.Status.STOPPED_BUDGET, finished_at=timezone.now(), message=message
    )
    return message


# -- clients ------------------------------------------------------------------


def _price(*, endpoint: Endpoint, claim: Claim) -> tuple[Decimal | None, Decimal | None, str]:
    if endpoint.price_input_per_mtok is not None:
        return (
            endpoint.price_input_per_mtok,
            endpoint.price_output_per_mtok or endpoint.price_input_per_mtok,
            endpoint.price_currency,
        )
    if endpoint.kind == EndpointKind.EMBEDDED_LOCAL:
        return Decimal(0), Decimal(0), endpoint.price_currency
    if claim.model_id:
        price = Price.objects.filter(model_id=claim.model_id).order_by("-as_of").first()
        if price is not None:
            return (
                price.input_per_mtok,
                price.output_per_mtok or price.input_per_mtok,
                price.currency,
            )
    return None, None, endpoint.price_currency


def client_for_endpoint(
    *,
    endpoint: Endpoint,
    budget: Any = None,
    timeout: float | None = None,
    deadline: float | None = None,
) -> LLMClient:
    """A client for the endpoint; the embedded model is reached through an in-process transport.

    Every call through it ends within ``deadline`` seconds of now (by default
    ``INFERENCE_PROBE_DEADLINE``), retries and waits included.
    """
    transport = None
    base_url = endpoint.base_url
    if endpoint.kind == EndpointKind.EMBEDDED_LOCAL:
        from inference import local

        try:
            transport = local.transport()
        except local.LocalModelUnavailable as exc:
            raise InferenceError(f"Endpoint {endpoint.name!r}: {exc}") from None
        base_url = EMBEDDED_BASE_URL
    return LLMClient(
        base_url=base_url,
        api_key=endpoint_api_key(endpoint=endpoint),
        timeout=float(timeout or endpoint.timeout_seconds),
        max_retries=settings.INFERENCE_MAX_RETRIES,
        backoff=settings.INFERENCE_RETRY_BACKOFF,
        budget=budget,
        transport=transport,
        deadline=float(deadline or settings.INFERENCE_PROBE_DEADLINE),
    )


def model_id_for(*, claim: Claim, endpoint: Endpoint) -> str:
    """The model id to ask this endpoint when testing the claim."""
    if claim.model_id:
        model = claim.model
        if endpoint.served_models.filter(pk=model.pk).exists() or (
            endpoint.provider_id and endpoint.provider_id == model.provider_id
        ):
            return model.api_ids[0] if model.api_ids else model.slug
        raise InferenceError(
            f"Endpoint {endpoint.name!r} does not serve the model {model.slug!r}; "
            "add it to the endpoint's models or pick another endpoint."
        )
    if endpoint.default_model:
        return endpoint.default_model
    first = endpoint.served_models.order_by("name").first()
    if first is not None:
        return first.api_ids[0] if first.api_ids else first.slug
    return ""


# -- probing ------------------------------------------------------------------


@dataclass
class ProbeOutcome:
    claim: Claim
    result: probes.ProbeResult | None
    verification: Verification | None = None
    message: str = ""
    stopped: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        if self.verification is not None:
            return self.verification.outcome
        if self.result is not None:
            return self.result.finding
        return "stopped" if self.stopped else "error"


def _evidence(
    *,
    result: probes.ProbeResult,
    claim: Claim,
    endpoint: Endpoint,
    model_id: str,
    run: ProbeRun,
    client: LLMClient,
) -> dict[str, Any]:
    usage = result.usage()
    price_in, price_out, currency = _price(endpoint=endpoint, claim=claim)
    cost = None
    if price_in is not None and price_out is not None:
        amount = (
            price_in * usage["prompt_tokens"] + price_out * usage["completion_tokens"]
        ) / MILLION
        cost = {"amount": f"{amount:.8f}", "currency": currency}
    exchanges = [e.as_evidence() for e in result.exchanges]
    last = exchanges[-1] if exchanges else {}
    evidence = {
        "probe": result.key,
        "probe_version": probes.PROBE_VERSION,
        "finding": result.finding,
        "findings": result.findings,
        # A probe sees one deployment of the model: what this endpoint serves.
        "scope": "deployment",
        "endpoint": {"name": endpoint.name, "kind": endpoint.kind, "base_url": endpoint.base_url},
        "deadline_seconds": client.deadline,
        "model": model_id,
        "claimed": {
            "flag": claim.value_flag,
            "number": None if claim.value_number is None else str(claim.value_number),
        },
        "http_status": last.get("status"),
        "latency_ms": round(sum(e.get("latency_ms") or 0 for e in exchanges), 1),
        "usage": usage,
        "cost_estimate": cost,
        "measured": result.measured,
        "declared": result.declared,
        "disagreement": result.disagreement,
        "exchanges": exchanges,
        "run": run.pk,
    }
    # Belt and braces: the client already stripped the key from every exchange.
    return _json_safe(client.scrub(evidence))


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def claim_probe(
    *, claim: Claim, endpoint: Endpoint, run: ProbeRun, actor: Any = None
) -> ProbeOutcome:
    """Probe one claim within ``run``; store the result as a Verification unless untestable.

    Raises ``InferenceError`` when the run's budget stops it (the run is then
    marked stopped, with the reason).
    """
    key = claim.key.key
    if key not in probes.PROBES:
        result = probes.not_testable(key)
        return ProbeOutcome(claim=claim, result=result, message=result.note)
    model_id = model_id_for(claim=claim, endpoint=endpoint)
    price_in, price_out, _ = _price(endpoint=endpoint, claim=claim)
    per_token = max(price_in or 0, price_out or 0) / MILLION
    budget = RunBudget(run=run, price_per_token=per_token)
    # The deadline starts here: the probe's calls, retries and waits all count.
    client = client_for_endpoint(endpoint=endpoint, budget=budget)
    context = probes.ProbeContext(
        client=client,
        model=model_id,
        claim_flag=claim.value_flag,
        claim_number=claim.value_number,
        allow_costly=endpoint.allow_costly_probes,
    )
    try:
        result = probes.run_probe(key, context)
    except BudgetExceeded as exc:
        message = probe_run_stop_for_budget(run=run, reason=exc.message)
        raise InferenceError(message) from None
    finally:
        client.close()
    if not result.stored:
        return ProbeOutcome(claim=claim, result=result, message=result.note)
    outcome = probes.verdict(result, claim_flag=claim.value_flag, claim_number=claim.value_number)
    evidence = _evidence(
        result=result, claim=claim, endpoint=endpoint, model_id=model_id, run=run, client=client
    )
    note = f"{endpoint.name} / {model_id or 'no model'}: {result.note}"
    if key == "context_window":
        note = (
            f"Deployment {endpoint.name} ({model_id or 'no model'}), not the model everywhere: "
            f"{result.note} Another deployment of the model may serve another window."
        )
    verification = Verification(
        claim=claim,
        checked_at=timezone.now(),
        method=Verification.Method.INFERENCE_PROBE,
        outcome=outcome,
        note=client.scrub(note)[:2000],
        evidence=evidence,
        actor=actor if getattr(actor, "pk", None) else None,
    )
    verification.full_clean()
    verification.save()
    logger.info("probed claim %s (%s) on %s: %s", claim.pk, key, endpoint.name, outcome)
    return ProbeOutcome(claim=claim, result=result, verification=verification, message=result.note)


def claims_probe(
    *,
    claims: list[Claim],
    endpoint: Endpoint | None = None,
    trigger: str = ProbeRun.Trigger.COMMAND,
    actor: Any = None,
) -> list[ProbeOutcome]:
    """Probe each claim now, one run per endpoint; a run stops at its budget.

    Claims with no endpoint serving them, or whose key no probe tests, come
    back with a message and no Verification.
    """
    outcomes: list[ProbeOutcome] = []
    runs: dict[int, ProbeRun] = {}
    try:
        for claim in claims:
            if claim.key.key not in probes.PROBES:
                result = probes.not_testable(claim.key.key)
                outcomes.append(ProbeOutcome(claim=claim, result=result, message=result.note))
                continue
            chosen = endpoint or selectors.endpoint_for_claim(claim=claim)
            if chosen is None:
                outcomes.append(
                    ProbeOutcome(
                        claim=claim,
                        result=None,
                        message="no active endpoint serves this claim's provider or model",
                    )
                )
                continue
            run = runs.get(chosen.pk)
            if run is None:
                run = runs[chosen.pk] = probe_run_start(
                    endpoint=chosen, trigger=trigger, actor=actor
                )
            if run.status != ProbeRun.Status.RUNNING:
                outcomes.append(
                    ProbeOutcome(claim=claim, result=None, message=run.message, stopped=True)
                )
                continue
            try:
                outcomes.append(claim_probe(claim=claim, endpoint=chosen, run=run, actor=actor))
            except InferenceError as exc:
                run.refresh_from_db()
                outcomes.append(
                    ProbeOutcome(
                        claim=claim,
                        result=None,
                        message=str(exc),
                        stopped=run.status == ProbeRun.Status.STOPPED_BUDGET,
                    )
                )
    finally:
        for run in runs.values():
            probe_run_finish(run=run)
    return outcomes


# -- tasks --------------------------------------------------------------------


def job_claim(*, job_model: type[ProbeJob] | type[JudgeJob], job_id: int) -> bool:
    """Claim a queued probe or judge job for this worker; True when this call claimed it.

    One conditional UPDATE, so of two deliveries of the same task exactly one runs the job.
    A job left ``running`` longer than the task's hard time limit (its worker died) may be
    claimed again.
    """
    stale = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    Status = job_model.Status
    return bool(
        job_model.objects.filter(
            Q(status=Status.PENDING) | Q(status=Status.RUNNING, claimed_at__lt=stale),
            pk=job_id,
        ).update(status=Status.RUNNING, claimed_at=timezone.now())
    )


def probe_job_execute(*, job_id: int) -> ProbeJob | None:
    """Run one queued job at most once: claimed by a conditional UPDATE, else a no-op.

    A job left ``running`` longer than the task's hard time limit (its worker
    died) may be claimed again.
    """
    if not job_claim(job_model=ProbeJob, job_id=job_id):
        return None
    job = ProbeJob.objects.select_related("run__endpoint", "claim__key", "claim__model").get(
        pk=job_id
    )
    run = job.run
    if run.status != ProbeRun.Status.RUNNING:
        job.status, job.message = ProbeJob.Status.SKIPPED, run.message or "the run has ended"
    else:
        try:
            outcome = claim_probe(claim=job.claim, endpoint=run.endpoint, run=run, actor=run.actor)
        except InferenceError as exc:
            job.status, job.message = ProbeJob.Status.SKIPPED, str(exc)
        else:
            job.status = ProbeJob.Status.DONE
            job.verification = outcome.verification
            job.finding = outcome.result.finding if outcome.result else ""
            job.message = outcome.message[:2000]
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "message", "verification", "finding", "finished_at"])
    if not run.jobs.filter(status__in=[ProbeJob.Status.PENDING, ProbeJob.Status.RUNNING]).exists():
        probe_run_finish(run=run)
    return job


def probe_schedule_due(*, limit: int = 100) -> list[ProbeJob]:
    """Queue a run per endpoint for claims whose probe is due; returns the jobs queued."""
    from inference import tasks

    due = selectors.claims_due_for_probe(
        older_than=timezone.now() - timedelta(days=settings.INFERENCE_PROBE_INTERVAL_DAYS),
        limit=limit,
    )
    jobs: list[ProbeJob] = []
    with transaction.atomic():
        runs: dict[int, ProbeRun] = {}
        for claim in due:
            endpoint = selectors.endpoint_for_claim(claim=claim)
            if endpoint is None:
                continue
            if claim.key.key == "context_window" and not endpoint.allow_costly_probes:
                continue
            if endpoint.pk not in runs:
                runs[endpoint.pk] = probe_run_start(
                    endpoint=endpoint, trigger=ProbeRun.Trigger.SCHEDULE
                )
            jobs.append(ProbeJob.objects.create(run=runs[endpoint.pk], claim=claim))
        for job in jobs:
            transaction.on_commit(lambda pk=job.pk: tasks.probe_job.delay(pk))
    return jobs
