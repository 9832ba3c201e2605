"""A model as judge of whether a source passage supports a claim: advisory evidence only.

Secondary to the crawlers' quote matching. The configured model is asked at
temperature 0, with a JSON-schema-constrained answer, whether the passage
supports, contradicts or does not address the claim, and which sentence it
relied on. Its *reading* counts as inconclusive when a supports/contradicts
answer relies on a sentence that is not in the passage verbatim (whitespace
aside), or that shares none of the claim's subject terms and does not hold the
claim's quote (``judge_reading``). Answers that follow the schema are cached by
(endpoint, its base URL, judge model, prompt version, claim statement, passage
hash); a failure or a non-answer is never cached.

The result is a ``Verification`` with method ``model_judge`` and outcome
``inconclusive`` (``error`` when the judge could not be asked): the judge's
reading is in its evidence, as an advisory reading. It never confirms or
contradicts the claim, and the claim, its status and its dates are never changed.

The passage is normally the crawlers' stored text of the claim's source
around its quote (``claim_judge_from_source``): a scheduled sweep
(``judge_schedule_due``) queues one job per claim whose source has a newer
text than its last judgement, and ``judge_job_execute`` runs each job once.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import jsonschema
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.models import Claim, Verification
from inference import selectors
from inference.client import BudgetExceeded, Exchange, LLMError, cap_text
from inference.models import Endpoint, JudgeJob, JudgeVerdict, ProbeRun

PROMPT_VERSION = 1
MAX_PASSAGE_CHARS = 6000

JUDGE_SCHEMA = {
    "type": "object",
    "properties": {
        "verdict": {"type": "string", "enum": ["supports", "contradicts", "not_addressed"]},
        "quote": {"type": "string"},
        "reason": {"type": "string"},
    },
    "required": ["verdict", "quote", "reason"],
    "additionalProperties": False,
}

SYSTEM_PROMPT = (
    "You check whether a passage from a source document supports a claim. Answer with a JSON "
    'object: "verdict" is "supports", "contradicts" or "not_addressed"; "quote" is the one '
    'sentence of the passage you relied on, copied exactly; "reason" is one short sentence.'
)

# Words of a claim key's label that say nothing about what the claim is about.
# fmt: off
GENERIC_WORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "for", "from", "in", "is", "it",
    "of", "on", "or", "the", "to", "with", "where", "what", "who", "use", "used", "using",
    "available", "allowed", "support", "supported", "supports", "data", "model", "models",
})
# fmt: on


def claim_statement(claim: Claim) -> str:
    """The claim in words, as the judge reads it (and as the cache key hashes it)."""
    statement = f"{claim.subject}: {claim.key.label} = {claim.display_value}"
    if claim.condition:
        statement += f" (when: {claim.condition})"
    if claim.scope_surface != Claim.Surface.ANY or claim.scope_plan or claim.scope_region:
        scope = ", ".join(
            part
            for part in (claim.get_scope_surface_display(), claim.scope_plan, claim.scope_region)
            if part
        )
        statement += f" [scope: {scope}]"
    return statement


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def quote_in_passage(quote: str, passage: str) -> bool:
    """True when ``quote`` occurs in ``passage`` word for word (runs of whitespace aside)."""
    quote = _normalise(quote)
    return bool(quote) and quote in _normalise(passage)


def _stem(word: str) -> str:
    """A crude English stem, enough to match "training" with "trains" or "trained"."""
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        word = word[:-1]
    if word.endswith("ing") and len(word) > 5:
        return word[:-3]
    if word.endswith("ed") and len(word) > 4:
        return word[:-2]
    return word


def _terms(text: str) -> set[str]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {_stem(word) for word in words if word not in GENERIC_WORDS}


def subject_terms(claim: Claim) -> set[str]:
    """What the claim is about, as stemmed words of its key (label and name)."""
    return _terms(f"{claim.key.label} {claim.key.key}")


def quote_is_about_claim(quote: str, claim: Claim) -> bool:
    """True when the judge's sentence shares one of the claim's subject terms, or holds the
    claim's own quote (or is part of it)."""
    own = _normalise(claim.evidence_quote).lower()
    sentence = _normalise(quote).lower()
    if own and sentence and (own in sentence or sentence in own):
        return True
    return bool(subject_terms(claim) & _terms(quote))


