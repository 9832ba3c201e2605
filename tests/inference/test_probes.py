"""Each probe against a server that does what is claimed, one that doesn't, and one that fails."""

from __future__ import annotations

from decimal import Decimal

import pytest

from inference import probes
from inference.client import LLMClient
from tests.inference.testserver import ServedModel


def run(server, key, *, model="m", flag="yes", number=None, costly=False):
    client = LLMClient(base_url=server.base_url, backoff=0.01, max_retries=1)
    context = probes.ProbeContext(
        client=client,
        model=model,
        claim_flag=flag if number is None else "",
        claim_number=None if number is None else Decimal(number),
        allow_costly=costly,
    )
    result = probes.run_probe(key, context)
    outcome = probes.verdict(
        result, claim_flag=context.claim_flag, claim_number=context.claim_number
    )
    return result, outcome


FULL = dict(embedding_dim=32, moderation=True, context_window=1000)


@pytest.mark.parametrize(
    "key",
    [
        "api_available",
        "model_listed",
        "chat_completion",
        "function_calling",
        "json_mode",
        "structured_output",
        "streaming",
        "embeddings",
        "moderation",
    ],
)
def test_each_probe_confirms_what_the_server_does(serve, key):
    server = serve(models=[ServedModel(id="m", **FULL)])
    result, outcome = run(server, key)
    assert result.finding == probes.SUPPORTED, result.note
    assert outcome == "confirmed"
    assert result.exchanges and result.exchanges[0].status == 200


@pytest.mark.parametrize(
    ("key", "lacking"),
    [
        ("function_calling", dict(tools=False)),
        ("json_mode", dict(json_mode=False)),
        ("structured_output", dict(json_schema=False)),
        ("streaming", dict(stream=False)),
        ("embeddings", dict(embedding_dim=None)),
        ("moderation", dict(moderation=False)),
    ],
)
@pytest.mark.parametrize("how", ["reject", "ignore", "crash"])
def test_each_probe_contradicts_what_the_server_does_not_do(serve, key, lacking, how):
    server = serve(models=[ServedModel(id="m", **{**FULL, **lacking}, unsupported=how)])
    result, outcome = run(server, key)
    assert result.finding == probes.UNSUPPORTED, result.note
    assert outcome == "contradicted"


def test_a_claim_that_a_feature_is_absent_is_confirmed_when_it_is(serve):
    server = serve(models=[ServedModel(id="m", json_mode=False)])
    _, outcome = run(server, "json_mode", flag="no")
    assert outcome == "confirmed"


@pytest.mark.parametrize("key", ["chat_completion", "json_mode", "function_calling", "streaming"])
def test_a_server_error_not_naming_the_feature_is_an_error_not_a_contradiction(serve, key):
    server = serve(models=[ServedModel(id="m")])
    server.fail_next("/v1/chat/completions", status=500, times=10)
    result, outcome = run(server, key)
    assert result.finding == probes.ERROR, result.note
    assert outcome == "error"


def test_a_timeout_is_an_error(serve):
    server = serve(models=[ServedModel(id="m")], delay=0.6)
    client = LLMClient(base_url=server.base_url, timeout=0.2, max_retries=0)
    result = probes.run_probe("json_mode", probes.ProbeContext(client=client, model="m"))
    assert result.finding == probes.ERROR
    assert "timed out" in result.note


def test_a_rate_limit_that_outlasts_the_retries_is_an_error(serve):
    server = serve(models=[ServedModel(id="m")])
    server.fail_next("/v1/models", status=429, retry_after="0", times=10)
    _, outcome = run(server, "api_available")
    assert outcome == "error"


def test_a_refused_key_is_an_error(serve):
    server = serve(models=[ServedModel(id="m")], api_keys={"secret"})
    result, outcome = run(server, "model_listed")
    assert outcome == "error"
    assert "API key" in result.note


def test_a_500_naming_the_feature_under_test_refutes_it(serve):
    server = serve(models=[ServedModel(id="m", json_mode=False, unsupported="crash")])
    result, outcome = run(server, "json_mode")
    assert outcome == "contradicted"
    assert "response_format" in result.note


def test_model_listed_is_decided_from_the_list_even_when_any_name_gets_an_answer(serve):
    server = serve(
        models=[ServedModel(id="only-model", aliases=["om"])],
        accept_any_model=True,
        card_style="mistral",
    )
    chat, _ = run(server, "chat_completion", model="gpt-imaginary")
    assert chat.finding == probes.SUPPORTED
    listed, outcome = run(server, "model_listed", model="gpt-imaginary")
    assert outcome == "contradicted"
    assert not any("chat" in e.url for e in listed.exchanges)
    _, alias_outcome = run(server, "model_listed", model="om")
    assert alias_outcome == "confirmed"


