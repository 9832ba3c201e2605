"""Probes: from a capability claim key to a behavioural test through the client seam.

A probe reports a *finding* about the endpoint — the feature works
(``supported``), does not (``unsupported``), could not be told
(``inconclusive``), the call failed (``error``) — with every exchange as
evidence. For number claims (context window, embedding dimension) the
finding is about the claimed number. ``verdict`` turns a finding and the
claimed value into a Verification outcome.

Rules that keep findings honest:
- only a well-formed protocol answer may refute: a 2xx that is not JSON or not
  the protocol's shape (an HTML page, a model list without a list), or a stream
  that closes without chunks or without ``[DONE]``, is inconclusive, with why;
- an error (timeout, the probe's deadline, connection failure, 401/403, 429, a
  5xx that does not name the feature) is never a contradiction;
- a refusal (4xx, or 5xx) whose JSON error names the parameter under test
  refutes it; a 4xx that names something else, or that is not a JSON error, is
  inconclusive;
- ``model_listed`` is decided from the model list only, because a server with
  one loaded model may answer to any model name;
- an answer cut off by ``finish_reason: length`` is inconclusive where the
  verdict depends on its content (JSON, schema, tool call); for
  ``chat_completion`` a cut-off answer with text still shows that chat works;
- forced tool use ("the API accepts tools") and tool choice under ``auto``
  ("the model picks the tool itself") are separate findings;
- where the model list declares a capability or context length, it is kept
  beside the behavioural finding and disagreements are flagged.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import jsonschema

from inference.client import BudgetExceeded, Exchange, LLMClient, LLMError, cap_text

PROBE_VERSION = 1

SUPPORTED = "supported"
UNSUPPORTED = "unsupported"
INCONCLUSIVE = "inconclusive"
ERROR = "error"
NOT_TESTABLE = "not_testable"
NOT_RUN = "not_run"

CONFIRMED = "confirmed"
CONTRADICTED = "contradicted"


@dataclass
class ProbeContext:
    """What a probe needs: the client, the model id to ask, the claimed value, options."""

    client: LLMClient
    model: str
    claim_flag: str = ""
    claim_number: Decimal | None = None
    allow_costly: bool = False
    model_cards: dict[str, Any] | None = None

    def card(self) -> dict[str, Any] | None:
        """The model's entry in the endpoint's model list, fetched at most once per context."""
        if self.model_cards is None:
            self.model_cards = {}
            try:
                exchange = self.client.list_models()
            except BudgetExceeded:
                raise
            except LLMError:
                return None
            for entry in _model_entries(exchange.data):
                for name in _names(entry):
                    self.model_cards.setdefault(name, entry)
        return self.model_cards.get(self.model)


@dataclass
class ProbeResult:
    key: str
    finding: str
    note: str
    exchanges: list[Exchange] = field(default_factory=list)
    findings: dict[str, Any] = field(default_factory=dict)
    measured: Any = None
    declared: Any = None
    disagreement: bool = False

    @property
    def stored(self) -> bool:
        """Whether this result becomes a Verification (not for untestable or skipped probes)."""
        return self.finding not in (NOT_TESTABLE, NOT_RUN)

    def usage(self) -> dict[str, int]:
        total = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
        for exchange in self.exchanges:
            for name in total:
                value = (exchange.usage or {}).get(name)
                if isinstance(value, int):
                    total[name] += value
        if not total["total_tokens"]:
            total["total_tokens"] = total["prompt_tokens"] + total["completion_tokens"]
        return total


Probe = Callable[[ProbeContext], ProbeResult]
PROBES: dict[str, Probe] = {}
# Keys whose value is a number the probe checks, with the unit it is read in.
NUMBER_KEYS = {"context_window": "tokens", "embedding_dimension": "dimensions"}


def register(key: str) -> Callable[[Probe], Probe]:
    def decorate(function: Probe) -> Probe:
        PROBES[key] = function
        return function

    return decorate


def not_testable(key: str) -> ProbeResult:
    return ProbeResult(
        key,
        NOT_TESTABLE,
        f"'{key}' is not testable by calling the model (licence, data use and other "
        "contractual terms are checked against their sources).",
    )


def run_probe(key: str, context: ProbeContext) -> ProbeResult:
    """Run the probe for claim key ``key``; ``BudgetExceeded`` propagates to stop the run."""
    probe = PROBES.get(key)
    if probe is None:
        return not_testable(key)
    result = probe(context)
    result.key = key
    return result


def verdict(result: ProbeResult, *, claim_flag: str, claim_number: Decimal | None) -> str:
    """The Verification outcome for a finding against the claimed value."""
    if result.finding == ERROR:
        return ERROR
    if result.finding not in (SUPPORTED, UNSUPPORTED):
        return INCONCLUSIVE
    works = result.finding == SUPPORTED
    if result.key in NUMBER_KEYS or claim_number is not None:
        return CONFIRMED if works else CONTRADICTED
    if claim_flag == "yes":
        return CONFIRMED if works else CONTRADICTED
    if claim_flag == "no":
        return CONTRADICTED if works else CONFIRMED
    if claim_flag == "partial":
        return CONFIRMED if works else INCONCLUSIVE
    return INCONCLUSIVE


# -- helpers ------------------------------------------------------------------


def _model_entries(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        items = data["data"]
    elif isinstance(data, dict) and isinstance(data.get("models"), list):
        items = data["models"]
    elif isinstance(data, list):
        items = data
    else:
        return []
    return [item for item in items if isinstance(item, dict)]


def _names(entry: dict[str, Any]) -> list[str]:
    names = [entry.get("id"), entry.get("name"), entry.get("model")]
    aliases = entry.get("aliases")
    if isinstance(aliases, list):
        names.extend(aliases)
    return [n for n in names if isinstance(n, str) and n]


def _protocol_problem(exchange: Exchange, shape: str) -> str:
    """Why a 2xx ``exchange`` is not a well-formed protocol answer of ``shape`` ("chat",
    "models", "embeddings" or "moderations"); "" when it is one. Only a well-formed answer
    may refute a claim."""
    data = exchange.data
    if data is None:
        kind = exchange.content_type.split(";")[0].strip() or "no content type"
        return f"the {exchange.status} answer is not JSON ({kind}), so it is not the protocol's"
    if shape == "chat":
        choices = data.get("choices") if isinstance(data, dict) else None
        if not (
            isinstance(choices, list)
            and choices
            and isinstance(choices[0], dict)
            and isinstance(choices[0].get("message"), dict)
        ):
            return "the answer is JSON but not a chat completion (no choices[0].message)"
        return ""
    if shape == "models" and isinstance(data, list):
        return ""
    lists = {"models": ("data", "models"), "embeddings": ("data",), "moderations": ("results",)}
    names = lists[shape]
    if not (isinstance(data, dict) and any(isinstance(data.get(n), list) for n in names)):
        return f"the answer is JSON but not the protocol's {shape} answer (no {names[0]} list)"
    return ""


def _off_protocol(key: str, exchange: Exchange, shape: str) -> ProbeResult | None:
    """An inconclusive result when ``exchange`` is not a well-formed answer of ``shape``."""
    problem = _protocol_problem(exchange, shape)
    if not problem:
        return None
    return ProbeResult(key, INCONCLUSIVE, f"{problem}; it neither shows nor refutes", [exchange])


def _failure(key: str, error: LLMError, *feature_words: str) -> ProbeResult:
    """Classify a failed call: refusal naming the feature, error, or inconclusive.

    A refusal refutes only when the server's answer is a JSON error: an HTML error page
    from a proxy may mention any word.
    """
    if isinstance(error, BudgetExceeded):
        raise error
    exchanges = [error.exchange] if error.exchange else []
    status = error.status
    if status is None:
        return ProbeResult(key, ERROR, f"no answer: {error.message}", exchanges)
    if status in (401, 403):
        return ProbeResult(key, ERROR, error.message, exchanges)
    if status in (408, 429):
        return ProbeResult(key, ERROR, f"rate limited or timed out: {error.message}", exchanges)
    if status == 404 and error.mentions("model") and not error.mentions(*feature_words):
        return ProbeResult(
            key, INCONCLUSIVE, f"the model is not served here: {error.message}", exchanges
        )
    if not _protocol_error(error):
        return ProbeResult(
            key,
            INCONCLUSIVE if status < 500 else ERROR,
            f"answered {status} without a JSON error, so it neither shows nor refutes: "
            f"{error.message}",
            exchanges,
        )
    names_feature = bool(feature_words) and error.mentions(*feature_words)
    if status >= 500:
        if names_feature:
            return ProbeResult(
                key, UNSUPPORTED, f"the server fails on the feature: {error.message}", exchanges
            )
        return ProbeResult(key, ERROR, f"server error: {error.message}", exchanges)
    if names_feature:
        return ProbeResult(key, UNSUPPORTED, f"refused: {error.message}", exchanges)
    return ProbeResult(key, INCONCLUSIVE, f"refused for another reason: {error.message}", exchanges)


def _protocol_error(error: LLMError) -> bool:
    """Whether the server answered the failed call with a JSON error (the protocol's own)."""
    return error.exchange is not None and error.exchange.data is not None


def _choice(exchange: Exchange) -> dict[str, Any]:
    data = exchange.data if isinstance(exchange.data, dict) else {}
    choices = data.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        return choices[0]
    return {}


def _content(choice: dict[str, Any]) -> str | None:
    message = choice.get("message")
    if isinstance(message, dict) and isinstance(message.get("content"), str):
        return message["content"]
    return None


def _chat(context: ProbeContext, **payload: Any) -> Exchange:
    body = {"model": context.model, "temperature": 0, **payload}
    return context.client.chat(body)


def _declared_flag(context: ProbeContext, capability: str) -> bool | None:
    card = context.card()
    capabilities = (card or {}).get("capabilities")
    if isinstance(capabilities, dict) and isinstance(capabilities.get(capability), bool):
        return capabilities[capability]
    return None


def _with_declared(result: ProbeResult, declared: bool | None) -> ProbeResult:
    result.declared = declared
    if declared is not None and result.finding in (SUPPORTED, UNSUPPORTED):
        result.disagreement = declared != (result.finding == SUPPORTED)
        if result.disagreement:
            result.note += (
                f" The model list declares it {'supported' if declared else 'unsupported'}, "
                "which disagrees with the behaviour."
            )
    return result


def _parse_json(text: str | None) -> tuple[Any, str]:
    if text is None:
        return None, "the reply has no text content"
    stripped = text.strip()
    # A fenced block is still not JSON mode: the reply must parse as it is.
    try:
        return json.loads(stripped), ""
    except json.JSONDecodeError as exc:
        return None, f"the reply does not parse as JSON ({exc.msg} at {exc.pos})"


# -- the probes ---------------------------------------------------------------


@register("api_available")
def probe_api_available(context: ProbeContext) -> ProbeResult:
    try:
        exchange = context.client.list_models()
    except LLMError as error:
        result = _failure("api_available", error)
        if result.finding == UNSUPPORTED:
            result.finding = INCONCLUSIVE
        return result
    off = _off_protocol("api_available", exchange, "models")
    if off is not None:
        return off
    entries = _model_entries(exchange.data)
    return ProbeResult(
        "api_available",
        SUPPORTED,
        f"the API answered its model list with {len(entries)} model(s)",
        [exchange],
        measured=len(entries),
    )


@register("model_listed")
def probe_model_listed(context: ProbeContext) -> ProbeResult:
    try:
        exchange = context.client.list_models()
    except LLMError as error:
        return _failure("model_listed", error)
    off = _off_protocol("model_listed", exchange, "models")
    if off is not None:
        return off
    entries = _model_entries(exchange.data)
    served = sorted({name for entry in entries for name in _names(entry)})
    context.model_cards = {name: e for e in entries for name in _names(e)}
    if context.model in served:
        return ProbeResult(
            "model_listed",
            SUPPORTED,
            f"'{context.model}' is in the model list (ids and aliases)",
            [exchange],
            measured=served[:50],
        )
    return ProbeResult(
        "model_listed",
        UNSUPPORTED,
        f"'{context.model}' is not among the {len(served)} listed ids and aliases; "
        "a successful chat would not prove otherwise",
        [exchange],
        measured=served[:50],
    )


@register("chat_completion")
def probe_chat_completion(context: ProbeContext) -> ProbeResult:
    messages = [{"role": "user", "content": "Reply with the single word: ready"}]
    try:
        exchange = _chat(context, messages=messages, max_tokens=16)
    except LLMError as error:
        return _with_declared(
            _failure("chat_completion", error, "chat"), _declared_flag(context, "completion_chat")
        )
    off = _off_protocol("chat_completion", exchange, "chat")
    if off is not None:
        return off
    choice = _choice(exchange)
    content = _content(choice)
    finish = choice.get("finish_reason")
    if content:
        result = ProbeResult(
            "chat_completion",
            SUPPORTED,
            f"a chat completion came back (finish_reason {finish!r})",
            [exchange],
            measured=content[:200],
        )
    elif finish == "length":
        result = ProbeResult(
            "chat_completion", INCONCLUSIVE, "the answer was cut off before any text", [exchange]
        )
    else:
        result = ProbeResult(
            "chat_completion",
            INCONCLUSIVE,
            f"a chat completion came back without text (finish_reason {finish!r})",
            [exchange],
        )
    return _with_declared(result, _declared_flag(context, "completion_chat"))


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "City name"}},
            "required": ["city"],
        },
    },
}
TOOL_WORDS = ("tools", "tool_choice", "function")


