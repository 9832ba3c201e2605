from __future__ import annotations

import json
import logging
from decimal import Decimal

import pytest

from catalog.models import ClaimKey, Verification
from inference import services
from inference.models import ProbeJob, ProbeRun

SENTINEL = "sk-SENTINEL-4f1d2c9e-never-show-me"


@pytest.fixture
def acme_endpoint(acme_server, make_endpoint, monkeypatch):
    monkeypatch.setenv("ACME_API_KEY", SENTINEL)
    acme_server.api_keys = {SENTINEL}
    return make_endpoint(acme_server, api_key_env="ACME_API_KEY")


def test_the_capability_claim_keys_exist_after_migrating(db):
    keys = set(ClaimKey.objects.values_list("key", flat=True))
    assert {
        "api_available", "model_listed", "chat_completion", "function_calling", "json_mode",
        "structured_output", "streaming", "embeddings", "context_window", "moderation",
    } <= keys  # fmt: skip
    assert ClaimKey.objects.get(key="context_window").value_type == "number"


def test_a_probe_result_is_stored_as_a_verification_with_its_evidence(acme_endpoint, acme_claim):
    claim = acme_claim("json_mode")
    [outcome] = services.claims_probe(claims=[claim])
    verification = outcome.verification
    assert verification is not None
    verification.refresh_from_db()
    assert verification.claim == claim
    assert verification.method == Verification.Method.INFERENCE_PROBE
    assert verification.outcome == "confirmed"
    evidence = verification.evidence
    assert evidence["probe"] == "json_mode"
    assert evidence["endpoint"]["name"] == "acme-api"
    assert evidence["model"] == "acme-large-latest"
    assert evidence["http_status"] == 200
    assert evidence["latency_ms"] > 0
    assert evidence["usage"]["total_tokens"] > 0
    assert evidence["exchanges"][0]["request"]["response_format"] == {"type": "json_object"}
    assert "answer" in evidence["exchanges"][0]["response_excerpt"]
    run = ProbeRun.objects.get()
    assert run.status == ProbeRun.Status.FINISHED
    assert run.requests_used == 1
    assert claim.verifications.count() == 1


def test_the_cost_estimate_uses_the_endpoint_prices(acme_endpoint, acme_claim):
    acme_endpoint.price_input_per_mtok = Decimal("2")
    acme_endpoint.price_output_per_mtok = Decimal("6")
    acme_endpoint.save()
    [outcome] = services.claims_probe(claims=[acme_claim("chat_completion")])
    evidence = outcome.verification.evidence
    usage = evidence["usage"]
    expected = (2 * usage["prompt_tokens"] + 6 * usage["completion_tokens"]) / 1_000_000
    assert Decimal(evidence["cost_estimate"]["amount"]) == pytest.approx(Decimal(str(expected)))
    assert evidence["cost_estimate"]["currency"] == "USD"


def test_the_api_key_never_appears_in_logs_evidence_or_responses(
    acme_server, acme_endpoint, acme_claim, caplog, admin_client
):
    acme_server.echo_auth_in_errors = True
    caplog.set_level(logging.DEBUG)
    claims = [acme_claim(key) for key in ("api_available", "function_calling", "streaming")]
    services.claims_probe(claims=claims)
    # A refused call whose error body echoes the Authorization header back.
    acme_server.api_keys = {"another-key"}
    [failed] = services.claims_probe(claims=[acme_claim("json_mode")])
    assert failed.verification.outcome == "error"
    assert "[redacted]" in json.dumps(failed.verification.evidence)
    sent = [r.headers.get("Authorization") for r in acme_server.requests]
    assert sent and all(value == f"Bearer {SENTINEL}" for value in sent)

    stored = json.dumps(list(Verification.objects.values("note", "evidence")))
    assert SENTINEL not in stored
    assert SENTINEL not in caplog.text
    assert SENTINEL not in json.dumps(list(ProbeRun.objects.values()), default=str)
    page = admin_client.get(f"/inference/claims/{failed.claim.pk}/")
    assert page.status_code == 200
    assert SENTINEL not in page.content.decode()
    assert SENTINEL[:12] not in page.content.decode()


def test_a_budget_stops_the_run_with_a_clear_message(acme_endpoint, acme_claim):
    acme_endpoint.max_requests = 2
    acme_endpoint.save()
    claims = [acme_claim(key) for key in ("api_available", "json_mode", "streaming", "moderation")]
    outcomes = services.claims_probe(claims=claims)
    assert [o.label for o in outcomes] == ["confirmed", "confirmed", "stopped", "stopped"]
    assert "request budget of 2 is used up" in outcomes[2].message
    run = ProbeRun.objects.get()
    assert run.status == ProbeRun.Status.STOPPED_BUDGET
    assert run.requests_used == 2
    assert "Raise the endpoint's budget" in run.message
    assert Verification.objects.count() == 2


def test_a_token_budget_stops_a_probe_before_its_request_is_sent(
    acme_server, acme_endpoint, acme_claim
):
    acme_endpoint.max_tokens = 20
    acme_endpoint.save()
    [outcome] = services.claims_probe(claims=[acme_claim("structured_output")])
    assert outcome.stopped
    assert "tokens" in outcome.message and "of the run's 20" in outcome.message
    assert acme_server.requests == []


def test_a_spend_limit_stops_the_run(acme_endpoint, acme_claim):
    acme_endpoint.price_input_per_mtok = Decimal("1000")
    acme_endpoint.max_spend = Decimal("0.01")
    acme_endpoint.save()
    [outcome] = services.claims_probe(claims=[acme_claim("json_mode")])
    assert outcome.stopped
    assert "spend limit" in outcome.message


