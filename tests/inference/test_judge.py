from __future__ import annotations

import pytest

from catalog.models import Verification
from inference import judge
from inference.models import JudgeVerdict
from inference.services import InferenceError
from tests.inference.testserver import ServedModel

PASSAGE = (
    "Our chat models support function calling.  Tools are declared in the request.\n"
    "Fine-tuning is available on the Scale plan."
)


@pytest.fixture
def judge_setup(serve, make_endpoint, acme_claim):
    served = ServedModel(id="judge-1")
    server = serve(models=[served])
    endpoint = make_endpoint(server, default_model="judge-1")
    claim = acme_claim("function_calling", quote="Our chat models support function calling.")
    return server, served, endpoint, claim


def answer(verdict: str, quote: str) -> dict:
    return {"verdict": verdict, "quote": quote, "reason": "The sentence says so."}


def test_a_supporting_passage_is_recorded_as_an_advisory_reading(judge_setup):
    server, served, endpoint, claim = judge_setup
    served.json_reply = answer("supports", "Our chat models support function calling.")
    verification = judge.claim_judge(claim=claim, passage=PASSAGE, endpoint=endpoint)
    assert verification.method == Verification.Method.MODEL_JUDGE
    # The reading is advice, never a confirmation of the claim.
    assert verification.outcome == "inconclusive"
    assert verification.evidence["reading"] == "supports"
    assert verification.evidence["advisory"] is True
    assert verification.evidence["judge_model"] == "judge-1"
    assert verification.evidence["quote"] == "Our chat models support function calling."
    [request] = [r.body for r in server.requests if r.method == "POST"]
    assert request["temperature"] == 0
    assert request["response_format"]["type"] == "json_schema"
    assert request["response_format"]["json_schema"]["schema"] == judge.JUDGE_SCHEMA
    claim.refresh_from_db()
    assert claim.status == "current" and claim.value_flag == "yes"


def test_a_quote_not_in_the_passage_downgrades_the_verdict(judge_setup):
    _, served, endpoint, claim = judge_setup
    served.json_reply = answer("contradicts", "Function calling is not offered.")
    verification = judge.claim_judge(claim=claim, passage=PASSAGE, endpoint=endpoint)
    assert verification.outcome == "inconclusive"
    assert verification.evidence["downgraded"] is True
    assert "not in the passage" in verification.note


def test_whitespace_differences_do_not_count_as_a_different_quote():
    assert judge.quote_in_passage("declared in\n the request", "Tools are declared in the request.")
    assert not judge.quote_in_passage("declared in a request", "Tools are declared in the request.")
    assert not judge.quote_in_passage("", "anything")


def test_an_answer_outside_the_schema_is_inconclusive(judge_setup):
    _, served, endpoint, claim = judge_setup
    served.json_reply = {"verdict": "probably", "quote": "", "reason": ""}
    verification = judge.claim_judge(claim=claim, passage=PASSAGE, endpoint=endpoint)
    assert verification.outcome == "inconclusive"
    assert "schema" in verification.evidence["reason"]
    # A non-answer is not cached.
    assert JudgeVerdict.objects.count() == 0


def test_answers_are_cached_by_passage_claim_model_and_prompt_version(judge_setup, monkeypatch):
    server, served, endpoint, claim = judge_setup
    served.json_reply = answer("supports", "Our chat models support function calling.")
    judge.claim_judge(claim=claim, passage=PASSAGE, endpoint=endpoint)
    second = judge.claim_judge(claim=claim, passage=PASSAGE, endpoint=endpoint)
    assert second.evidence["cached"] is True
    assert len([r for r in server.requests if r.method == "POST"]) == 1
    judge.claim_judge(claim=claim, passage=PASSAGE + " More text.", endpoint=endpoint)
    monkeypatch.setattr(judge, "PROMPT_VERSION", 2)
    judge.claim_judge(claim=claim, passage=PASSAGE, endpoint=endpoint)
    assert len([r for r in server.requests if r.method == "POST"]) == 3
    assert JudgeVerdict.objects.count() == 3
    assert claim.verifications.filter(method="model_judge").count() == 4


def test_a_server_without_json_schema_is_asked_with_a_schema_on_json_object(judge_setup):
    server, served, endpoint, claim = judge_setup
    served.json_schema = False
    served.json_reply = answer("not_addressed", "")
    verification = judge.claim_judge(claim=claim, passage=PASSAGE, endpoint=endpoint)
    assert verification.outcome == "inconclusive"
    formats = [r.body["response_format"]["type"] for r in server.requests if r.method == "POST"]
    assert formats == ["json_schema", "json_object"]


def test_a_failed_call_is_an_error_and_is_not_cached(judge_setup):
    server, _, endpoint, claim = judge_setup
    server.fail_next("/v1/chat/completions", status=503, times=10)
    verification = judge.claim_judge(claim=claim, passage=PASSAGE, endpoint=endpoint)
    assert verification.outcome == "error"
    assert JudgeVerdict.objects.count() == 0


def test_an_empty_passage_is_refused_with_a_clear_message(judge_setup):
    _, _, endpoint, claim = judge_setup
    with pytest.raises(InferenceError, match="passage"):
        judge.claim_judge(claim=claim, passage="  ", endpoint=endpoint)
