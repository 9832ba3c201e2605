"""Fixtures shared across the suite: the seeded catalogue and the fixed characters."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from catalog.services import catalogue_load


@pytest.fixture(autouse=True)
def _plain_http(settings):
    """Production settings redirect to HTTPS; the test client and live server speak HTTP."""
    settings.SECURE_SSL_REDIRECT = False
    # The manifest storage needs `collectstatic`; tests serve static files from the apps.
    settings.STORAGES = settings.STORAGES | {
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    }


@pytest.fixture
def catalogue(db):
    """The seeded catalogue, loaded from the data file the product ships."""
    return catalogue_load()


def _user(username: str, *groups: str, **extra):
    user = get_user_model().objects.create_user(
        username=username,
        email=f"{username}@example.org",
        password="a long test passphrase",
        **extra,
    )
    for name in groups:
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    return user


@pytest.fixture
def reviewer(db):
    return _user("rita-reviewer", "reviewer")


@pytest.fixture
def other_reviewer(db):
    return _user("oscar-reviewer", "reviewer")


@pytest.fixture
def curator(db):
    return _user("carla-curator", "curator")


@pytest.fixture
def outsider(db):
    return _user("otto-outsider")
