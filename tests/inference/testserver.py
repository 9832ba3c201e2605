"""A small but faithful OpenAI-compatible server on 127.0.0.1, for tests and the benchmark.

It speaks the parts of the protocol the probes use — ``GET /v1/models``,
``POST /v1/chat/completions`` (tools and ``tool_choice``, ``response_format``
``json_object`` / ``json_schema``, ``stream`` as server-sent events, ``usage``,
``finish_reason: length``), ``/v1/embeddings`` and Mistral's ``/v1/moderations``
— and lets a test decide, per served model, what is supported and how an
unsupported feature is treated: refused with a 400 naming it, silently
ignored, or a 500 naming it. Faults (401, 404, 429 with ``Retry-After``, 500,
slow answers) can be queued per path. Every request is recorded.

Nothing here reaches beyond the loopback address it binds.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class ServedModel:
    """One model the server serves and what it can do.

    ``unsupported`` is how a feature it lacks is treated: ``"reject"`` (400
    naming the parameter), ``"ignore"`` (answered as if it were not asked) or
    ``"crash"`` (500 naming the parameter). ``json_reply``, when set, is the
    answer to any JSON-formatted request.
    """

    id: str
    aliases: list[str] = field(default_factory=list)
    tools: bool = True
    auto_tools: bool = True
    named_tool_choice: bool = True
    json_mode: bool = True
    json_schema: bool = True
    schema_faithful: bool = True
    stream: bool = True
    embedding_dim: int | None = None
    moderation: bool = False
    context_window: int = 8192
    over_context: str = "refuse"
    unsupported: str = "reject"
    card: dict[str, Any] = field(default_factory=dict)
    reply: str = "OK, the test server heard you."
    json_reply: Any = None


@dataclass
class Fault:
    path: str
    status: int = 500
    times: int = 1
    retry_after: str | None = None
    delay: float = 0.0
    message: str = "The server had an error while processing your request."


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    at: float


def count_tokens(text: str) -> int:
    """The server's tokenizer: one token per whitespace-separated word."""
    return len(text.split())


def instance_of(schema: dict[str, Any]) -> Any:
    """A small value that validates against the (simple) JSON schema given."""
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        wanted = schema.get("required", list(props))
        return {name: instance_of(props.get(name, {})) for name in wanted}
    if kind == "array":
        return [instance_of(schema.get("items", {}))]
    if kind == "integer":
        return max(1, int(schema.get("minimum", 1)))
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return "Paris"