def test_a_missing_key_variable_is_named_in_the_error(acme_endpoint, acme_claim, monkeypatch):
    monkeypatch.delenv("ACME_API_KEY")
    [outcome] = services.claims_probe(claims=[acme_claim("json_mode")])
    assert outcome.verification is None
    assert "ACME_API_KEY" in outcome.message


def test_the_key_can_come_from_the_secrets_file(
    acme_endpoint, acme_claim, monkeypatch, settings, tmp_path
):
    monkeypatch.delenv("ACME_API_KEY")
    secrets = tmp_path / "secrets.env"
    secrets.write_text(f"# keys\nACME_API_KEY={SENTINEL}\n")
    settings.INFERENCE_SECRETS_FILE = str(secrets)
    [outcome] = services.claims_probe(claims=[acme_claim("api_available")])
    assert outcome.verification.outcome == "confirmed"


def test_a_licence_claim_is_reported_not_testable_and_nothing_is_stored(acme_endpoint, acme_claim):
    [outcome] = services.claims_probe(claims=[acme_claim("commercial_use_allowed")])
    assert outcome.label == "not_testable"
    assert "source" in outcome.message
    assert Verification.objects.count() == 0
    assert ProbeRun.objects.count() == 0


def test_a_claim_no_endpoint_serves_is_reported(acme_claim, db):
    [outcome] = services.claims_probe(claims=[acme_claim("json_mode")])
    assert "no active endpoint" in outcome.message


def test_a_claim_about_the_provider_uses_the_default_model(acme_endpoint, acme_claim):
    [outcome] = services.claims_probe(claims=[acme_claim("model_listed", on_provider=True)])
    assert outcome.verification.evidence["model"] == "acme-large-latest"
    assert outcome.verification.outcome == "confirmed"


def test_an_error_is_stored_as_an_error_never_as_a_contradiction(
    acme_server, acme_endpoint, acme_claim
):
    acme_server.fail_next("/v1/chat/completions", status=502, times=5)
    [outcome] = services.claims_probe(claims=[acme_claim("json_mode")])
    assert outcome.verification.outcome == "error"
    assert outcome.verification.evidence["http_status"] == 502


def test_the_claim_itself_is_not_changed(acme_server, acme_endpoint, acme_claim):
    claim = acme_claim("json_mode")
    acme_server.models["acme-large-latest"].json_mode = False
    [outcome] = services.claims_probe(claims=[claim])
    assert outcome.verification.outcome == "contradicted"
    claim.refresh_from_db()
    assert claim.value_flag == "yes" and claim.status == "current"


class TestQueuedJobs:
    def test_a_job_runs_once_even_if_its_task_is_delivered_twice(
        self, acme_server, acme_endpoint, acme_claim
    ):
        run = services.probe_run_start(endpoint=acme_endpoint, trigger=ProbeRun.Trigger.SCHEDULE)
        job = ProbeJob.objects.create(run=run, claim=acme_claim("streaming"))
        from inference.tasks import probe_job

        assert probe_job.apply(args=[job.pk]).get() == "done"
        assert probe_job.apply(args=[job.pk]).get().startswith("skipped")
        job.refresh_from_db()
        assert job.status == ProbeJob.Status.DONE
        assert job.verification.outcome == "confirmed"
        assert Verification.objects.count() == 1
        run.refresh_from_db()
        assert run.status == ProbeRun.Status.FINISHED

    def test_the_sweep_queues_due_claims_and_not_recent_ones(
        self, acme_endpoint, acme_claim, django_capture_on_commit_callbacks
    ):
        due = acme_claim("json_mode")
        recent = acme_claim("streaming")
        services.claims_probe(claims=[recent])
        acme_claim("commercial_use_allowed")
        acme_claim("context_window", number=1000)
        from inference.tasks import probe_due_claims

        with django_capture_on_commit_callbacks(execute=True):
            assert probe_due_claims.apply().get() == 1
        assert due.verifications.get().outcome == "confirmed"
        assert recent.verifications.count() == 1
        assert ProbeJob.objects.get().status == ProbeJob.Status.DONE
        with django_capture_on_commit_callbacks(execute=True):
            assert probe_due_claims.apply().get() == 0

    def test_celery_autodiscovery_finds_the_tasks(self):
        from atlas.celery import app

        app.loader.import_default_modules()
        assert "inference.probe_job" in app.tasks
        assert "inference.probe_due_claims" in app.tasks


def test_an_embedded_endpoint_without_the_local_extra_says_what_to_install(
    acme_claim, provider, monkeypatch
):
    from inference import local
    from inference.models import Endpoint

    monkeypatch.setattr(local, "llama_available", lambda: False)
    endpoint = Endpoint.objects.create(
        name="embedded", kind=Endpoint.Kind.EMBEDDED_LOCAL, provider=provider
    )
    [outcome] = services.claims_probe(claims=[acme_claim("json_mode")], endpoint=endpoint)
    assert outcome.verification is None
    assert "pip install '.[local]'" in outcome.message


@pytest.mark.parametrize("name", ["SECRET_KEY", "DATABASE_URL", "lower_api_key", "API_KEY"])
def test_an_endpoint_cannot_name_a_variable_that_is_not_an_api_key(provider, name):
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError, transaction

    from inference.models import Endpoint

    endpoint = Endpoint(
        name="sneaky", kind="self_hosted", base_url="http://127.0.0.1:9/v1", api_key_env=name
    )
    with pytest.raises(ValidationError, match="_API_KEY"):
        endpoint.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        endpoint.save()
