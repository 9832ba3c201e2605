"""Only a well-formed protocol answer refutes a claim, and every probe ends by its deadline.

Each test starts a server on 127.0.0.1 that misbehaves one way (an HTML page with 200, a
stream cut short, an answer dripped a byte at a time, endless 429s) and probes one claim
of every testable key against it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from catalog.models import Verification
from inference import probes, services
from inference.client import LLMClient
from tests.inference.testserver import ServedModel

DEADLINE = 2
MARGIN = 1.0
# A drip never lasts longer than this, so code without a deadline fails instead of hanging.
DRIP_SECONDS = 5.0

Answer = Callable[["_Handler", str, str, Any], None]


class _Handler(BaseHTTPRequestHandler):
    answer: Answer
    stopping: threading.Event
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self.answer(self, "GET", self.path, None)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = None
        self.answer(self, "POST", self.path, body)

    def reply(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)


class MisbehavingServer:
    """Answers every request with ``answer(handler, method, path, body)``."""

    def __init__(self, answer: Answer) -> None:
        self.stopping = threading.Event()

        class Handler(_Handler):
            pass

        Handler.answer = staticmethod(answer)  # type: ignore[assignment]
        Handler.stopping = self.stopping
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()


HTML = b"<!doctype html><html><head><title>Welcome</title></head><body>Sign in</body></html>"


def html_page(handler: _Handler, method: str, path: str, body: Any) -> None:
    handler.reply(200, HTML, "text/html; charset=utf-8")


def rate_limited(handler: _Handler, method: str, path: str, body: Any) -> None:
    error = {"error": {"message": "Rate limit exceeded", "type": "rate_limit"}}
    handler.reply(429, json.dumps(error).encode(), "application/json", Retry_After="3")


def drip(handler: _Handler, method: str, path: str, body: Any) -> None:
    streaming = isinstance(body, dict) and body.get("stream")
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream" if streaming else "application/json")
    handler.send_header("Content-Length", "1000000")
    handler.end_headers()
    started = time.monotonic()
    try:
        while time.monotonic() - started < DRIP_SECONDS and not handler.stopping.is_set():
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(0.05)
    except OSError:
        return
    handler.close_connection = True


def truncated_stream(chunks: int) -> Answer:
    """A chat stream that closes after ``chunks`` chunks, without [DONE]; other calls work."""
    fine = ServedModel(id="acme-large-latest", embedding_dim=16, moderation=True)

    def answer(handler: _Handler, method: str, path: str, body: Any) -> None:
        from tests.inference.testserver import ProtocolServer

        protocol = ProtocolServer(models=[fine])
        if method == "GET":
            handler.reply(200, json.dumps(protocol.models_list()).encode(), "application/json")
            return
        if not (isinstance(body, dict) and body.get("stream")):
            _, payload = protocol.chat(body)
            handler.reply(200, json.dumps(payload).encode(), "application/json")
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Connection", "close")
        handler.end_headers()
        chunk = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}}]}
        for _ in range(chunks):
            handler.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        handler.wfile.flush()
        handler.close_connection = True

    return answer


@pytest.fixture
def misbehaving():
    started: list[MisbehavingServer] = []

    def start(answer: Answer) -> MisbehavingServer:
        server = MisbehavingServer(answer)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def claims(acme_claim):
    """One claim of every testable key, each saying the feature is there."""
    numbers = {"context_window": 1000, "embedding_dimension": 16}
    return [
        acme_claim(key, number=numbers.get(key)) if key in numbers else acme_claim(key)
        for key in probes.PROBES
    ]


def probe_each(claims, endpoint) -> list[tuple[services.ProbeOutcome, float]]:
    timed = []
    for claim in claims:
        started = time.monotonic()
        [outcome] = services.claims_probe(claims=[claim], endpoint=endpoint)
        timed.append((outcome, time.monotonic() - started))
    return timed


@pytest.fixture
def deadline(settings):
    settings.INFERENCE_PROBE_DEADLINE = DEADLINE
    return DEADLINE


def endpoint_for(make_endpoint, server):
    return make_endpoint(
        server,
        allow_costly_probes=True,
        max_requests=10_000,
        max_tokens=10_000_000,
        timeout_seconds=30,
    )


def test_an_html_page_answered_with_200_refutes_nothing(misbehaving, make_endpoint, claims):
    endpoint = endpoint_for(make_endpoint, misbehaving(html_page))
    outcomes = [outcome for outcome, _ in probe_each(claims, endpoint)]
    stored = [o.verification for o in outcomes if o.verification is not None]
    assert len(stored) == len(claims)
    for verification in stored:
        assert verification.outcome == Verification.Outcome.INCONCLUSIVE, verification.note
        assert "not JSON (text/html)" in verification.note


def test_a_claim_that_a_feature_is_absent_is_not_confirmed_by_an_html_page(
    misbehaving, make_endpoint, acme_claim
):
    endpoint = endpoint_for(make_endpoint, misbehaving(html_page))
    claim = acme_claim("json_mode", flag="no")
    [outcome] = services.claims_probe(claims=[claim], endpoint=endpoint)
    assert outcome.verification.outcome == Verification.Outcome.INCONCLUSIVE


@pytest.mark.parametrize("chunks", [0, 2])
def test_a_stream_cut_short_is_inconclusive(misbehaving, make_endpoint, acme_claim, chunks):
    endpoint = endpoint_for(make_endpoint, misbehaving(truncated_stream(chunks)))
    claim = acme_claim("streaming")
    [outcome] = services.claims_probe(claims=[claim], endpoint=endpoint)
    verification = outcome.verification
    assert verification.outcome == Verification.Outcome.INCONCLUSIVE, verification.note
    assert "without" in verification.note and "cut short" in verification.note


def test_a_server_dripping_its_answer_is_cut_off_at_the_deadline(
    misbehaving, make_endpoint, acme_claim, deadline
):
    endpoint = endpoint_for(make_endpoint, misbehaving(drip))
    claims = [acme_claim(key) for key in ("api_available", "chat_completion", "streaming")]
    for outcome, elapsed in probe_each(claims, endpoint):
        assert elapsed < deadline + MARGIN, (outcome.claim.key.key, elapsed)
        verification = outcome.verification
        assert verification.outcome == Verification.Outcome.ERROR, verification.note
        assert f"deadline of {deadline}s" in verification.note
        assert verification.evidence["deadline_seconds"] == deadline


def test_endless_rate_limits_end_at_the_deadline_as_errors(
    misbehaving, make_endpoint, claims, deadline
):
    endpoint = endpoint_for(make_endpoint, misbehaving(rate_limited))
    for outcome, elapsed in probe_each(claims, endpoint):
        assert elapsed < deadline + MARGIN, (outcome.claim.key.key, elapsed)
        verification = outcome.verification
        assert verification.outcome == Verification.Outcome.ERROR, verification.note
        assert verification.outcome != Verification.Outcome.CONTRADICTED


def test_the_deadline_counts_the_clients_own_retries(misbehaving, deadline):
    server = misbehaving(rate_limited)
    waits: list[float] = []
    client = LLMClient(
        base_url=server.base_url, max_retries=5, deadline=deadline, sleep=waits.append
    )
    started = time.monotonic()
    result = probes.run_probe("api_available", probes.ProbeContext(client=client, model="m"))
    assert time.monotonic() - started < deadline + MARGIN
    assert result.finding == probes.ERROR
    # Waiting the 3 s the server asks would pass the 2 s deadline: no wait, no retry.
    assert waits == []
    assert "deadline" in result.note


def test_a_json_answer_off_the_protocol_refutes_nothing(misbehaving, make_endpoint, claims):
    def off_schema(handler: _Handler, method: str, path: str, body: Any) -> None:
        handler.reply(200, b'{"status": "ok"}', "application/json")

    endpoint = endpoint_for(make_endpoint, misbehaving(off_schema))
    for outcome, _ in probe_each(claims, endpoint):
        verification = outcome.verification
        assert verification.outcome == Verification.Outcome.INCONCLUSIVE, verification.note


def test_an_html_error_page_naming_the_feature_refutes_nothing(
    misbehaving, make_endpoint, acme_claim
):
    def proxy_error(handler: _Handler, method: str, path: str, body: Any) -> None:
        page = b"<html><body>400 Bad Request: response_format json stream tools</body></html>"
        handler.reply(400, page, "text/html")

    endpoint = endpoint_for(make_endpoint, misbehaving(proxy_error))
    claims = [acme_claim(key) for key in ("json_mode", "streaming", "function_calling")]
    for outcome, _ in probe_each(claims, endpoint):
        verification = outcome.verification
        assert verification.outcome == Verification.Outcome.INCONCLUSIVE, verification.note
        assert "without a JSON error" in verification.note


def test_context_window_evidence_keeps_the_prompts_size_and_names_the_deployment(
    acme_server, make_endpoint, acme_claim
):
    endpoint = make_endpoint(acme_server, allow_costly_probes=True, max_tokens=1_000_000)
    claim = acme_claim("context_window", number=1000)
    [outcome] = services.claims_probe(claims=[claim], endpoint=endpoint)
    verification = outcome.verification
    assert verification.outcome == Verification.Outcome.CONFIRMED, verification.note
    evidence = verification.evidence
    assert evidence["scope"] == "deployment"
    assert evidence["endpoint"]["name"] == endpoint.name
    assert verification.note.startswith(f"Deployment {endpoint.name} ")
    assert "not the model everywhere" in verification.note
    assert "hello hello" not in json.dumps(evidence)
    for exchange in evidence["exchanges"][-2:]:
        content = exchange["request"]["messages"][0]["content"]
        assert content.startswith("[not kept: ") and "characters" in content
    assert len(evidence["findings"]["prompt_chars"]) == 2
    assert all(size > 4000 for size in evidence["findings"]["prompt_chars"])


def test_long_evidence_is_capped_and_says_what_was_cut(misbehaving, make_endpoint, acme_claim):
    page = b"<html>" + b"x" * 50_000 + b"</html>"

    def long_page(handler: _Handler, method: str, path: str, body: Any) -> None:
        handler.reply(200, page, "text/html")

    endpoint = endpoint_for(make_endpoint, misbehaving(long_page))
    [outcome] = services.claims_probe(claims=[acme_claim("json_mode")], endpoint=endpoint)
    [exchange] = outcome.verification.evidence["exchanges"]
    excerpt = exchange["response_excerpt"]
    assert len(excerpt) < 3000
    assert excerpt.endswith(f"… {len(page) - 2000:,} characters cut")
