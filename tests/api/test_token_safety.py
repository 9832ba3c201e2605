"""API tokens cannot breed or outlive their account: only signing in (HTTP Basic or a browser
session) creates one, a user can revoke them all at once, and disabling an account, through
the service or the user admin, revokes them for good."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from assessments.services.roles import user_disable
from tests.factories import PASSWORD, make_user

TOKENS = "/api/v1/auth/tokens"
# Needs a reviewer: refused (401) to a revoked or unknown token, and to no credentials.
PRIVATE = "/api/v1/claim-corrections"


def basic(user) -> dict[str, str]:
    pair = f"{user.username}:{PASSWORD}".encode()
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(pair).decode()}


def token_for(user) -> str:
    """A token made as a client makes one: signing in with HTTP Basic."""
    response = APIClient().post(TOKENS, {}, format="json", **basic(user))
    assert response.status_code == 201, response.content
    return response.json()["token"]


def with_token(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def works(token: str) -> bool:
    return with_token(token).get(PRIVATE).status_code == 200


@pytest.fixture
def admin_user(db):
    return get_user_model().objects.create_superuser("ada", "ada@example.org", PASSWORD)


def test_a_token_cannot_create_another_token(token_client, token_user):
    response = token_client.post(TOKENS, {}, format="json")
    assert response.status_code == 403, response.content
    error = response.json()["error"]
    assert error["code"] == "permission_denied"
    assert "HTTP Basic" in error["message"]
    assert AuthToken.objects.filter(user=token_user).count() == 1


def test_signing_in_with_http_basic_or_a_session_still_creates_a_token(reviewer):
    assert works(token_for(reviewer))
    session = APIClient()
    session.force_login(reviewer)
    assert session.post(TOKENS, {}, format="json").status_code == 201
    assert AuthToken.objects.filter(user=reviewer).count() == 2


def test_revoking_all_ends_every_token_of_the_user_and_no_one_elses(reviewer, other_reviewer):
    first, second = token_for(reviewer), token_for(reviewer)
    others = token_for(other_reviewer)
    assert works(first) and works(second)

    response = APIClient().delete(TOKENS, **basic(reviewer))
    assert response.status_code == 204, response.content
    assert not works(first)
    assert not works(second)
    assert with_token(first).get(PRIVATE).status_code == 401
    assert not AuthToken.objects.filter(user=reviewer).exists()
    assert works(others)


def test_any_of_the_users_tokens_revokes_them_all(reviewer):
    first, second = token_for(reviewer), token_for(reviewer)
    assert with_token(first).delete(TOKENS).status_code == 204
    assert not works(first)
    assert not works(second)


def test_revoking_all_needs_a_signed_in_user(reviewer):
    token = token_for(reviewer)
    assert APIClient().delete(TOKENS).status_code == 401
    assert with_token("not-a-token").delete(TOKENS).status_code == 401
    assert works(token)


def test_disabling_an_account_revokes_its_tokens_and_enabling_it_does_not_revive_them(
    reviewer, admin_user
):
    token = token_for(reviewer)
    assert works(token)
    user_disable(user=reviewer, actor=admin_user)
    assert not works(token)
    assert not AuthToken.objects.filter(user=reviewer).exists()

    reviewer.is_active = True
    reviewer.save()
    assert not works(token)
    assert works(token_for(reviewer))  # signing in again makes a new one


def change_form(user) -> dict:
    """The user admin's change form for ``user`` as the browser sends it back untouched."""
    joined = timezone.localtime(user.date_joined)
    return {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "groups": [group.pk for group in user.groups.all()],
        "date_joined_0": joined.strftime("%Y-%m-%d"),
        "date_joined_1": joined.strftime("%H:%M:%S"),
        "_save": "Save",
    }


def test_unticking_active_in_the_user_admin_disables_through_the_service(
    client, reviewer, admin_user
):
    token = token_for(reviewer)
    signed_in = APIClient()
    signed_in.force_login(reviewer)
    client.force_login(admin_user)
    data = change_form(reviewer)
    del data["is_active"]
    response = client.post(f"/admin/auth/user/{reviewer.pk}/change/", data, secure=True)
    assert response.status_code == 302, response.content.decode()[:3000]
    reviewer.refresh_from_db()
    assert not reviewer.is_active
    assert not works(token)
    assert not AuthToken.objects.filter(user=reviewer).exists()
    # The reviewer's session ended; the admin's own goes on.
    live = set(Session.objects.values_list("session_key", flat=True))
    assert signed_in.session.session_key not in live
    assert client.session.session_key in live

    reviewer.is_active = True
    reviewer.save()
    assert not works(token)


def test_the_user_admin_does_not_let_an_admin_disable_their_own_account(client, admin_user):
    token = token_for(admin_user)
    client.force_login(admin_user)
    data = change_form(admin_user) | {"is_staff": "on", "is_superuser": "on"}
    del data["is_active"]
    response = client.post(
        f"/admin/auth/user/{admin_user.pk}/change/", data, secure=True, follow=True
    )
    assert response.status_code == 200
    assert "you cannot disable your own account" in response.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.is_active
    assert with_token(token).get("/api/v1/providers").status_code == 200


def test_the_admin_action_revokes_the_tokens_of_the_accounts_it_disables(
    client, reviewer, admin_user
):
    token = token_for(reviewer)
    bystander = make_user("bea-bystander", "reviewer")
    kept = token_for(bystander)
    client.force_login(admin_user)
    response = client.post(
        "/admin/auth/user/",
        {"action": "disable_accounts", "_selected_action": [reviewer.pk]},
        secure=True,
    )
    assert response.status_code == 302
    assert not works(token)
    assert works(kept)


def test_the_schema_documents_revoke_all_and_creating_without_a_token():
    schema = yaml.safe_load(Path(__file__).with_name("schema-v1.yaml").read_text())
    operations = schema["paths"]["/api/v1/auth/tokens"]
    assert {"post", "delete"} <= set(operations)
    assert operations["post"]["security"] == [{"basicAuth": []}, {"cookieAuth": []}]
    assert "204" in operations["delete"]["responses"]
