"""The one seam for every model call: the OpenAI-compatible protocol over httpx.

Mistral's API, vLLM, Ollama, llama.cpp's server, LM Studio and TGI all speak
it, and so does the embedded local model (through an in-process httpx
transport, see ``local``). Every call returns an ``Exchange`` that records what
was asked and answered, already stripped of the API key, so probes can keep it
as evidence. Every failure is an ``LLMError`` that says whether it is permanent.

Retries: 429, 5xx, timeouts and connection errors are retried with exponential
backoff, honouring ``Retry-After`` up to ``max_retry_after`` seconds. Each
attempt is first reserved against the run's budget, so a budget can stop a
run before a request is sent, never after.

Deadline: a client made with ``deadline`` seconds stops every call at that
moment after its creation, retries and waits included; an answer still
arriving then (a server dripping a byte at a time) is cut off. The evidence
an exchange keeps is capped in size, and says how much was cut.

Addresses: a request over the network goes through ``GuardedTransport``, which
vets every request with the crawler's address rules (``crawlers.fetch.addresses``:
no loopback, private, link-local or other non-public address, the host resolved
for each request and the connection made to the address checked). Local model
servers are reached only when their network is in ``INFERENCE_ALLOWED_NETWORKS``
(empty by default). A refused address is a permanent ``LLMError`` and no request
is sent. The embedded model needs none of this: its transport is in-process.
"""

from __future__ import annotations

import functools
import json
import logging
import random
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import certifi
import httpx
from django.conf import settings

from crawlers.errors import CrawlerError
from crawlers.fetch.addresses import vet
from crawlers.fetch.http import retry_after_seconds

logger = logging.getLogger(__name__)

EXCERPT_CHARS = 2000
# Any one string of a request kept as evidence (a prompt, a passage) is cut to this.
REQUEST_STRING_CHARS = 1000
REDACTED = "[redacted]"
RETRYABLE_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class LLMError(Exception):
    """A model call failed. ``permanent`` says whether trying again could help.

    ``status`` is the HTTP status when the server answered; ``body`` an
    excerpt of its answer (key removed); ``exchange`` the last attempt.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        status: int | None = None,
        body: str = "",
        exchange: Exchange | None = None,
        detail: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.permanent = permanent
        self.status = status
        self.body = body
        self.exchange = exchange

    def mentions(self, *words: str) -> bool:
        """True when the server's own error text names any of ``words`` (case-insensitive)."""
        text = f"{self.detail} {self.body}".lower()
        return any(word.lower() in text for word in words)


class DeadlinePassed(Exception):
    """Raised inside a call when the client's overall deadline passes mid-answer."""


class BudgetExceeded(LLMError):
    """The next request would take the run past one of its budgets; nothing was sent."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


class Budget(Protocol):
    def reserve(self, *, requests: int, tokens: int) -> None:
        """Reserve before sending; raise ``BudgetExceeded`` if the run cannot afford it."""

    def settle(self, *, reserved_tokens: int, used_tokens: int | None) -> None:
        """Replace a token reservation by what the server reports it used."""


class MemoryBudget:
    """A budget kept in memory, for one process (the benchmark, ad-hoc checks)."""

    def __init__(self, *, max_requests: int, max_tokens: int) -> None:
        self.max_requests = max_requests
        self.max_tokens = max_tokens
        self.requests_used = 0
        self.tokens_used = 0

    def reserve(self, *, requests: int, tokens: int) -> None:
        if self.requests_used + requests > self.max_requests:
            raise BudgetExceeded(
                f"request budget reached: {self.requests_used} of {self.max_requests} used"
            )
        if self.tokens_used + tokens > self.max_tokens:
            raise BudgetExceeded(
                f"token budget reached: {self.tokens_used} of {self.max_tokens} used, "
                f"next request may take {tokens}"
            )
        self.requests_used += requests
        self.tokens_used += tokens

    def settle(self, *, reserved_tokens: int, used_tokens: int | None) -> None:
        if used_tokens is not None:
            self.tokens_used = max(0, self.tokens_used - reserved_tokens + used_tokens)


@dataclass
class Exchange:
    """One request and its answer, as evidence: no headers, no key."""

    method: str
    url: str
    request: dict[str, Any] | None
    status: int | None = None
    latency_ms: float | None = None
    response_excerpt: str = ""
    data: Any = None
    usage: dict[str, Any] | None = None
    attempts: int = 0
    error: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)
    saw_done: bool = False
    content_type: str = ""
    retry_after: str | None = None

    def as_evidence(self) -> dict[str, Any]:
        evidence: dict[str, Any] = {
            "method": self.method,
            "url": self.url,
            "request": cap_strings(self.request),
            "status": self.status,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 1),
            "attempts": self.attempts,
            "response_excerpt": self.response_excerpt,
            "usage": self.usage,
        }
        if self.error:
            evidence["error"] = self.error
        if self.events:
            evidence["stream_events"] = len(self.events)
            evidence["stream_done"] = self.saw_done
        return evidence


def cap_text(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying how many were cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… {len(text) - limit:,} characters cut"


def cap_strings(value: Any, limit: int = REQUEST_STRING_CHARS) -> Any:
    """``value`` with every string in it, at any depth, cut by ``cap_text``."""
    if isinstance(value, str):
        return cap_text(value, limit)
    if isinstance(value, dict):
        return {k: cap_strings(v, limit) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [cap_strings(v, limit) for v in value]
    return value


def estimate_tokens(payload: dict[str, Any] | None) -> int:
    """A deliberately generous token estimate for budget reservation (4 characters a token)."""
    if not payload:
        return 1
    text = json.dumps(payload.get("messages") or payload.get("input") or "", ensure_ascii=False)
    completion = int(payload.get("max_tokens") or payload.get("max_completion_tokens") or 0)
    return len(text) // 4 + 1 + completion


@functools.lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    # Loading the CA bundle takes tens of milliseconds; one context serves every client.
    return ssl.create_default_context(cafile=certifi.where())


class AddressRefused(httpx.TransportError):
    """The endpoint's address may not be reached; nothing was sent."""


