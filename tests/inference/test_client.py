from __future__ import annotations

import pytest

from inference.client import BudgetExceeded, LLMClient, LLMError, MemoryBudget
from tests.inference.testserver import ServedModel

CHAT = {"model": "test-model", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8}


def client_for(server, **kwargs) -> LLMClient:
    kwargs.setdefault("backoff", 0.01)
    return LLMClient(base_url=server.base_url, **kwargs)


def test_it_lists_models_and_records_the_exchange(serve):
    server = serve()
    exchange = client_for(server).list_models()
    assert exchange.status == 200
    assert exchange.data["data"][0]["id"] == "test-model"
    assert exchange.latency_ms > 0
    assert exchange.as_evidence()["url"].endswith("/v1/models")


def test_it_retries_a_429_after_the_time_retry_after_names(serve):
    server = serve()
    server.fail_next("/v1/chat/completions", status=429, retry_after="3", times=1)
    waits: list[float] = []
    exchange = client_for(server, sleep=waits.append).chat(CHAT)
    assert exchange.status == 200
    assert exchange.attempts == 2
    assert waits == [3.0]
    assert len(server.requests) == 2


def test_it_retries_server_errors_with_backoff_then_gives_up_as_transient(serve):
    server = serve()
    server.fail_next("/v1/chat/completions", status=503, times=5)
    waits: list[float] = []
    with pytest.raises(LLMError) as caught:
        client_for(server, max_retries=2, sleep=waits.append).chat(CHAT)
    assert caught.value.status == 503
    assert caught.value.permanent is False
    assert len(server.requests) == 3
    assert len(waits) == 2 and waits[1] > waits[0]


def test_it_does_not_retry_a_client_error_and_calls_it_permanent(serve):
    server = serve()
    with pytest.raises(LLMError) as caught:
        client_for(server).chat({**CHAT, "model": "no-such-model"})
    assert caught.value.status == 404
    assert caught.value.permanent is True
    assert caught.value.mentions("does not exist")
    assert len(server.requests) == 1


def test_a_refused_key_is_permanent_and_says_to_check_the_key(serve):
    server = serve(api_keys={"right-key"})
    with pytest.raises(LLMError) as caught:
        client_for(server, api_key="wrong-key").list_models()
    assert caught.value.status == 401
    assert caught.value.permanent is True
    assert "API key" in caught.value.message
    assert client_for(server, api_key="right-key").list_models().status == 200


def test_a_slow_answer_times_out_as_a_transient_error(serve):
    server = serve(delay=1.0)
    with pytest.raises(LLMError) as caught:
        client_for(server, timeout=0.2, max_retries=0).list_models()
    assert caught.value.permanent is False
    assert caught.value.status is None
    assert "timed out" in caught.value.message


def test_a_retry_after_beyond_the_cap_is_not_waited_for(serve):
    server = serve()
    server.fail_next("/v1/models", status=429, retry_after="3600")
    waits: list[float] = []
    with pytest.raises(LLMError) as caught:
        client_for(server, sleep=waits.append, max_retry_after=30).list_models()
    assert "wait longer" in caught.value.message
    assert waits == []


def test_a_budget_stops_a_request_before_it_is_sent(serve):
    server = serve()
    budget = MemoryBudget(max_requests=1, max_tokens=10_000)
    client = client_for(server, budget=budget)
    client.list_models()
    with pytest.raises(BudgetExceeded) as caught:
        client.list_models()
    assert "request budget" in caught.value.message
    assert len(server.requests) == 1


def test_a_token_budget_counts_what_the_server_reports(serve):
    server = serve()
    budget = MemoryBudget(max_requests=10, max_tokens=10_000)
    exchange = client_for(server, budget=budget).chat(CHAT)
    assert budget.tokens_used == exchange.usage["total_tokens"]


def test_streaming_collects_server_sent_chunks_until_done(serve):
    server = serve()
    exchange = client_for(server).chat({**CHAT, "stream": True})
    assert "text/event-stream" in exchange.content_type
    assert exchange.saw_done
    text = "".join(
        e["choices"][0]["delta"].get("content") or "" for e in exchange.events if e["choices"]
    )
    assert text.startswith("OK")


def test_a_server_that_echoes_the_key_has_it_scrubbed_from_the_evidence(serve):
    server = serve(api_keys={"k"}, echo_auth_in_errors=True)
    with pytest.raises(LLMError) as caught:
        client_for(server, api_key="sk-echo-me-123").list_models()
    assert "sk-echo-me-123" not in caught.value.body
    assert "sk-echo-me-123" not in caught.value.exchange.response_excerpt
    assert "[redacted]" in caught.value.exchange.response_excerpt


def test_the_embedding_route_answers_vectors_of_the_served_dimension(serve):
    server = serve(models=[ServedModel(id="emb", embedding_dim=8)])
    exchange = client_for(server).embeddings({"model": "emb", "input": ["a", "b"]})
    assert [len(item["embedding"]) for item in exchange.data["data"]] == [8, 8]
