"""The Authorization header: `Bearer` or `Token`, or a 401 in the API's error shape; a header
the API cannot honour never makes a request anonymous."""

from __future__ import annotations

import datetime as dt

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from assessments.models import Assessment

DRAFTS = "/api/v1/assessments?mine=true"


def client_with(header: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    return client


@pytest.fixture
def token(reviewer) -> str:
    _, plain = AuthToken.objects.create(reviewer, expiry=dt.timedelta(days=1))
    return plain


def assert_refused(response) -> None:
    assert response.status_code == 401, response.content
    assert response.json()["error"]["code"] in ("authentication_failed", "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("scheme", ["Bearer", "Token", "bearer"])
def test_either_scheme_reads_as_the_tokens_user(assessments, token, scheme):
    response = client_with(f"{scheme} {token}").get(DRAFTS)
    assert response.status_code == 200, response.content
    assert [a["id"] for a in response.json()["results"]] == [assessments.rita_draft.pk]


@pytest.mark.parametrize("scheme", ["Bearer", "Token"])
def test_either_scheme_writes_as_the_tokens_user(small_catalogue, reviewer, token, scheme):
    provider = small_catalogue.providers[0]
    response = client_with(f"{scheme} {token}").post(
        "/api/v1/assessments",
        {"provider": provider.slug, "assessed_on": "2026-12-01"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert Assessment.objects.get(pk=response.json()["id"]).author == reviewer


@pytest.mark.parametrize(
    "header",
    [
        "Bearer atlas_not-a-token-this-api-issued",
        "Token atlas_not-a-token-this-api-issued",
        "Bearer",
        "Bearer two words",
        "Basic",
        "Negotiate abc",
        "atlas_a-token-without-a-scheme",
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_header_the_api_cannot_honour_is_a_401_not_an_anonymous_request(db, header, method):
    client = client_with(header)
    if method == "get":
        response = client.get("/api/v1/providers")
    else:
        response = client.post("/api/v1/assessments", {}, format="json")
    assert_refused(response)


@pytest.mark.parametrize("scheme", ["Bearer", "Token"])
def test_a_revoked_token_is_a_401(db, reviewer, token, scheme):
    client = client_with(f"{scheme} {token}")
    assert client.get("/api/v1/providers").status_code == 200
    assert client.delete("/api/v1/auth/tokens/current").status_code == 204
    assert_refused(client.get("/api/v1/providers"))


def test_an_expired_token_is_a_401(db, reviewer):
    instance, plain = AuthToken.objects.create(reviewer, expiry=dt.timedelta(days=1))
    AuthToken.objects.filter(pk=instance.pk).update(expiry=instance.created)
    assert_refused(client_with(f"Bearer {plain}").get("/api/v1/providers"))


def test_a_bearer_token_cannot_create_tokens_either(token):
    response = client_with(f"Bearer {token}").post("/api/v1/auth/tokens", {}, format="json")
    assert response.status_code == 403, response.content


def test_the_schema_documents_bearer(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    scheme = schema["components"]["securitySchemes"]["knoxApiToken"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert "Token <token>" in scheme["description"]