class GuardedTransport(httpx.BaseTransport):
    """Sends each request only to an address the crawler's rules allow, or ``allowed`` lists.

    The host is resolved and vetted for every request, and the connection is made to the
    address vetted (the host name still goes in ``Host``, SNI and the certificate check), so a
    name cannot be re-pointed between the check and the connection. Any port is allowed: an
    endpoint is named by an administrator, not by whoever submits a source.
    """

    def __init__(self, *, allowed: Sequence[str], verify: ssl.SSLContext) -> None:
        self._allowed = tuple(allowed)
        self._inner = httpx.HTTPTransport(verify=verify)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            target = vet(str(request.url), allowed=self._allowed, any_port=True)
        except CrawlerError as exc:
            if exc.permanent:
                raise AddressRefused(str(exc), request=request) from None
            raise httpx.ConnectError(str(exc), request=request) from None
        request.url = request.url.copy_with(host=str(target.address))
        request.extensions = {**request.extensions, "sni_hostname": target.host}
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


class LLMClient:
    """Calls one OpenAI-compatible endpoint; safe to share across threads.

    ``transport`` is for in-process servers only (the embedded model, tests' fakes); without
    one, requests go over the network through ``GuardedTransport``, which may reach non-public
    addresses only in ``allowed_networks`` (default: ``INFERENCE_ALLOWED_NETWORKS``). Proxy
    variables in the environment are ignored: a proxy would connect wherever it is asked.
    """

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 2,
        backoff: float = 0.5,
        max_retry_after: float = 30.0,
        budget: Budget | None = None,
        transport: httpx.BaseTransport | None = None,
        allowed_networks: Sequence[str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        deadline: float | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.deadline = deadline
        self._deadline_at = None if deadline is None else time.monotonic() + deadline
        self._api_key = api_key or None
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.budget = budget
        self._sleep = sleep
        headers = {"User-Agent": "Atlas-inference-tester/1", "Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        if transport is None:
            if allowed_networks is None:
                allowed_networks = settings.INFERENCE_ALLOWED_NETWORKS
            transport = GuardedTransport(allowed=allowed_networks, verify=_tls_context())
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            headers=headers,
            transport=transport,
            follow_redirects=False,
            trust_env=False,
        )

    def __repr__(self) -> str:
        return f"LLMClient(base_url={self.base_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> LLMClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the protocol -------------------------------------------------------

    def list_models(self) -> Exchange:
        return self._call("GET", "/models", None)

    def chat(self, payload: dict[str, Any]) -> Exchange:
        if payload.get("stream"):
            return self._call("POST", "/chat/completions", payload, stream=True)
        return self._call("POST", "/chat/completions", payload)

    def embeddings(self, payload: dict[str, Any]) -> Exchange:
        return self._call("POST", "/embeddings", payload)

    def moderations(self, payload: dict[str, Any]) -> Exchange:
        return self._call("POST", "/moderations", payload)

    # -- plumbing -----------------------------------------------------------

    def scrub(self, value: Any) -> Any:
        """Return ``value`` with every occurrence of the API key replaced, at any depth."""
        key = self._api_key
        if not key:
            return value
        if isinstance(value, str):
            return value.replace(key, REDACTED)
        if isinstance(value, dict):
            return {self.scrub(k): self.scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.scrub(v) for v in value]
        return value

    def _call(
        self, method: str, path: str, payload: dict[str, Any] | None, *, stream: bool = False
    ) -> Exchange:
        url = f"{self.base_url}{path}"
        exchange = Exchange(method=method, url=url, request=self.scrub(payload))
        reserved = estimate_tokens(payload) if payload is not None else 0
        attempt = 0
        while True:
            attempt += 1
            remaining = self._remaining()
            if remaining is not None and remaining <= 0:
                raise self._deadline_error(method, path, exchange)
            if self.budget is not None:
                self.budget.reserve(requests=1, tokens=reserved)
            exchange.attempts = attempt
            started = time.perf_counter()
            try:
                if stream:
                    self._send_stream(method, url, payload, exchange, remaining)
                else:
                    self._send(method, url, payload, exchange, remaining)
            except AddressRefused as exc:
                exchange.latency_ms = (time.perf_counter() - started) * 1000
                exchange.error = f"address refused: {exc}"
                error = LLMError(
                    f"{method} {path} was not sent: {exc} Model servers on non-public "
                    "addresses are reached only when INFERENCE_ALLOWED_NETWORKS lists them.",
                    permanent=True,
                    exchange=exchange,
                )
            except (DeadlinePassed, httpx.TimeoutException) as exc:
                exchange.latency_ms = (time.perf_counter() - started) * 1000
                if isinstance(exc, DeadlinePassed) or self._remaining() == 0:
                    if self.budget is not None:
                        self.budget.settle(reserved_tokens=reserved, used_tokens=0)
                    raise self._deadline_error(method, path, exchange) from None
                exchange.error = "timeout"
                error = LLMError(
                    f"{method} {path} timed out after {exchange.latency_ms / 1000:.1f}s",
                    permanent=False,
                    exchange=exchange,
                )
            except httpx.HTTPError as exc:
                exchange.latency_ms = (time.perf_counter() - started) * 1000
                exchange.error = self.scrub(f"{type(exc).__name__}: {exc}")
                error = LLMError(
                    f"{method} {path} failed: {exchange.error}", permanent=False, exchange=exchange
                )
            else:
                exchange.latency_ms = (time.perf_counter() - started) * 1000
                error = self._error_for(method, path, exchange)
                if error is None:
                    if self.budget is not None:
                        self.budget.settle(
                            reserved_tokens=reserved, used_tokens=_total_tokens(exchange.usage)
                        )
                    logger.debug("%s %s -> %s", method, url, exchange.status)
                    return exchange
            if self.budget is not None:
                # A failed attempt is charged its request but (usually) no tokens.
                self.budget.settle(reserved_tokens=reserved, used_tokens=0)
            logger.info("%s %s failed (attempt %d): %s", method, url, attempt, error.message)
            if error.permanent or attempt > self.max_retries:
                raise error
            wait = self._wait_before_retry(attempt, exchange)
            remaining = self._remaining()
            if wait is not None and remaining is not None and wait >= remaining:
                raise self._deadline_error(method, path, exchange, after=error.message)
            if wait is None:
                raise LLMError(
                    f"{error.message}; the server asks to wait longer than "
                    f"{self.max_retry_after:.0f}s",
                    permanent=False,
                    status=error.status,
                    body=error.body,
                    exchange=exchange,
                )
            self._sleep(wait)

    def _remaining(self) -> float | None:
        """Seconds left before the deadline (0 once it has passed); None without one."""
        if self._deadline_at is None:
            return None
        return max(0.0, self._deadline_at - time.monotonic())

    def _deadline_error(
        self, method: str, path: str, exchange: Exchange, *, after: str = ""
    ) -> LLMError:
        exchange.error = f"deadline of {self.deadline:g}s passed"
        message = f"{method} {path} was stopped at the deadline of {self.deadline:g}s"
        if after:
            message += f", after: {after}"
        # Permanent: the deadline counts the retries too, so none is left to try.
        return LLMError(message, permanent=True, exchange=exchange)

    def _timeout(self, remaining: float | None) -> httpx.Timeout:
        limit = self.timeout if remaining is None else min(self.timeout, remaining)
        return httpx.Timeout(limit, connect=min(limit, 10.0))

    def _chunks(self, response: httpx.Response) -> Iterator[bytes]:
        """The body as it arrives, stopped when the deadline passes between two pieces."""
        for chunk in response.iter_bytes():
            if self._remaining() == 0:
                raise DeadlinePassed
            yield chunk

    def _wait_before_retry(self, attempt: int, exchange: Exchange) -> float | None:
        retry_after = retry_after_seconds(exchange.retry_after)
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        return self.backoff * (2 ** (attempt - 1)) * (1 + random.random() / 4)

    def _send(
        self,
        method: str,
        url: str,
        payload: dict[str, Any] | None,
        exchange: Exchange,
        remaining: float | None,
    ) -> None:
        timeout = self._timeout(remaining)
        with self._http.stream(method, url, json=payload, timeout=timeout) as response:
            self._record(response, b"".join(self._chunks(response)), exchange)

    def _send_stream(
        self,
        method: str,
        url: str,
        payload: dict[str, Any] | None,
        exchange: Exchange,
        remaining: float | None,
    ) -> None:
        timeout = self._timeout(remaining)
        with self._http.stream(method, url, json=payload, timeout=timeout) as response:
            exchange.content_type = response.headers.get("content-type", "")
            if response.status_code >= 400 or "text/event-stream" not in exchange.content_type:
                self._record(response, b"".join(self._chunks(response)), exchange)
                return
            exchange.status = response.status_code
            exchange.events = []
            seen: list[str] = []
            for line in _lines(self._chunks(response)):
                seen.append(line)
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    exchange.saw_done = True
                    break
                try:
                    event = json.loads(data)
                except json.JSONDecodeError:
                    exchange.events.append({"unparsed": data[:200]})
                    continue
                exchange.events.append(event)
                if isinstance(event, dict) and event.get("usage"):
                    exchange.usage = event["usage"]
            exchange.response_excerpt = cap_text(self.scrub("\n".join(seen)), EXCERPT_CHARS)
            exchange.data = None

    def _record(self, response: httpx.Response, body: bytes, exchange: Exchange) -> None:
        exchange.status = response.status_code
        exchange.content_type = response.headers.get("content-type", "")
        exchange.retry_after = response.headers.get("retry-after")
        text = body.decode("utf-8", errors="replace")
        exchange.response_excerpt = cap_text(self.scrub(text), EXCERPT_CHARS)
        try:
            exchange.data = self.scrub(json.loads(text)) if text else None
        except json.JSONDecodeError:
            exchange.data = None
        if isinstance(exchange.data, dict) and isinstance(exchange.data.get("usage"), dict):
            exchange.usage = exchange.data["usage"]

    def _error_for(self, method: str, path: str, exchange: Exchange) -> LLMError | None:
        status = exchange.status or 0
        if status < 400:
            if status >= 300:
                return LLMError(
                    f"{method} {path} answered a redirect ({status}); check the base URL",
                    permanent=True,
                    status=status,
                    body=exchange.response_excerpt,
                    exchange=exchange,
                )
            return None
        detail = _error_message(exchange.data) or exchange.response_excerpt[:300]
        exchange.error = f"HTTP {status}: {detail}"
        if status in (401, 403):
            message = f"{method} {path} was refused ({status}): check the endpoint's API key"
        else:
            message = f"{method} {path} answered {status}: {detail}"
        return LLMError(
            message,
            permanent=status not in RETRYABLE_STATUSES,
            status=status,
            body=exchange.response_excerpt,
            exchange=exchange,
            detail=detail,
        )


def _lines(chunks: Iterator[bytes]) -> Iterator[str]:
    """Server-sent event lines from raw pieces of the body (LF or CRLF ends a line)."""
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        *complete, buffer = buffer.split(b"\n")
        for line in complete:
            yield line.rstrip(b"\r").decode("utf-8", errors="replace")
    if buffer:
        yield buffer.rstrip(b"\r").decode("utf-8", errors="replace")


def _error_message(data: Any) -> str:
    if not isinstance(data, dict):
        return ""
    error = data.get("error", data)
    if isinstance(error, dict):
        for key in ("message", "detail", "msg"):
            if isinstance(error.get(key), str):
                return error[key]
        return json.dumps(error)[:300]
    if isinstance(error, str):
        return error
    detail = data.get("detail") or data.get("message")
    return detail if isinstance(detail, str) else json.dumps(data)[:300]


def _total_tokens(usage: dict[str, Any] | None) -> int | None:
    if not usage:
        return None
    total = usage.get("total_tokens")
    if isinstance(total, int):
        return total
    parts = [usage.get("prompt_tokens"), usage.get("completion_tokens")]
    return sum(p for p in parts if isinstance(p, int)) or None
