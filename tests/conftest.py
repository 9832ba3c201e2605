"""Fixtures shared across the suite: the seeded catalogue and the fixed characters.

The characters, one set for every test: a reviewer, another reviewer, a curator, an outsider
(signed up, no role) and a token client (a reviewer who calls the API with a hashed token).
Each has an API client beside the user: ``anon`` (no credentials), ``reviewer_api``,
``other_reviewer_api`` and ``curator_api`` (signed in) and ``token_client`` (token header).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import override_settings
from knox.models import AuthToken
from rest_framework.test import APIClient

from catalog.loader import catalogue_load

PASSWORD = "a long test passphrase"
# Shared test data, beside the checkout: <parent of the project>/shared/<name>.
SHARED = Path(__file__).resolve().parent.parent.parent / "shared"


@pytest.fixture(autouse=True, scope="session")
def _plain_http():
    """Production settings redirect to HTTPS; the test client and live servers speak HTTP.

    Session-wide, so a live server's middleware (built once, when it starts) sees it too.
    """
    override = override_settings(
        SECURE_SSL_REDIRECT=False,
        # The manifest storage needs `collectstatic`; tests serve static files from the apps.
        STORAGES={
            **django_settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        # The production hasher is slow on purpose; tests sign in often.
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    )
    override.enable()
    yield
    override.disable()


def shared_dir(name: str) -> Path:
    """The shared test data folder ``name``: ``shared/<name>`` beside the project's checkout.

    Data too large or too widely used to commit (real pages, licence texts) lives there, where
    CI and every developer have it. When it is missing the calling test is skipped, except
    when the ``CI`` environment variable is set: there it fails, since CI always has it.
    """
    folder = SHARED / name
    if not folder.is_dir():
        message = f"The shared test data folder {folder} is missing."
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message, allow_module_level=True)
    return folder


@pytest.fixture
def catalogue(db):
    """The seeded catalogue, loaded from the data file the product ships."""
    return catalogue_load()


def make_user(username: str, *roles: str, **extra):
    """A user with ``roles`` (group names) whose password is ``PASSWORD``."""
    user = get_user_model().objects.create_user(
        username=username,
        email=f"{username}@example.org",
        password=PASSWORD,
        **extra,
    )
    for name in roles:
        # get_or_create: transactional tests flush the groups the data migration made.
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    return user


@pytest.fixture
def reviewer(db):
    return make_user("rita-reviewer", "reviewer")


@pytest.fixture
def other_reviewer(db):
    return make_user("oscar-reviewer", "reviewer")


@pytest.fixture
def curator(db):
    return make_user("carla-curator", "curator")


@pytest.fixture
def outsider(db):
    return make_user("otto-outsider")


@pytest.fixture
def token_user(db):
    """The reviewer behind ``token_client``."""
    return make_user("tobias-token", "reviewer")


def api_client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


@pytest.fixture
def reviewer_api(reviewer) -> APIClient:
    return api_client_for(reviewer)


@pytest.fixture
def other_reviewer_api(other_reviewer) -> APIClient:
    return api_client_for(other_reviewer)


@pytest.fixture
def curator_api(curator) -> APIClient:
    return api_client_for(curator)


@pytest.fixture
def token_client(token_user) -> APIClient:
    _, token = AuthToken.objects.create(token_user, expiry=dt.timedelta(days=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client
