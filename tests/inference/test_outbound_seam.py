"""Model endpoints go out through the crawler's address checks, with their own allow-list.

The protocol server listens on 127.0.0.1, which model calls may reach only while
``INFERENCE_ALLOWED_NETWORKS`` lists it (this package's conftest lists it for every test).
"""

from __future__ import annotations

import pytest

from crawlers.fetch import addresses
from inference import services
from inference.client import LLMClient, LLMError
from tests.test_settings import GOOD_KEY, SETUP, _run


@pytest.fixture
def nothing_allowed(settings):
    settings.INFERENCE_ALLOWED_NETWORKS = []


def test_a_model_server_on_a_loopback_address_is_refused_without_the_allow_list(
    serve, nothing_allowed
):
    server = serve()
    client = LLMClient(base_url=server.base_url, max_retries=2, backoff=0.01)
    with pytest.raises(LLMError) as refused:
        client.list_models()
    assert refused.value.permanent
    assert refused.value.exchange.attempts == 1, "a refusal is not retried"
    assert "a loopback address" in refused.value.message
    assert "INFERENCE_ALLOWED_NETWORKS" in refused.value.message
    assert server.requests == [], "nothing was sent"


def test_the_crawlers_allow_list_does_not_open_model_endpoints(serve, settings, nothing_allowed):
    settings.ATLAS_CRAWLER_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    server = serve()
    with pytest.raises(LLMError):
        LLMClient(base_url=server.base_url).list_models()
    assert server.requests == []


def test_an_allow_listed_local_model_server_is_reached(serve):
    server = serve()
    exchange = LLMClient(base_url=server.base_url).list_models()
    assert exchange.status == 200
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("base_url", "reason"),
    [
        ("http://169.254.169.254/v1", "link-local"),
        ("http://10.1.2.3:8000/v1", "a private address"),
        ("http://[::1]:8000/v1", "a loopback address"),
        ("http://0x7f000001:8000/v1", "a loopback address"),
        ("http://internal.example.com:8000/v1", "a private address"),
    ],
)
def test_hostile_endpoint_addresses_are_refused(base_url, reason, monkeypatch, nothing_allowed):
    monkeypatch.setattr(addresses, "resolve", lambda host, port: ["10.1.2.3"])
    with pytest.raises(LLMError) as refused:
        LLMClient(base_url=base_url, max_retries=0).chat({"model": "m", "messages": []})
    assert refused.value.permanent
    assert reason in refused.value.message


def test_the_name_is_resolved_for_every_request_and_the_vetted_address_dialled(serve, monkeypatch):
    server = serve()
    port = server.base_url.split(":")[2].split("/")[0]
    answers = iter([["127.0.0.1"], ["10.9.9.9"]])
    monkeypatch.setattr(addresses, "resolve", lambda host, port: next(answers))
    client = LLMClient(base_url=f"http://models.example.com:{port}/v1", max_retries=0)

    assert client.list_models().status == 200
    assert server.requests[0].headers["Host"] == f"models.example.com:{port}"
    # The name now points inside the network: the next request is refused, not sent.
    with pytest.raises(LLMError) as refused:
        client.list_models()
    assert "a private address" in refused.value.message
    assert len(server.requests) == 1


def test_a_probe_of_a_refused_endpoint_is_an_error_never_a_contradiction(
    acme_server, make_endpoint, acme_claim, nothing_allowed
):
    make_endpoint(acme_server)
    [outcome] = services.claims_probe(claims=[acme_claim("json_mode")])
    assert outcome.verification.outcome == "error"
    assert "a loopback address" in outcome.verification.note
    assert acme_server.requests == []


def test_a_bad_allow_list_stops_start_up_naming_the_variable():
    result = _run(SETUP, SECRET_KEY=GOOD_KEY, INFERENCE_ALLOWED_NETWORKS="127.0.0.1,localhost")
    assert result.returncode != 0
    last = result.stderr.splitlines()[-1]
    assert "INFERENCE_ALLOWED_NETWORKS" in last
    assert "'localhost'" in last
