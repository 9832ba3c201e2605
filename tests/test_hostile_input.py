"""Hostile input at every entry point is a 4xx naming the problem, never a 500, and changes
nothing: NUL characters in addresses, query strings, form fields, cookies and credentials,
JSON nested thousands deep, bodies and parameter lists over the limits.

The pages and endpoints are gathered from the URLconf, so a new one is covered as it is added.
The catalogue file's hostile input is in ``tests/catalog/test_loader_hostile.py``.
"""

from __future__ import annotations

import base64
import io

import pytest
from django.apps import apps
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from assessments.models import Assessment, ClaimCorrection
from atlas.api.errors import RequestTooLarge
from atlas.api.parsing import MAX_JSON_DEPTH, JSONParser, json_too_deep
from tests.factories import PASSWORD, build_catalogue, complete_body, complete_draft

pytestmark = pytest.mark.django_db

NUL = "\x00"
WRITES = ("post", "put", "patch")
# Placeholders for an address's parts; a request with a NUL is refused before any view, so
# they need not name a real record.
PLACEHOLDERS = {"slug": "provider-0", "token": "x", "uidb64": "x"}
# Query parameters pages read: each is sent a NUL.
READ_PARAMS = ("q", "provider", "author", "kind", "slug", "since", "older_than")


def _routes(patterns=None, namespace: str = ""):
    """(``namespace:name``, pattern) for every named address of the URLconf."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            inner = ":".join(part for part in (namespace, entry.namespace) if part)
            yield from _routes(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield ":".join(part for part in (namespace, entry.name) if part), entry


ROUTES = dict(_routes())
WEB = sorted(name for name in ROUTES if not name.startswith(("admin:", "api:")))
API = sorted(name for name in ROUTES if name.startswith("api:") and name != "api:not-found")


def _parameters(name: str) -> list[str]:
    return list(ROUTES[name].pattern.regex.groupindex)


def _methods(name: str) -> list[str]:
    callback = ROUTES[name].callback
    actions = getattr(callback, "actions", None)
    if actions is not None:
        return [method for method in WRITES if method in actions]
    view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    allowed = getattr(view, "http_method_names", WRITES)
    return [m for m in WRITES if hasattr(view, m) and m in allowed]


JSON_WRITES = [(name, method) for name in API for method in _methods(name)]


def url(name: str, **values) -> str:
    kwargs = {p: values.get(p, PLACEHOLDERS.get(p, 1)) for p in _parameters(name)}
    return reverse(name, kwargs=kwargs)


def snapshot() -> dict:
    """Row counts of every table the project writes, and each draft's and correction's
    revision: what a refused request must leave as it was."""
    labels = ("catalog", "assessments", "crawlers", "inference", "auth", "knox", "axes")
    counts = {
        model._meta.label: model.objects.count()
        for label in labels
        for model in apps.get_app_config(label).get_models()
    }
    counts["revisions"] = sorted(Assessment.objects.values_list("pk", "revision"))
    counts["corrections"] = sorted(ClaimCorrection.objects.values_list("pk", "revision"))
    return counts


@pytest.fixture
def world(curator):
    """A small catalogue, a draft and a correction by the curator: the records the write
    endpoints act on."""
    cat = build_catalogue()
    cat.draft = complete_draft(cat=cat, author=curator)
    cat.correction = ClaimCorrection.objects.create(
        claim=cat.claims[0], author=curator, value_flag="no", reason="The terms changed."
    )
    return cat


@pytest.fixture
def web_curator(curator) -> Client:
    client = Client()
    client.force_login(curator)
    return client


def _values(world, name: str) -> dict:
    if name.startswith("api:v1:claim-correction"):
        return {"pk": world.correction.pk}
    return {"pk": world.draft.pk}


def assert_web_400(response) -> None:
    assert response.status_code == 400, response.content[:500]
    page = response.content.decode()
    assert "<h1>Bad request</h1>" in page
    assert 'aria-label="Main"' in page  # the site's page, with its navigation


def assert_api_400(response, code: str = "invalid") -> dict:
    assert response.status_code == 400, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    return error


# NUL characters.


@pytest.mark.parametrize("name", WEB)
@pytest.mark.parametrize("who", ["anonymous", "curator"])
def test_a_nul_in_a_pages_query_is_the_sites_400_page(name, who, world, web_curator):
    client = web_curator if who == "curator" else Client()
    before = snapshot()
    response = client.get(url(name), {param: f"a{NUL}b" for param in READ_PARAMS})
    assert_web_400(response)
    assert "query.q" in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize(
    "address",
    [
        "/?q=%00",
        "/changes/?provider=%00",
        "/review/queue/?provider=%00",
        "/review/queue/?author=%00",
    ],
)
def test_the_reported_addresses_are_refused_for_a_signed_in_curator(address, world, web_curator):
    assert_web_400(web_curator.get(address))


@pytest.mark.parametrize("name", WEB)
def test_a_nul_in_a_form_field_is_the_sites_400_page_and_saves_nothing(name, world, web_curator):
    before = snapshot()
    response = web_curator.post(url(name, pk=world.draft.pk), {"text": f"a{NUL}", "ok": "yes"})
    assert_web_400(response)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("name", "fields"),
    [
        (
            "accounts:signup",
            {"username": f"eve{NUL}", "email": "eve@example.org", "password1": PASSWORD},
        ),
        ("accounts:login", {"username": f"carla-curator{NUL}", "password": PASSWORD}),
        ("accounts:login", {"username": "carla-curator", "password": f"{PASSWORD}{NUL}"}),
        ("accounts:password_reset", {"email": f"carla-curator@example.org{NUL}"}),
        (
            "assessments:reviews",
            {"rating": "4", "title": "Fine", "body": f"Good{NUL}", "email": "a@example.org"},
        ),
    ],
)
def test_a_nul_in_an_anonymous_form_is_refused(name, fields, world, curator):
    before = snapshot()
    response = Client().post(url(name), {**fields, "password2": PASSWORD})
    assert_web_400(response)
    assert snapshot() == before


def test_a_nul_in_a_draft_being_saved_is_refused_and_the_draft_is_unchanged(world, web_curator):
    before = snapshot()
    response = web_curator.post(
        reverse("assessments:edit", args=[world.draft.pk]),
        {"conclusion": f"Changed{NUL}", "verdict": "conditional", "revision": 1},
    )
    assert_web_400(response)
    assert snapshot() == before
    world.draft.refresh_from_db()
    assert world.draft.conclusion == "Usable with a DPA."


def test_a_nul_in_the_address_is_refused(world):
    assert_web_400(Client().get("/providers/provider%000/"))
    assert_api_400(APIClient().get("/api/v1/providers/provider%000"))


@pytest.mark.parametrize("name", API)
def test_a_nul_in_an_api_query_is_a_json_400_naming_the_parameter(name, world, curator_api):
    before = snapshot()
    response = curator_api.get(url(name, **_values(world, name)), {"family": f"a{NUL}"})
    error = assert_api_400(response)
    assert error["fields"] == [
        {"path": "query.family", "code": "invalid", "message": "Contains a NUL character."}
    ]
    assert snapshot() == before


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("username", "password"),
    [(f"carla-curator{NUL}", PASSWORD), ("carla-curator", f"{PASSWORD}{NUL}"), (NUL, NUL)],
)
def test_a_nul_in_basic_credentials_is_a_json_400_and_signs_nobody_in(
    username, password, world, curator
):
    before = snapshot()
    response = APIClient().post("/api/v1/auth/tokens", HTTP_AUTHORIZATION=basic(username, password))
    error = assert_api_400(response)
    assert [f["path"] for f in error["fields"]] == ["authorization"]
    assert snapshot() == before
    assert not AuthToken.objects.exists()


def test_a_nul_in_a_token_header_is_a_json_400(world):
    response = APIClient().get("/api/v1/assessments", HTTP_AUTHORIZATION=f"Token abc{NUL}def")
    assert [f["path"] for f in assert_api_400(response)["fields"]] == ["authorization"]


def test_basic_credentials_without_nul_still_sign_in(world, curator):
    response = APIClient().post(
        "/api/v1/auth/tokens", HTTP_AUTHORIZATION=basic("carla-curator", PASSWORD)
    )
    assert response.status_code == 201, response.content


def test_a_session_cookie_with_a_nul_is_ignored_as_if_not_sent(world):
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = f"abcdefgh{NUL}ijkl"
    response = client.get("/")
    assert response.status_code == 200
    assert "Sign in" in response.content.decode()


# JSON nested deeper than the API reads.


DEEP_BODIES = {
    "arrays": "[" * 5000 + "]" * 5000,
    "objects": '{"a":' * 5000 + "1" + "}" * 5000,
}


@pytest.mark.parametrize("shape", sorted(DEEP_BODIES))
@pytest.mark.parametrize(("name", "method"), JSON_WRITES)
def test_deep_json_on_every_write_endpoint_is_a_400_naming_the_limit(
    name, method, shape, world, curator_api
):
    before = snapshot()
    send = getattr(curator_api, method)
    response = send(
        url(name, **_values(world, name)), DEEP_BODIES[shape], content_type="application/json"
    )
    assert 400 <= response.status_code < 500, response.content[:500]
    if response.status_code == 400:
        assert f"deeper than {MAX_JSON_DEPTH} levels" in response.json()["error"]["message"]
    assert snapshot() == before


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/requirements/check",
        "/api/v1/assessments",
        "/api/v1/claim-corrections",
        "/api/v1/auth/tokens",
        "notes",
    ],
)
def test_the_reported_json_endpoints_refuse_deep_json_by_name(path, world, curator, curator_api):
    path = f"/api/v1/assessments/{world.draft.pk}/notes" if path == "notes" else path
    client = APIClient() if "requirements" in path else curator_api
    before = snapshot()
    response = client.post(path, DEEP_BODIES["arrays"], content_type="application/json")
    error = assert_api_400(response, code="parse_error")
    assert error["message"] == (
        f"JSON nested deeper than {MAX_JSON_DEPTH} levels; this API accepts at most "
        f"{MAX_JSON_DEPTH}."
    )
    assert snapshot() == before


def test_deep_json_inside_strings_is_not_nesting(world, curator_api):
    body = complete_body(cat=world)
    body["conclusion"] = "[" * 5000 + "{" * 100
    response = curator_api.post("/api/v1/assessments", body, format="json")
    assert response.status_code == 201, response.content


def test_the_depth_check_counts_brackets_outside_strings():
    assert not json_too_deep("[" * 64 + "]" * 64)
    assert json_too_deep("[" * 65 + "]" * 65)
    assert not json_too_deep('["' + "[" * 100 + '\\"' + "[" * 100 + '"]')
    assert not json_too_deep("[[]]" * 1000)


# Bodies and parameter lists over Django's limits.


def test_a_body_over_the_limit_is_a_json_400_naming_the_limit(world):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    body = b'{"pad": "' + b"x" * limit + b'"}'
    before = snapshot()
    response = APIClient().post("/api/v1/requirements/check", body, content_type="application/json")
    error = assert_api_400(response, code="request_too_large")
    assert str(limit) in error["message"]
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE" in error["message"]
    assert snapshot() == before


def test_a_form_body_over_the_limit_to_the_api_is_a_json_400(world):
    response = APIClient().post(
        "/api/v1/auth/tokens",
        "pad=" + "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
        content_type="application/x-www-form-urlencoded",
    )
    assert_api_400(response, code="request_too_large")


def test_a_body_over_the_limit_sent_without_a_length_is_refused_by_the_parser():
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    with pytest.raises(RequestTooLarge, match=str(limit)):
        JSONParser().parse(io.BytesIO(b"[" + b"1," * limit + b"1]"), "application/json", {})


def test_a_form_body_over_the_limit_is_the_sites_400_page(world):
    body = {"username": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE, "password": "x"}
    response = Client().post(reverse("accounts:login"), body)
    assert_web_400(response)
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE" in response.content.decode()


TOO_MANY = "&".join(f"p{i}=1" for i in range(2000))


@pytest.mark.parametrize("name", API)
def test_too_many_query_parameters_is_a_json_400_naming_the_limit(name, world, curator_api):
    response = curator_api.get(f"{url(name, **_values(world, name))}?{TOO_MANY}")
    error = assert_api_400(response, code="too_many_fields")
    assert str(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS) in error["message"]


def test_too_many_query_parameters_on_a_page_is_the_sites_400_page(world):
    response = Client().get(f"/?{TOO_MANY}")
    assert_web_400(response)
    assert "DATA_UPLOAD_MAX_NUMBER_FIELDS" in response.content.decode()


def test_too_many_form_fields_is_refused_and_signs_nobody_in(world, curator):
    before = snapshot()
    response = Client().post(
        reverse("accounts:login"),
        TOO_MANY + f"&username=carla-curator&password={PASSWORD}",
        content_type="application/x-www-form-urlencoded",
    )
    assert_web_400(response)
    assert snapshot() == before