class ProtocolServer:
    """Start with ``start()`` (or as a context manager); ``base_url`` ends in ``/v1``."""

    def __init__(
        self,
        *,
        models: list[ServedModel],
        api_keys: set[str] | None = None,
        accept_any_model: bool = False,
        echo_auth_in_errors: bool = False,
        delay: float = 0.0,
        card_style: str = "openai",
    ) -> None:
        self.models = {m.id: m for m in models}
        self.api_keys = api_keys
        self.accept_any_model = accept_any_model
        self.echo_auth_in_errors = echo_auth_in_errors
        self.delay = delay
        self.card_style = card_style
        self.requests: list[Recorded] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- control --------------------------------------------------------------

    def start(self) -> ProtocolServer:
        server = self

        class Handler(_Handler):
            owner = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> ProtocolServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "start the server first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def fail_next(self, path: str, **kwargs: Any) -> None:
        """Queue a fault for the next request(s) to ``path`` (e.g. ``/v1/chat/completions``)."""
        with self._lock:
            self._faults.append(Fault(path=path, **kwargs))

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self.requests.clear()

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.path == path:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _model(self, name: str | None) -> ServedModel | None:
        for model in self.models.values():
            if name == model.id or name in model.aliases:
                return model
        if self.accept_any_model and self.models:
            return next(iter(self.models.values()))
        return None

    # -- the protocol ------------------------------------------------------------

    def models_list(self) -> dict[str, Any]:
        data = []
        for model in self.models.values():
            card: dict[str, Any] = {
                "id": model.id,
                "object": "model",
                "created": 1700000000,
                "owned_by": "atlas-test",
            }
            if self.card_style == "mistral":
                card["aliases"] = model.aliases
                card["max_context_length"] = model.context_window
                card["capabilities"] = {
                    "completion_chat": True,
                    "function_calling": model.tools,
                    "vision": False,
                }
            card.update(model.card)
            data.append(card)
        return {"object": "list", "data": data}

    def chat(self, body: dict[str, Any]) -> tuple[int, Any]:
        model = self._model(body.get("model"))
        if model is None:
            return 404, _error(
                f"The model `{body.get('model')}` does not exist.", "model_not_found", "model"
            )
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return 400, _error("'messages' must be a non-empty list.", "invalid_value", "messages")
        prompt_text = " ".join(str(m.get("content") or "") for m in messages)
        prompt_tokens = count_tokens(prompt_text) + 3 * len(messages)
        max_tokens = int(body.get("max_tokens") or 256)
        if prompt_tokens + max_tokens > model.context_window:
            if model.over_context == "refuse":
                return 400, _error(
                    f"This model's maximum context length is {model.context_window} tokens. "
                    f"However, you requested {prompt_tokens + max_tokens} tokens.",
                    "context_length_exceeded",
                    "messages",
                )
            prompt_tokens = max(1, model.context_window - max_tokens)

        tools = body.get("tools")
        tool_choice = body.get("tool_choice", "auto" if tools else None)
        response_format = body.get("response_format") or {}
        format_type = response_format.get("type", "text")
        for wanted, supported, param in (
            (bool(tools), model.tools, "tools"),
            (format_type == "json_object", model.json_mode, "response_format"),
            (format_type == "json_schema", model.json_schema, "response_format"),
            (bool(body.get("stream")), model.stream, "stream"),
        ):
            if wanted and not supported:
                if model.unsupported == "reject":
                    return 400, _error(
                        f"'{param}' is not supported by this model.", "unsupported_parameter", param
                    )
                if model.unsupported == "crash":
                    return 500, _error(
                        f"Internal error while handling '{param}'.", "internal_error", param
                    )
        if tools and isinstance(tool_choice, dict) and not model.named_tool_choice:
            return 400, _error(
                "Invalid tool_choice: expected one of 'auto', 'none', 'any', 'required'.",
                "invalid_value",
                "tool_choice",
            )
        message: dict[str, Any] = {"role": "assistant", "content": None}
        finish = "stop"
        forced = tool_choice not in (None, "auto", "none")
        if tools and model.tools and (forced or (tool_choice == "auto" and model.auto_tools)):
            function = tools[0]["function"]
            if isinstance(tool_choice, dict):
                name = tool_choice.get("function", {}).get("name")
                function = next(
                    (t["function"] for t in tools if t["function"]["name"] == name), function
                )
            arguments = json.dumps(instance_of(function.get("parameters") or {}))
            message["tool_calls"] = [
                {
                    "id": f"call_{uuid.uuid4().hex[:12]}",
                    "type": "function",
                    "function": {"name": function["name"], "arguments": arguments},
                }
            ]
            finish = "tool_calls"
            completion_tokens = count_tokens(arguments) + 5
        else:
            if format_type.startswith("json") and model.json_reply is not None:
                text = json.dumps(model.json_reply)
            elif format_type == "json_schema" and model.json_schema:
                schema = (response_format.get("json_schema") or {}).get("schema") or {}
                value = instance_of(schema) if model.schema_faithful else {"answer": "ok"}
                text = json.dumps(value)
            elif format_type == "json_object" and model.json_mode:
                text = json.dumps({"answer": "ok"})
            else:
                text = model.reply
            words = text.split(" ")
            if len(words) > max_tokens:
                words = words[:max_tokens]
                finish = "length"
            message["content"] = " ".join(words)
            completion_tokens = len(words)
        return 200, {
            "id": f"chatcmpl-{uuid.uuid4().hex[:16]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model.id,
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    def embeddings(self, body: dict[str, Any]) -> tuple[int, Any]:
        model = self._model(body.get("model"))
        if model is None:
            return 404, _error(
                f"The model `{body.get('model')}` does not exist.", "model_not_found", "model"
            )
        if not model.embedding_dim:
            return 400, _error("This model does not support embeddings.", "invalid_model", "model")
        inputs = body.get("input")
        if isinstance(inputs, str):
            inputs = [inputs]
        if not isinstance(inputs, list) or not inputs:
            return 400, _error("'input' must be a string or a list.", "invalid_value", "input")
        data = []
        tokens = 0
        for index, text in enumerate(inputs):
            tokens += count_tokens(str(text))
            seed = sum(map(ord, str(text))) or 1
            vector = [((seed * (i + 7)) % 997) / 997 - 0.5 for i in range(model.embedding_dim)]
            data.append({"object": "embedding", "index": index, "embedding": vector})
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        return 200, {"object": "list", "model": model.id, "data": data, "usage": usage}

    def moderations(self, body: dict[str, Any]) -> tuple[int, Any]:
        model = self._model(body.get("model"))
        if model is None or not model.moderation:
            return 404, {"detail": "Not Found"}
        inputs = body.get("input")
        if isinstance(inputs, str):
            inputs = [inputs]
        results = []
        for text in inputs or []:
            violent = "hurt" in str(text).lower()
            results.append(
                {
                    "categories": {
                        "violence_and_threats": violent,
                        "hate_and_discrimination": False,
                    },
                    "category_scores": {
                        "violence_and_threats": 0.93 if violent else 0.01,
                        "hate_and_discrimination": 0.01,
                    },
                }
            )
        return 200, {"id": uuid.uuid4().hex, "model": model.id, "results": results}


def _error(message: str, code: str, param: str | None = None) -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "type": "invalid_request_error",
            "param": param,
            "code": code,
        }
    }