def _tool_call_check(exchange: Exchange) -> tuple[bool, str]:
    choice = _choice(exchange)
    message = choice.get("message") if isinstance(choice.get("message"), dict) else {}
    calls = message.get("tool_calls")
    if not isinstance(calls, list) or not calls:
        return False, "no tool call in the reply"
    call = calls[0] if isinstance(calls[0], dict) else {}
    function = call.get("function") if isinstance(call.get("function"), dict) else {}
    if function.get("name") != "get_weather":
        return False, f"the tool call names {function.get('name')!r}, not 'get_weather'"
    try:
        arguments = json.loads(function.get("arguments") or "")
    except (TypeError, json.JSONDecodeError):
        return False, "the tool call's arguments are not JSON"
    if not isinstance(arguments, dict):
        return False, "the tool call's arguments are not a JSON object"
    try:
        jsonschema.validate(arguments, WEATHER_TOOL["function"]["parameters"])
    except jsonschema.ValidationError as exc:
        return False, f"the tool call's arguments do not match the schema: {exc.message}"
    return True, "a well-formed get_weather call"


@register("function_calling")
def probe_function_calling(context: ProbeContext) -> ProbeResult:
    messages = [{"role": "user", "content": "What is the weather in Paris right now?"}]
    findings: dict[str, Any] = {}
    exchanges: list[Exchange] = []
    forced_choice: Any = {"type": "function", "function": {"name": "get_weather"}}
    try:
        try:
            forced = _chat(
                context,
                messages=messages,
                tools=[WEATHER_TOOL],
                tool_choice=forced_choice,
                max_tokens=64,
            )
        except LLMError as error:
            # Some APIs take only "required" (Mistral also "any") rather than a named function.
            if error.status == 400 and error.mentions("tool_choice"):
                forced_choice = "required"
                forced = _chat(
                    context,
                    messages=messages,
                    tools=[WEATHER_TOOL],
                    tool_choice=forced_choice,
                    max_tokens=64,
                )
            else:
                raise
    except LLMError as error:
        result = _failure("function_calling", error, *TOOL_WORDS)
        result.findings = {"accepts_tools": result.finding, "chooses_tool": NOT_RUN}
        return _with_declared(result, _declared_flag(context, "function_calling"))
    off = _off_protocol("function_calling", forced, "chat")
    if off is not None:
        off.findings = {"accepts_tools": INCONCLUSIVE, "chooses_tool": NOT_RUN}
        return off
    exchanges.append(forced)
    ok, why = _tool_call_check(forced)
    finish = _choice(forced).get("finish_reason")
    if ok:
        findings["accepts_tools"] = SUPPORTED
    elif finish == "length":
        findings["accepts_tools"] = INCONCLUSIVE
        why += " (cut off by finish_reason length)"
    else:
        findings["accepts_tools"] = UNSUPPORTED
    forced_note = f"forced tool choice ({json.dumps(forced_choice)}): {why}"

    try:
        auto = _chat(
            context,
            messages=[
                {"role": "user", "content": "Use the tool to get the weather in Paris right now."}
            ],
            tools=[WEATHER_TOOL],
            tool_choice="auto",
            max_tokens=64,
        )
    except LLMError as error:
        auto_result = _failure("function_calling", error, *TOOL_WORDS)
        findings["chooses_tool"] = auto_result.finding
        exchanges.extend(auto_result.exchanges)
        auto_note = f"tool_choice auto: {auto_result.note}"
    else:
        exchanges.append(auto)
        auto_ok, auto_why = _tool_call_check(auto)
        auto_problem = _protocol_problem(auto, "chat")
        if auto_problem:
            findings["chooses_tool"] = INCONCLUSIVE
            auto_why = auto_problem
        elif auto_ok:
            findings["chooses_tool"] = SUPPORTED
        elif _choice(auto).get("finish_reason") == "length":
            findings["chooses_tool"] = INCONCLUSIVE
        else:
            findings["chooses_tool"] = UNSUPPORTED
        auto_note = f"tool_choice auto: {auto_why}"
    result = ProbeResult(
        "function_calling",
        findings["accepts_tools"],
        f"{forced_note}; {auto_note}. The verdict follows the forced call: "
        "whether the API accepts tools, not whether this model picks them by itself.",
        exchanges,
        findings=findings,
    )
    return _with_declared(result, _declared_flag(context, "function_calling"))


