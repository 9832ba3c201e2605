"""Property-based tests of the served schema against a live server.

Schemathesis reads `/api/schema/` from a live server and, for every operation,
generates requests that follow the schema and requests that break it, with a
fixed seed. Checks: no server error, every response conforms to the schema,
and schema-breaking requests are rejected with a 4xx. Requests carry a
curator's token so writes are exercised too.

The operations are driven from one test (one live server, one data set) with
Hypothesis directly, rather than through Schemathesis' pytest plugin.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from knox.models import AuthToken
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    response_schema_conformance,
)

from tests.factories import build_catalogue, make_user, publish_assessment

# Examples per operation, shared between valid and schema-breaking data when the operation
# has inputs that can be broken (50 + 50), all valid otherwise.
EXAMPLES_PER_OPERATION = 100
SEED = 20261122
CHECKS = [not_a_server_error, response_schema_conformance, negative_data_rejection]
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


def test_every_operation_holds_to_the_served_schema(live_server, settings, quiet_request_log):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}}
    curator = make_user("fuzz-curator", "curator")
    cat = build_catalogue(providers=2, models_per_provider=2)
    publish_assessment(provider=cat.providers[0], author=curator, cat=cat)

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
    assert not failures, "\n\n".join(failures)
    assert sum(sent.values()) >= EXAMPLES_PER_OPERATION * len(operations) // 2
