"""Property-based tests of the served schema against a live server.

Schemathesis reads `/api/schema/` from a live server and, for every operation,
generates requests that follow the schema and requests that break it, with a
fixed seed. Checks: no server error, every response conforms to the schema,
and schema-breaking requests are rejected with a 4xx. Requests carry a
curator's token so writes are exercised too.

The operations are driven from one test (one live server, one data set) with
Hypothesis directly, rather than through Schemathesis' pytest plugin. A second test runs
Schemathesis' stateful phase: sequences of calls joined by the links it infers (an id a
POST returned, fed to the GET, PATCH and actions on it), under the same checks.

The default number of examples fits about a minute of requests on a small shared machine;
``ATLAS_SCHEMATHESIS_EXAMPLES`` (per operation) and ``ATLAS_SCHEMATHESIS_STEPS`` (stateful
scenarios) raise it for a longer run, e.g. 100 as the issue's acceptance asks.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import time

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from knox.models import AuthToken
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
)

from tests.factories import build_catalogue, make_user, publish_assessment

# Examples per operation, shared between valid and schema-breaking data when the operation
# has inputs that can be broken (50 + 50), all valid otherwise.
EXAMPLES_PER_OPERATION = int(os.environ.get("ATLAS_SCHEMATHESIS_EXAMPLES", "16"))
STATEFUL_SCENARIOS = int(os.environ.get("ATLAS_SCHEMATHESIS_STEPS", "30"))
SEED = 20261122


def valid_request_accepted(ctx, response, case):
    """Schemathesis' ``positive_data_acceptance``, except for a 400 each of whose errors is
    ``does_not_exist``: a well-formed slug, id or cursor that names no record. No schema can
    say which records exist, so such a request is valid in form and still refused; every
    other 400 to schema-valid data is a failure."""
    if response.status_code == 400:
        try:
            fields = response.json()["error"]["fields"]
        except (ValueError, KeyError, TypeError):
            fields = []
        if fields and all(field["code"] == "does_not_exist" for field in fields):
            return None
        # An action on a stored record that is not ready for it (submitting an incomplete
        # draft) names the record's missing parts, none of them sent: the request is not at
        # fault. (A 409 would say so better; see the README's list of what remains.)
        sent = set(case.body) if isinstance(case.body, dict) else set()
        blamed = {field["path"].split(".")[0] for field in fields}
        if fields and not blamed & (sent | {"query", "non_field_errors"}):
            return None
    return positive_data_acceptance(ctx, response, case)


CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    negative_data_rejection,
    valid_request_accepted,
]
CONSTRAINTS = ("enum", "pattern", "format", "minimum", "maximum", "maxLength", "minLength")

pytestmark = pytest.mark.schemathesis


def can_be_broken(operation) -> bool:
    """Whether any input of the operation has a constraint that schema-breaking data can
    violate. Plain free-text strings (e.g. the conditional-GET headers) have none: an
    operation with nothing else has no negative data to send."""
    raw = operation.definition.raw
    if "requestBody" in raw:
        return True
    for parameter in raw.get("parameters", []):
        schema = parameter.get("schema", {})
        if parameter.get("required") or schema.get("type", "string") != "string":
            return True
        if any(key in schema for key in CONSTRAINTS):
            return True
    return False


def run_operation(operation, mode: GenerationMode, headers, session, examples: int) -> int:
    """Run one operation's examples; return how many were sent."""
    sent = 0

    @seed(SEED)
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        nonlocal sent
        sent += 1
        case.call_and_validate(session=session, headers=headers(), checks=CHECKS)

    run()
    return sent


@pytest.fixture
def quiet_request_log():
    # Thousands of expected 4xx would each log a warning; server errors still log.
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


@pytest.fixture
def fuzz_catalogue(settings):
    """A curator and a small catalogue with a published assessment; no rate limits."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}}
    curator = make_user("fuzz-curator", "curator")
    cat = build_catalogue(providers=2, models_per_provider=2)
    publish_assessment(provider=cat.providers[0], author=curator, cat=cat)
    return curator


def test_every_operation_holds_to_the_served_schema(live_server, fuzz_catalogue, quiet_request_log):
    curator = fuzz_catalogue

    bystander = make_user("fuzz-bystander", "reviewer")

    def new_token(user=curator) -> dict[str, str]:
        _, token = AuthToken.objects.create(user, expiry=dt.timedelta(hours=1))
        return {"Authorization": f"Token {token}"}

    shared = new_token()

    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/")
    session = requests.Session()  # one keep-alive connection for every request
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30, "the schema lost operations"
    failures: list[str] = []
    sent: dict[str, int] = {}
    started = time.monotonic()
    for operation in operations:
        # Revoking the token would lock every later request out: that one gets a new token
        # per request, and revoking them all gets tokens of a user of its own.
        revokes = operation.path.endswith("/auth/tokens/current")
        headers = new_token if revokes else (lambda: shared)
        if operation.path.endswith("/auth/tokens") and operation.method.lower() == "delete":
            headers = functools.partial(new_token, bystander)
        modes = [GenerationMode.POSITIVE]
        if can_be_broken(operation):
            modes.append(GenerationMode.NEGATIVE)
        for mode in modes:
            label = f"{mode.value} {operation.label}"
            try:
                sent[label] = run_operation(
                    operation, mode, headers, session, EXAMPLES_PER_OPERATION // len(modes)
                )
            except BaseException as exc:  # collect every operation's failure, report them all
                if isinstance(exc, KeyboardInterrupt):
                    raise
                failures.append(f"{label}: {exc}")
    print(f"{sum(sent.values())} requests in {time.monotonic() - started:.0f} s")
    assert not failures, "\n\n".join(failures)
    assert sum(sent.values()) >= EXAMPLES_PER_OPERATION * len(operations) // 2


def test_sequences_of_calls_hold_to_the_served_schema(
    live_server, fuzz_catalogue, quiet_request_log
):
    _, token = AuthToken.objects.create(fuzz_catalogue, expiry=dt.timedelta(hours=1))
    headers = {"Authorization": f"Bearer {token}"}
    # The token operations would revoke the token every later call uses; the first test
    # covers them.
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/").exclude(
        path_regex="/auth/tokens"
    )
    session = requests.Session()
    calls = []

    class Sequences(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": headers, "session": session}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            calls.append((case.operation.label, response.status_code))
            case.validate_response(response, checks=CHECKS)

    Sequences.run(
        settings=settings(
            max_examples=STATEFUL_SCENARIOS,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=True,
            stateful_step_count=6,
        )
    )
    operations = {label for label, _ in calls}
    print(f"{len(calls)} calls over {len(operations)} operations in the stateful phase")
    assert len(calls) >= STATEFUL_SCENARIOS
    assert len(operations) >= 20, sorted(operations)