def judge_reading(*, claim: Claim, passage: str, answer: JudgeVerdict) -> tuple[str, str]:
    """The judge's advisory reading of ``answer`` and, when it counts as inconclusive, why.

    A supports/contradicts answer stands only if the sentence it relied on is in the passage
    and is about the claim: a true sentence about something else is no evidence.
    """
    verdict = answer.verdict
    if verdict not in (JudgeVerdict.Verdict.SUPPORTS, JudgeVerdict.Verdict.CONTRADICTS):
        return verdict, ""
    if not quote_in_passage(answer.quote, passage):
        return JudgeVerdict.Verdict.INCONCLUSIVE, "not in the passage"
    if not quote_is_about_claim(answer.quote, claim):
        return JudgeVerdict.Verdict.INCONCLUSIVE, "not about the claim"
    return verdict, ""


def _ask(client: Any, model: str, statement: str, passage: str) -> tuple[Exchange, Any]:
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": f"Claim: {statement}\n\nPassage:\n{passage}"},
    ]
    body = {"model": model, "temperature": 0, "max_tokens": 200, "messages": messages}
    try:
        exchange = client.chat(
            {
                **body,
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "judgement", "schema": JUDGE_SCHEMA, "strict": True},
                },
            }
        )
    except LLMError as error:
        if isinstance(error, BudgetExceeded) or not error.mentions(
            "response_format", "json_schema"
        ):
            raise
        # Servers without json_schema (llama.cpp's among them) take a schema on json_object.
        exchange = client.chat(
            {**body, "response_format": {"type": "json_object", "schema": JUDGE_SCHEMA}}
        )
    choices = (exchange.data or {}).get("choices") or [{}]
    content = (choices[0].get("message") or {}).get("content")
    try:
        return exchange, json.loads(content or "")
    except json.JSONDecodeError:
        return exchange, None