@register("json_mode")
def probe_json_mode(context: ProbeContext) -> ProbeResult:
    messages = [
        {"role": "system", "content": "You reply with a JSON object only."},
        {
            "role": "user",
            "content": 'Reply with this JSON object and nothing else: {"answer": "ok"}',
        },
    ]
    try:
        exchange = _chat(
            context, messages=messages, response_format={"type": "json_object"}, max_tokens=48
        )
    except LLMError as error:
        return _failure("json_mode", error, "response_format", "json")
    off = _off_protocol("json_mode", exchange, "chat")
    if off is not None:
        return off
    choice = _choice(exchange)
    value, problem = _parse_json(_content(choice))
    if not problem and isinstance(value, dict):
        return ProbeResult(
            "json_mode", SUPPORTED, "the reply parses as a JSON object", [exchange], measured=value
        )
    if not problem:
        problem = f"the reply is JSON but a {type(value).__name__}, not an object"
    if choice.get("finish_reason") == "length":
        return ProbeResult(
            "json_mode", INCONCLUSIVE, f"cut off by finish_reason length: {problem}", [exchange]
        )
    return ProbeResult("json_mode", UNSUPPORTED, problem, [exchange])


CAPITAL_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
    "required": ["city", "country"],
    "additionalProperties": False,
}


