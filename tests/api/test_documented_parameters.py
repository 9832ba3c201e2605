"""Every query parameter the schema documents is one its operation accepts.

The test walks the generated schema and sends each documented query parameter, with a value
its schema allows, to each operation that documents it: a 400 would mean a client following
the documentation is refused.
"""

from __future__ import annotations

import base64
import re

import pytest
from drf_spectacular.generators import SchemaGenerator

from assessments.models import ClaimCorrection

# A cursor as the API issues it: the second item of the list (DRF's ``o=`` offset).
A_CURSOR = base64.b64encode(b"o=1").decode()


def example_value(parameter: dict) -> str:
    """A value the parameter's schema allows, as a query string value."""
    schema = parameter["schema"]
    if schema.get("type") == "array":
        schema = schema.get("items", {})
    if "enum" in schema:
        return str(schema["enum"][0])
    if parameter["name"] == "cursor":
        return A_CURSOR
    kind, fmt = schema.get("type", "string"), schema.get("format")
    if kind == "integer":
        return str(schema.get("minimum", 1))
    if kind == "number":
        return "1"
    if kind == "boolean":
        return "true"
    if fmt == "date":
        return "2026-01-01"
    if fmt == "date-time":
        return "2026-01-01T00:00:00Z"
    return "x"


def documented_query_parameters() -> list[tuple[str, str, dict, dict]]:
    """(method, path, parameter, the operation's required query parameters with a value) for
    every query parameter of every operation."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            query = [p for p in operation.get("parameters", []) if p["in"] == "query"]
            required = {p["name"]: example_value(p) for p in query if p.get("required")}
            found += [(method.upper(), path, parameter, required) for parameter in query]
    return found


def test_the_walk_finds_the_list_parameters(db):
    found = {(path, p["name"]) for _, path, p, _ in documented_query_parameters()}
    assert ("/api/v1/claims", "search") in found
    assert ("/api/v1/models", "page_size") in found
    assert len(found) > 50


def test_every_documented_query_parameter_is_accepted(assessments, reviewer, curator_api):
    cat = assessments
    correction = ClaimCorrection.objects.create(
        claim=cat.claims[0], author=reviewer, reason="The terms changed.", value_flag="no"
    )
    path_values = {"{id}": str(cat.published.pk)}
    refused = []
    for method, path, parameter, required in documented_query_parameters():
        assert method == "GET", f"{method} {path} documents query parameters"
        url = path.replace("{id}", str(correction.pk)) if "claim-corrections" in path else path
        for placeholder, value in path_values.items():
            url = url.replace(placeholder, value)
        value = example_value(parameter)
        response = curator_api.get(url, {**required, parameter["name"]: value})
        if response.status_code != 200:
            body = response.content.decode()[:300]
            refused.append(f"{path}?{parameter['name']}={value}: {response.status_code} {body}")
    assert not refused, "\n".join(refused)


def test_search_is_documented_only_where_it_is_accepted(db):
    searched = {path for _, path, p, _ in documented_query_parameters() if p["name"] == "search"}
    assert "/api/v1/prices" in searched
    assert "/api/v1/claim-corrections" not in searched  # it has no search


def test_prices_are_searched_by_model_name(anon, small_catalogue):
    model = small_catalogue.models[1]
    response = anon.get("/api/v1/prices", {"search": model.name})
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert results and {r["model"] for r in results} == {model.slug}


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/providers?criterion=no-such-criterion",
        "/api/v1/providers?claim_key=no_such_key",
        "/api/v1/models?claim_key=no_such_key",
        "/api/v1/assessments?criterion=no-such-criterion",
    ],
)
def test_a_slug_that_names_nothing_matches_nothing(curator_api, assessments, url):
    response = curator_api.get(url)
    assert response.status_code == 200, response.content
    assert response.json()["results"] == []


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/v1/models", "open_weights"),
        ("/api/v1/models", "retired"),
        ("/api/v1/assessments", "mine"),
    ],
)
def test_true_or_false_parameters_are_documented_as_booleans(db, path, name):
    (parameter,) = [
        p
        for _, p_path, p, _ in documented_query_parameters()
        if p_path == path and p["name"] == name
    ]
    assert parameter["schema"]["type"] == "boolean"


@pytest.mark.parametrize(
    ("bound", "expected"),
    [("2.8e-46", 0), ("0.5", 1), ("0.49999", 0), ("1e300", 2), ("-1e300", 0), ("1.00000001", 2)],
)
def test_a_price_bound_is_any_number(anon, small_catalogue, bound, expected):
    # provider-0's two models cost 0.5 and 1.0 per million input tokens.
    response = anon.get("/api/v1/prices", {"provider": "provider-0", "max_input_per_mtok": bound})
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == expected


@pytest.mark.parametrize(
    ("method", "url", "body", "path"),
    [
        ("get", "/api/v1/models?cursor=garbage", None, "query.cursor"),
        ("post", "/api/v1/requirements/check", {"modalities": ["smell"]}, "modalities"),
        ("post", "/api/v1/requirements/check", {"page": 99}, "page"),
    ],
)
def test_a_well_formed_value_naming_nothing_is_refused_as_does_not_exist(
    anon, small_catalogue, method, url, body, path
):
    response = getattr(anon, method)(url, body, format="json") if body else anon.get(url)
    assert response.status_code == 400
    assert [(f["path"], f["code"]) for f in response.json()["error"]["fields"]] == [
        (path, "does_not_exist")
    ]


def test_the_schema_says_what_text_and_numbers_are_refused(db):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    search = next(
        p for p in schema["paths"]["/api/v1/claims"]["get"]["parameters"] if p["name"] == "search"
    )["schema"]
    assert (search["minLength"], search["pattern"]) == (1, "^[^\\x00]*$")
    correction = schema["components"]["schemas"]["ClaimCorrectionCreateRequest"]["properties"]
    reason = re.compile(correction["reason"]["pattern"])
    assert reason.match("The terms changed.") and not reason.match("a\x00")
    number = re.compile(correction["value_number"]["pattern"])
    assert not number.match("-") and not number.match("")
    assert number.match("-1.5") and number.match(".5") and number.match("12")
    claim = next(
        p
        for p in schema["paths"]["/api/v1/claim-corrections"]["get"]["parameters"]
        if p["name"] == "claim"
    )
    assert claim["schema"]["type"] == "integer"


@pytest.mark.parametrize(
    ("budget", "status"),
    [(2.8e-46, 200), ("0.00001", 200), (12.5, 200), (1e50, 400), (-0.5, 400), ("-", 400)],
)
def test_a_budget_in_the_requirements_check_is_any_number_the_schema_allows(
    anon, small_catalogue, budget, status
):
    response = anon.post("/api/v1/requirements/check", {"max_input_price": budget}, format="json")
    assert response.status_code == status, response.content


def test_a_date_time_from_year_one_is_a_bound_like_any_other(anon, small_catalogue):
    response = anon.get("/api/v1/models", {"updated_since": "0001-01-01T00:00:00Z"})
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == 4


def test_an_empty_budget_is_refused_as_the_schema_says(anon, small_catalogue):
    response = anon.post("/api/v1/requirements/check", {"max_output_price": ""}, format="json")
    assert response.status_code == 400


def test_the_schema_says_required_body_text_needs_more_than_spaces(db):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    weaknesses = schema["components"]["schemas"]["AssessmentCreateRequest"]["properties"][
        "weaknesses"
    ]["items"]
    text = re.compile(weaknesses["pattern"])
    assert text.match(" a ") and not text.match("   ") and not text.match("a\x00")