def claim_judge(
    *,
    claim: Claim,
    passage: str,
    endpoint: Endpoint,
    model: str = "",
    actor: Any = None,
    trigger: str = "",
    origin: dict[str, Any] | None = None,
) -> Verification:
    """Ask the judge about ``claim`` and ``passage``; store and return advisory evidence.

    ``origin`` says where the passage comes from (stored in the evidence as
    ``passage_from``); ``trigger`` is the ProbeRun trigger, by default the
    curator's when there is an actor, else the command's. Raises
    ``InferenceError`` (from services) when the passage is empty or the run's
    budget stops the call.
    """
    from inference import services

    passage = passage.strip()
    if not passage:
        raise services.InferenceError("The judge needs the source passage; it is empty.")
    passage = passage[:MAX_PASSAGE_CHARS]
    model = model or endpoint.default_model or services.model_id_for(claim=claim, endpoint=endpoint)
    statement = claim_statement(claim)
    key = {
        "endpoint": endpoint,
        "endpoint_url": endpoint.base_url,
        "judge_model": model,
        "prompt_version": PROMPT_VERSION,
        "claim_sha256": _sha256(statement),
        "passage_sha256": _sha256(passage),
    }
    evidence: dict[str, Any] = {
        "advisory": True,
        "judge_model": model,
        "prompt_version": PROMPT_VERSION,
        "claim_statement": statement,
        "passage_sha256": key["passage_sha256"],
        "passage_excerpt": cap_text(passage, 1500),
        "passage_from": origin,
        "endpoint": {"name": endpoint.name, "kind": endpoint.kind, "base_url": endpoint.base_url},
    }
    cached = JudgeVerdict.objects.filter(**key).first()
    evidence["cached"] = cached is not None
    if cached is None:
        run = services.probe_run_start(
            endpoint=endpoint,
            trigger=trigger or (ProbeRun.Trigger.CURATOR if actor else ProbeRun.Trigger.COMMAND),
            actor=actor,
        )
        budget = services.RunBudget(run=run, price_per_token=None)
        client = services.client_for_endpoint(endpoint=endpoint, budget=budget)
        try:
            exchange, answer = _ask(client, model, statement, passage)
        except BudgetExceeded as exc:
            raise services.InferenceError(
                services.probe_run_stop_for_budget(run=run, reason=exc.message)
            ) from None
        except LLMError as error:
            services.probe_run_finish(run=run)
            evidence["error"] = error.message
            evidence["exchanges"] = [error.exchange.as_evidence()] if error.exchange else []
            return _store(
                claim=claim,
                outcome=Verification.Outcome.ERROR,
                note=f"Advisory: the judge {model} could not be asked: {error.message}",
                evidence=evidence,
                actor=actor,
            )
        finally:
            client.close()
        services.probe_run_finish(run=run)
        evidence["exchanges"] = [exchange.as_evidence()]
        try:
            jsonschema.validate(answer, JUDGE_SCHEMA)
        except jsonschema.ValidationError as exc:
            # A non-answer: recorded, never cached, so the next judgement asks again.
            reason = f"The judge's answer does not follow the schema: {exc.message}"
            evidence.update(reading=JudgeVerdict.Verdict.INCONCLUSIVE, reason=reason)
            return _store(
                claim=claim,
                outcome=Verification.Outcome.INCONCLUSIVE,
                note=f"Advisory: the answer of {model} could not be used. {reason}",
                evidence=evidence,
                actor=actor,
            )
        cached = _remember(key=key, answer=answer)
    else:
        evidence["exchanges"] = []
    reading, downgrade = judge_reading(claim=claim, passage=passage, answer=cached)
    evidence.update(
        reading=reading,
        answered=cached.verdict,
        quote=cached.quote,
        reason=cached.reason,
        downgraded=bool(downgrade),
        downgrade=downgrade,
    )
    if downgrade == "not in the passage":
        note = (
            f"Advisory: {model} answered but the sentence it relied on is not in the passage, "
            "so its answer counts as inconclusive."
        )
    elif downgrade:
        note = (
            f"Advisory: {model} answered but the sentence it relied on is not about the claim "
            f"(it shares none of its terms: {', '.join(sorted(subject_terms(claim)))}), "
            "so its answer counts as inconclusive."
        )
    else:
        label = JudgeVerdict.Verdict(reading).label.lower()
        note = (
            f"Advisory reading of {model}: the passage {label} the claim. "
            "A model's reading neither confirms nor contradicts the claim."
        )
    # Always inconclusive: the reading is advice for a curator, never a check of the claim.
    return _store(
        claim=claim,
        outcome=Verification.Outcome.INCONCLUSIVE,
        note=note,
        evidence=evidence,
        actor=actor,
    )


def _remember(*, key: dict[str, Any], answer: dict[str, Any]) -> JudgeVerdict:
    """Cache an answer that follows the schema; a concurrent worker's equal answer stands."""
    values = {
        "verdict": answer["verdict"],
        "quote": answer["quote"],
        "reason": answer["reason"],
        "raw": answer,
    }
    try:
        with transaction.atomic():
            return JudgeVerdict.objects.create(**key, **values)
    except IntegrityError:
        # Another worker cached the same question first; its answer stands.
        return JudgeVerdict.objects.get(**key)


def reading_label(verification: Verification) -> str:
    """A judgement in a few words for a report: "advisory reading: supports", or "error"."""
    reading = (verification.evidence or {}).get("reading")
    if verification.outcome == Verification.Outcome.ERROR or not reading:
        return verification.outcome
    return f"advisory reading: {reading}"