@register("structured_output")
def probe_structured_output(context: ProbeContext) -> ProbeResult:
    messages = [
        {"role": "user", "content": "What is the capital of France? Give the city and country."}
    ]
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": "capital", "schema": CAPITAL_SCHEMA, "strict": True},
    }
    try:
        exchange = _chat(context, messages=messages, response_format=response_format, max_tokens=64)
    except LLMError as error:
        return _failure("structured_output", error, "response_format", "json_schema", "schema")
    off = _off_protocol("structured_output", exchange, "chat")
    if off is not None:
        return off
    choice = _choice(exchange)
    value, problem = _parse_json(_content(choice))
    if not problem:
        try:
            jsonschema.validate(value, CAPITAL_SCHEMA)
        except jsonschema.ValidationError as exc:
            problem = f"the reply does not validate against the schema: {exc.message}"
    if not problem:
        return ProbeResult(
            "structured_output",
            SUPPORTED,
            "the reply validates against the JSON schema given",
            [exchange],
            measured=value,
        )
    if choice.get("finish_reason") == "length":
        return ProbeResult(
            "structured_output",
            INCONCLUSIVE,
            f"cut off by finish_reason length: {problem}",
            [exchange],
        )
    return ProbeResult("structured_output", UNSUPPORTED, problem, [exchange])


