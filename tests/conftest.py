"""Fixtures shared across the suite: plain HTTP, the seeded catalogue, the fixed characters and
a real browser.

The characters, one set for every test: a reviewer, another reviewer, a curator, an outsider
(signed up, no role) and a token client (a reviewer who calls the API with a hashed token).
Each has an API client beside the user: ``anon`` (no credentials), ``reviewer_api``,
``other_reviewer_api`` and ``curator_api`` (signed in) and ``token_client`` (token header).
"""

from __future__ import annotations

import datetime as dt
import shutil
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.test import override_settings
from knox.models import AuthToken
from rest_framework.test import APIClient

from catalog.catalogue_file import SEED_CATALOGUE
from catalog.loader import catalogue_load
from catalog.models import Provider
from tests.factories import CHROMIUM, SHOTS, api_client_for, make_user


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


@pytest.fixture
def seeded_catalogue(db):
    """The seeded catalogue (the seed file the product ships), loaded for this test.

    Returns the loader's report; for tests that change or reload the catalogue.
    """
    return catalogue_load(path=SEED_CATALOGUE)


@pytest.fixture(scope="module")
def _seeded_module(django_db_setup, django_db_blocker):
    # Loading takes seconds: once per module inside a transaction rolled back afterwards;
    # each test still runs in its own savepoint on top of it.
    with django_db_blocker.unblock(), transaction.atomic():
        catalogue_load(path=SEED_CATALOGUE)
        yield
        transaction.set_rollback(True)


@pytest.fixture
def mistral(_seeded_module, db) -> Provider:
    """Mistral AI, with its published assessment, in the seeded catalogue loaded once a module."""
    return Provider.objects.get(slug="mistral")


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


@pytest.fixture
def new_page(live_server, monkeypatch):
    """Opens a page in a fresh browser context (its own cookies: one person) at each call.

    Debian's Chromium, headless, driven by Playwright; skipped where it is not installed.
    Nothing leaves the machine: a request to any address but the test server's is answered by
    the browser with a stand-in page and listed in ``new_page.outside``.
    """
    if not shutil.which(CHROMIUM):
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (set ATLAS_CHROMIUM)")
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; the ORM must still work here.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SHOTS.mkdir(parents=True, exist_ok=True)
    server = urlsplit(live_server.url).netloc
    outside: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )

        def guard(route, request):
            if urlsplit(request.url).netloc == server:
                route.continue_()
                return
            outside.append(request.url)
            route.fulfill(
                status=200,
                content_type="text/html",
                body=f"<title>External source</title><h1>External source</h1><p>{request.url}</p>",
            )

        def make():
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.route("**/*", guard)
            page = context.new_page()
            page.set_default_timeout(15000)
            page.outside_requests = outside
            return page

        make.outside = outside
        yield make
        browser.close()


@pytest.fixture
def browser_page(new_page):
    """One person's page in the browser (see ``new_page``)."""
    return new_page()