def _store(
    *, claim: Claim, outcome: str, note: str, evidence: dict[str, Any], actor: Any
) -> Verification:
    verification = Verification(
        claim=claim,
        checked_at=timezone.now(),
        method=Verification.Method.MODEL_JUDGE,
        outcome=outcome,
        note=note[:2000],
        evidence=evidence,
        actor=actor if getattr(actor, "pk", None) else None,
    )
    verification.full_clean()
    verification.save()
    return verification


def claim_judge_from_source(
    *,
    claim: Claim,
    endpoint: Endpoint,
    model: str = "",
    actor: Any = None,
    trigger: str = "",
) -> Verification:
    """Judge ``claim`` on the passage of its source's stored text where its quote is (or was
    last) found; store and return the advisory Verification.

    Raises ``InferenceError`` when the claim has no quote or no stored text of
    its source holds it, and whatever ``claim_judge`` raises.
    """
    from inference.services import InferenceError

    if not claim.evidence_quote.strip():
        raise InferenceError(
            f"Claim {claim.pk} has no evidence quote, so there is no passage to judge."
        )
    passage = selectors.claim_passage(claim=claim)
    if passage is None:
        raise InferenceError(
            f"No stored text of source {claim.source_id} holds the quote of claim {claim.pk} "
            f"(searched the last {selectors.MAX_VERSIONS_SEARCHED} texts); check the source first."
        )
    return claim_judge(
        claim=claim,
        passage=passage.text,
        endpoint=endpoint,
        model=model,
        actor=actor,
        trigger=trigger,
        origin=passage.as_evidence(),
    )


def judge_schedule_due(*, limit: int, queue: bool = True) -> list[JudgeJob]:
    """Create one judge job per claim due for judgement, at most ``limit``, and with
    ``queue`` one task per job once the jobs are committed.

    Nothing is created when no judge endpoint is configured and usable. A claim
    queued by a concurrent sweep is skipped: the unique (claim, version) pair
    lets exactly one sweep create its job. Returns the jobs this call created;
    without ``queue`` the caller runs them (``judge_job_execute``).
    """
    from inference import tasks

    if selectors.judge_endpoint() is None:
        return []
    jobs: list[JudgeJob] = []
    with transaction.atomic():
        for claim in selectors.claims_due_for_judgement(limit=limit):
            try:
                with transaction.atomic():
                    jobs.append(
                        JudgeJob.objects.create(claim=claim, version_id=claim.newest_version_id)
                    )
            except IntegrityError:
                continue
        for job in jobs if queue else []:
            transaction.on_commit(lambda pk=job.pk: tasks.judge_job.delay(pk))
    return jobs


def judge_job_execute(*, job_id: int) -> JudgeJob | None:
    """Run one judge job at most once: claimed by a conditional UPDATE, else a no-op (None).

    A job left ``running`` longer than the task's hard time limit (its worker
    died) may be claimed again. The job ends ``done`` with its Verification, or
    ``skipped`` with the reason (no endpoint, no passage, budget).
    """
    from inference.services import InferenceError, job_claim

    if not job_claim(job_model=JudgeJob, job_id=job_id):
        return None
    job = JudgeJob.objects.select_related("claim__key", "claim__provider", "claim__model").get(
        pk=job_id
    )
    endpoint = selectors.judge_endpoint()
    if endpoint is None:
        job.status = JudgeJob.Status.SKIPPED
        job.message = (
            f"No usable judge endpoint: {settings.INFERENCE_JUDGE_ENDPOINT!r} "
            "is missing, switched off or cannot run here."
        )
    else:
        try:
            verification = claim_judge_from_source(
                claim=job.claim, endpoint=endpoint, trigger=ProbeRun.Trigger.SCHEDULE
            )
        except InferenceError as exc:
            job.status, job.message = JudgeJob.Status.SKIPPED, str(exc)[:2000]
        else:
            job.status, job.verification = JudgeJob.Status.DONE, verification
            job.message = verification.note[:2000]
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "message", "verification", "finished_at"])
    return job