@register("streaming")
def probe_streaming(context: ProbeContext) -> ProbeResult:
    messages = [{"role": "user", "content": "Count from one to three."}]
    try:
        exchange = _chat(context, messages=messages, max_tokens=16, stream=True)
    except LLMError as error:
        return _failure("streaming", error, "stream")
    chunks = [
        e for e in exchange.events if isinstance(e, dict) and isinstance(e.get("choices"), list)
    ]
    if "text/event-stream" not in exchange.content_type:
        off = _off_protocol("streaming", exchange, "chat")
        if off is not None:
            return off
        return ProbeResult(
            "streaming",
            UNSUPPORTED,
            "asked to stream, the server answered one whole chat completion",
            [exchange],
        )
    if chunks and exchange.saw_done:
        return ProbeResult(
            "streaming",
            SUPPORTED,
            f"{len(chunks)} server-sent chunk(s), then [DONE]",
            [exchange],
            measured=len(chunks),
        )
    missing = "without any chunk" if not chunks else f"after {len(chunks)} chunk(s) without [DONE]"
    return ProbeResult(
        "streaming",
        INCONCLUSIVE,
        f"the event stream closed {missing}: cut short, which neither shows nor refutes",
        [exchange],
    )


def _embed(context: ProbeContext, key: str) -> ProbeResult:
    payload = {"model": context.model, "input": ["Atlas checks claims.", "A second sentence."]}
    try:
        exchange = context.client.embeddings(payload)
    except LLMError as error:
        result = _failure(key, error, "embedding")
        if error.status == 404 and _protocol_error(error) and not error.mentions("model"):
            result.finding = UNSUPPORTED
            result.note = f"the endpoint has no embeddings route: {error.message}"
        return result
    off = _off_protocol(key, exchange, "embeddings")
    if off is not None:
        return off
    data = exchange.data.get("data") if isinstance(exchange.data, dict) else None
    vectors = [item.get("embedding") for item in data or [] if isinstance(item, dict)]
    good = [
        v
        for v in vectors
        if isinstance(v, list) and v and all(isinstance(x, int | float) for x in v)
    ]
    if len(good) != 2 or len({len(v) for v in good}) != 1:
        return ProbeResult(
            key,
            INCONCLUSIVE,
            "the answer is an embeddings list without a pair of numeric vectors of one size",
            [exchange],
        )
    dimension = len(good[0])
    # Vectors are not evidence anyone reads; keep the excerpt short.
    exchange.response_excerpt = cap_text(exchange.response_excerpt, 300)
    exchange.data = None
    if context.claim_number is not None:
        claimed = int(context.claim_number)
        if dimension == claimed:
            return ProbeResult(
                key,
                SUPPORTED,
                f"vectors of the claimed {claimed} dimensions",
                [exchange],
                measured=dimension,
            )
        return ProbeResult(
            key,
            UNSUPPORTED,
            f"vectors have {dimension} dimensions, the claim says {claimed}",
            [exchange],
            measured=dimension,
        )
    return ProbeResult(
        key, SUPPORTED, f"two vectors of {dimension} dimensions", [exchange], measured=dimension
    )