class _Handler(BaseHTTPRequestHandler):
    owner: ProtocolServer
    protocol_version = "HTTP/1.1"
    server_version = "AtlasProtocolServer/1"
    # Headers and body go out in separate writes; with Nagle on, each answer
    # waits for the client's delayed ACK (about 40 ms on Linux loopback).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        owner = self.owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = None
        path = self.path.split("?", 1)[0]
        with owner._lock:
            owner.requests.append(
                Recorded(method, path, dict(self.headers.items()), body, time.time())
            )
        if owner.delay:
            time.sleep(owner.delay)
        fault = owner._take_fault(path)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return self._json(fault.status, _error(fault.message, "fault"), headers)
        if owner.api_keys is not None:
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in owner.api_keys:
                message = "Incorrect API key provided."
                if owner.echo_auth_in_errors:
                    message += f" You sent: {auth}"
                return self._json(401, {"error": {"message": message, "type": "auth_error"}})
        if method == "GET" and path == "/v1/models":
            return self._json(200, owner.models_list())
        if method == "POST" and path in (
            "/v1/chat/completions",
            "/v1/embeddings",
            "/v1/moderations",
        ):
            if not isinstance(body, dict):
                return self._json(400, _error("The body must be a JSON object.", "invalid_json"))
            if path == "/v1/chat/completions":
                status, payload = owner.chat(body)
                model = owner._model(body.get("model"))
                if status == 200 and body.get("stream") and model is not None and model.stream:
                    return self._stream(payload, body)
                return self._json(status, payload)
            handler = owner.embeddings if path == "/v1/embeddings" else owner.moderations
            status, payload = handler(body)
            return self._json(status, payload)
        return self._json(404, {"detail": "Not Found"})

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, completion: dict[str, Any], body: dict[str, Any]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        choice = completion["choices"][0]
        base = {k: completion[k] for k in ("id", "created", "model")}
        base["object"] = "chat.completion.chunk"

        def send(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> None:
            chunk = {
                **base,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                **extra,
            }
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()

        send({"role": "assistant", "content": ""})
        message = choice["message"]
        if message.get("tool_calls"):
            send({"tool_calls": [{"index": 0, **message["tool_calls"][0]}]})
        else:
            for i, word in enumerate((message.get("content") or "").split(" ")):
                send({"content": word if i == 0 else f" {word}"})
        send({}, choice["finish_reason"])
        if (body.get("stream_options") or {}).get("include_usage"):
            chunk = {**base, "choices": [], "usage": completion["usage"]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
