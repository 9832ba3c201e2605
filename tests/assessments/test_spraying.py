"""Password spraying: one password over many usernames is limited per client address and,
spread over many addresses, by a ceiling for the whole site; on the web login and the API's
token endpoint alike."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import PASSWORD, make_user

SPRAYER = "198.51.100.66"
ELSEWHERE = "203.0.113.20"


@pytest.fixture
def limits(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.ATLAS_LOGIN_ADDRESS_FAILURE_LIMIT = 6
    settings.ATLAS_LOGIN_GLOBAL_FAILURE_LIMIT = 10
    return settings


def web_sign_in(client, username: str, password: str, address: str):
    return client.post(
        reverse("accounts:login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
    )


def token_sign_in(username: str, password: str, address: str):
    credentials = base64.b64encode(f"{username}:{password}".encode()).decode()
    return APIClient().post(
        "/api/v1/auth/tokens",
        {},
        format="json",
        HTTP_AUTHORIZATION=f"Basic {credentials}",
        REMOTE_ADDR=address,
    )


def spray(client, usernames, address: str) -> list[int]:
    """One wrong password tried on each username; the status of each answer."""
    return [web_sign_in(client, u, "Summer2026!", address).status_code for u in usernames]


def test_one_password_over_many_usernames_locks_the_address(client, db, limits):
    victim = make_user("victim")
    # Each guess is an ordinary wrong password, until the one that reaches the address's limit.
    assert spray(client, [f"user{i}" for i in range(6)], SPRAYER) == [200] * 5 + [429]

    refused = web_sign_in(client, victim.username, PASSWORD, SPRAYER)
    assert refused.status_code == 429
    assert "Too many failed sign-ins" in refused.content.decode()
    assert token_sign_in(victim.username, PASSWORD, SPRAYER).status_code == 429

    # Nobody else is held back by one address's spraying.
    assert web_sign_in(client, victim.username, PASSWORD, ELSEWHERE).status_code == 302


def test_the_token_endpoint_counts_towards_the_address_limit_and_obeys_it(client, db, limits):
    victim = make_user("victim")
    statuses = [token_sign_in(f"user{i}", "Summer2026!", SPRAYER).status_code for i in range(6)]
    assert statuses == [401] * 5 + [429]
    refused = token_sign_in(victim.username, PASSWORD, SPRAYER)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "locked_out"
    assert web_sign_in(client, victim.username, PASSWORD, SPRAYER).status_code == 429


def test_signing_in_to_ones_own_account_does_not_reset_the_address_count(client, db, limits):
    make_user("sprayer")
    victim = make_user("victim")
    spray(client, [f"user{i}" for i in range(5)], SPRAYER)
    assert web_sign_in(client, "sprayer", PASSWORD, SPRAYER).status_code == 302
    client.logout()
    spray(client, ["user5"], SPRAYER)
    assert web_sign_in(client, victim.username, PASSWORD, SPRAYER).status_code == 429


def test_a_spray_spread_over_many_addresses_meets_the_sites_ceiling(client, db, limits):
    victim = make_user("victim")
    for i in range(10):
        # One guess from each address: far below the per-address limit.
        spray(client, [f"user{i}"], f"192.0.2.{i + 1}")
    assert AccessAttempt.objects.count() == 10

    assert web_sign_in(client, victim.username, PASSWORD, ELSEWHERE).status_code == 429
    assert token_sign_in(victim.username, PASSWORD, ELSEWHERE).status_code == 429

    # Once the failures are older than the cool-off, signing in works again.
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - dt.timedelta(hours=limits.AXES_COOLOFF_TIME, minutes=1)
    )
    assert web_sign_in(client, victim.username, PASSWORD, ELSEWHERE).status_code == 302


def test_below_the_limits_a_few_mistakes_change_nothing(client, db, limits):
    victim = make_user("victim")
    assert spray(client, ["user0", "user1", "user2"], SPRAYER) == [200] * 3
    assert web_sign_in(client, victim.username, PASSWORD, SPRAYER).status_code == 302