@register("embeddings")
def probe_embeddings(context: ProbeContext) -> ProbeResult:
    return _embed(context, "embeddings")


@register("embedding_dimension")
def probe_embedding_dimension(context: ProbeContext) -> ProbeResult:
    if context.claim_number is None:
        return ProbeResult("embedding_dimension", NOT_TESTABLE, "the claim states no dimension")
    return _embed(context, "embedding_dimension")


CONTEXT_WORDS = ("context", "length", "token", "too long", "too large", "maximum")


def _declared_context(card: dict[str, Any] | None) -> int | None:
    for name in ("max_context_length", "max_model_len", "context_length", "context_window"):
        value = (card or {}).get(name)
        if isinstance(value, int) and value > 0:
            return value
    meta = (card or {}).get("meta")
    if isinstance(meta, dict) and isinstance(meta.get("n_ctx_train"), int):
        return meta["n_ctx_train"]
    return None


@register("context_window")
def probe_context_window(context: ProbeContext) -> ProbeResult:
    """What one deployment accepts: the window an endpoint serves, which may differ from the
    model's own (a server may be started with a smaller one). The evidence keeps each
    prompt's size, not the prompt."""
    if context.claim_number is None:
        return ProbeResult("context_window", NOT_TESTABLE, "the claim states no window size")
    claimed = int(context.claim_number)
    if not context.allow_costly:
        return ProbeResult(
            "context_window",
            NOT_RUN,
            f"the context-window probe sends about {claimed * 2} tokens; "
            "enable costly probes on the endpoint to run it",
        )
    declared = _declared_context(context.card())
    instruction = "\nReply with: ok"
    # Each repeated " hello" is one token for common tokenizers; the answer's
    # usage tells how many it really was.
    under_words = max(1, int(claimed * 0.85) - 40)
    over_words = int(claimed * 1.25) + 50
    findings: dict[str, Any] = {"claimed": claimed, "declared": declared}
    exchanges: list[Exchange] = []

    def ask(words: int) -> Exchange:
        content = "hello " * words + instruction
        findings.setdefault("prompt_chars", []).append(len(content))
        try:
            exchange = _chat(context, messages=[{"role": "user", "content": content}], max_tokens=4)
        except LLMError as error:
            if error.exchange:
                error.exchange.request = _prompt_size_only(error.exchange.request, words)
            raise
        exchange.request = _prompt_size_only(exchange.request, words)
        return exchange

    def refused_for_length(error: LLMError, *, too_large: bool = False) -> bool:
        status = error.status
        if status is None or not 400 <= status < 500 or not _protocol_error(error):
            return False
        return (too_large and status == 413) or error.mentions(*CONTEXT_WORDS)

    try:
        under = ask(under_words)
    except LLMError as error:
        if refused_for_length(error):
            result = ProbeResult(
                "context_window",
                UNSUPPORTED,
                f"a prompt of about {under_words} tokens, under the claimed {claimed}, "
                f"was refused: {error.message}",
                [error.exchange] if error.exchange else [],
                findings={**findings, "under": "refused"},
            )
            return _context_declared(result, declared, claimed)
        result = _failure("context_window", error)
        if result.finding == UNSUPPORTED:
            result.finding = INCONCLUSIVE
        return result
    off = _off_protocol("context_window", under, "chat")
    if off is not None:
        return off
    exchanges.append(under)
    under_tokens = (under.usage or {}).get("prompt_tokens")
    findings["under_prompt_tokens"] = under_tokens
    try:
        over = ask(over_words)
    except LLMError as error:
        if refused_for_length(error, too_large=True):
            if error.exchange:
                exchanges.append(error.exchange)
            findings["over"] = "refused"
            result = ProbeResult(
                "context_window",
                SUPPORTED,
                f"about {under_tokens or under_words} prompt tokens were accepted and "
                f"about {over_words} were refused",
                exchanges,
                findings=findings,
                measured=under_tokens,
            )
            return _context_declared(result, declared, claimed)
        result = _failure("context_window", error)
        result.exchanges = exchanges + result.exchanges
        if result.finding == UNSUPPORTED:
            result.finding = INCONCLUSIVE
        return result
    exchanges.append(over)
    off = _off_protocol("context_window", over, "chat")
    if off is not None:
        off.exchanges = exchanges
        return off
    over_tokens = (over.usage or {}).get("prompt_tokens")
    findings["over_prompt_tokens"] = over_tokens
    if not isinstance(over_tokens, int):
        return ProbeResult(
            "context_window",
            INCONCLUSIVE,
            "an over-long prompt was accepted and the answer reports no prompt tokens",
            exchanges,
            findings=findings,
        )
    if over_tokens <= claimed:
        findings["over"] = "truncated"
        result = ProbeResult(
            "context_window",
            SUPPORTED,
            f"an over-long prompt was truncated to {over_tokens} tokens, within the claimed "
            f"{claimed}",
            exchanges,
            findings=findings,
            measured=over_tokens,
        )
        return _context_declared(result, declared, claimed)
    findings["over"] = "accepted"
    result = ProbeResult(
        "context_window",
        UNSUPPORTED,
        f"a prompt of {over_tokens} tokens was accepted in full: the window is larger than "
        f"the claimed {claimed}",
        exchanges,
        findings=findings,
        measured=over_tokens,
    )
    return _context_declared(result, declared, claimed)