def test_forced_and_automatic_tool_choice_are_separate_findings(serve):
    server = serve(models=[ServedModel(id="m", tools=True, auto_tools=False)])
    result, outcome = run(server, "function_calling")
    assert result.findings == {"accepts_tools": "supported", "chooses_tool": "unsupported"}
    assert outcome == "confirmed"
    forced, auto = (r.body for r in server.requests if r.method == "POST")
    assert forced["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert auto["tool_choice"] == "auto"


def test_an_answer_cut_off_by_length_is_inconclusive(serve, monkeypatch):
    server = serve(models=[ServedModel(id="m")])
    original = server.chat

    def tiny(body):
        return original({**body, "max_tokens": 1})

    monkeypatch.setattr(server, "chat", tiny)
    result, outcome = run(server, "json_mode")
    assert result.finding == probes.INCONCLUSIVE
    assert "length" in result.note
    assert outcome == "inconclusive"


def test_structured_output_that_ignores_the_schema_is_contradicted(serve):
    server = serve(models=[ServedModel(id="m", schema_faithful=False)])
    result, outcome = run(server, "structured_output")
    assert outcome == "contradicted"
    assert "schema" in result.note


def test_an_unknown_model_is_inconclusive_not_a_contradiction(serve):
    server = serve(models=[ServedModel(id="m")])
    result, outcome = run(server, "json_mode", model="elsewhere")
    assert outcome == "inconclusive"
    assert "not served here" in result.note


def test_declared_capabilities_are_kept_and_disagreements_flagged(serve):
    server = serve(
        models=[
            ServedModel(
                id="m",
                tools=False,
                unsupported="ignore",
                card={"capabilities": {"completion_chat": True, "function_calling": True}},
            )
        ],
        card_style="mistral",
    )
    result, outcome = run(server, "function_calling")
    assert outcome == "contradicted"
    assert result.declared is True
    assert result.disagreement is True
    chat, _ = run(server, "chat_completion")
    assert chat.declared is True and chat.disagreement is False


def test_embedding_dimension_is_checked_against_the_claimed_number(serve):
    server = serve(models=[ServedModel(id="m", embedding_dim=24)])
    right, outcome = run(server, "embedding_dimension", number=24)
    assert outcome == "confirmed" and right.measured == 24
    _, wrong = run(server, "embedding_dimension", number=1024)
    assert wrong == "contradicted"


class TestContextWindow:
    def test_it_is_not_run_unless_costly_probes_are_allowed(self, serve):
        server = serve(models=[ServedModel(id="m", context_window=1000)])
        result, _ = run(server, "context_window", number=1000)
        assert result.finding == probes.NOT_RUN
        assert not result.stored
        assert server.requests == []

    def test_a_window_that_refuses_over_long_prompts_is_confirmed(self, serve):
        server = serve(models=[ServedModel(id="m", context_window=1000)])
        result, outcome = run(server, "context_window", number=1000, costly=True)
        assert outcome == "confirmed", result.note
        assert result.findings["over"] == "refused"

    def test_a_window_that_truncates_is_confirmed(self, serve):
        server = serve(models=[ServedModel(id="m", context_window=1000, over_context="truncate")])
        result, outcome = run(server, "context_window", number=1000, costly=True)
        assert outcome == "confirmed", result.note
        assert result.findings["over"] == "truncated"

    def test_a_smaller_window_than_claimed_is_contradicted(self, serve):
        server = serve(models=[ServedModel(id="m", context_window=500)])
        result, outcome = run(server, "context_window", number=1000, costly=True)
        assert outcome == "contradicted", result.note

    def test_a_larger_window_than_claimed_is_contradicted(self, serve):
        server = serve(models=[ServedModel(id="m", context_window=4000)])
        result, outcome = run(server, "context_window", number=1000, costly=True)
        assert outcome == "contradicted", result.note
        assert result.findings["over"] == "accepted"

    def test_the_declared_length_is_kept_and_a_disagreement_flagged(self, serve):
        server = serve(models=[ServedModel(id="m", context_window=1000)], card_style="mistral")
        result, _ = run(server, "context_window", number=2000, costly=True)
        assert result.declared == 1000
        assert result.disagreement is True


def test_licence_and_data_use_claims_are_not_testable():
    result = probes.run_probe("commercial_use_allowed", probes.ProbeContext(client=None, model=""))
    assert result.finding == probes.NOT_TESTABLE
    assert not result.stored


def test_an_api_that_only_takes_required_for_a_forced_tool_is_asked_that_way(serve):
    server = serve(models=[ServedModel(id="m", named_tool_choice=False)])
    result, outcome = run(server, "function_calling")
    assert outcome == "confirmed", result.note
    choices = [r.body["tool_choice"] for r in server.requests if r.method == "POST"]
    assert choices == [
        {"type": "function", "function": {"name": "get_weather"}},
        "required",
        "auto",
    ]