def _context_declared(result: ProbeResult, declared: int | None, claimed: int) -> ProbeResult:
    result.declared = declared
    if declared is not None and declared != claimed:
        result.disagreement = True
        result.note += f" The model list declares {declared} tokens, the claim {claimed}."
    return result


def _prompt_size_only(request: dict[str, Any] | None, words: int) -> dict[str, Any] | None:
    """The request with each message's text replaced by its size: the filler prompt is
    hundreds of kilobytes that say nothing."""
    if not request:
        return request
    messages = []
    for message in request.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            message = {
                **message,
                "content": f"[not kept: {len(content):,} characters, "
                f"{words:,} filler words and the instruction to reply]",
            }
        messages.append(message)
    return {**request, "messages": messages}


@register("moderation")
def probe_moderation(context: ProbeContext) -> ProbeResult:
    payload = {"model": context.model, "input": ["I will hurt you.", "Have a nice day."]}
    try:
        exchange = context.client.moderations(payload)
    except LLMError as error:
        result = _failure("moderation", error, "moderation")
        if error.status == 404 and _protocol_error(error) and not error.mentions("model"):
            result.finding = UNSUPPORTED
            result.note = f"the endpoint has no moderation route: {error.message}"
        return result
    off = _off_protocol("moderation", exchange, "moderations")
    if off is not None:
        return off
    results = exchange.data.get("results") if isinstance(exchange.data, dict) else None
    if (
        isinstance(results, list)
        and len(results) == 2
        and all(isinstance(r, dict) and isinstance(r.get("categories"), dict) for r in results)
    ):
        return ProbeResult(
            "moderation", SUPPORTED, "two inputs came back classified by category", [exchange]
        )
    return ProbeResult(
        "moderation",
        INCONCLUSIVE,
        "the answer is a moderation result without categories for each input",
        [exchange],
    )
