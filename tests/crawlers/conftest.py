"""Fixtures for the crawlers: a local page server, fast local-only settings, a provider."""

from __future__ import annotations

import pytest

from catalog.models import ClaimKey, Provider
from crawlers import fetch
from tests.crawlers.server import FixtureServer


@pytest.fixture(scope="session")
def fixture_server():
    server = FixtureServer()
    yield server
    server.stop()


@pytest.fixture
def server(fixture_server):
    fixture_server.routes.clear()
    fixture_server.counts.clear()
    fixture_server.requests.clear()
    fixture_server.latency = 0.0
    fixture_server.max_in_flight = 0
    return fixture_server


@pytest.fixture(autouse=True)
def crawler_settings(settings):
    """Fast, local-only crawler settings: the fixture server is the only allowed private host."""
    settings.ATLAS_CRAWLER_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.ATLAS_CRAWLER_POLITENESS_MS = 0
    settings.ATLAS_CRAWLER_TOTAL_TIMEOUT = 5
    settings.ATLAS_CRAWLER_CONNECT_TIMEOUT = 2
    settings.ATLAS_CRAWLER_MAX_BYTES = 4 * 1024 * 1024
    settings.ATLAS_CRAWLER_RETRY_BASE_SECONDS = 1
    settings.ATLAS_CRAWLER_HOST_LIMIT_URL = ""
    fetch.clear_caches()
    yield settings
    fetch.clear_caches()


@pytest.fixture
def provider(db) -> Provider:
    return Provider.objects.create(
        slug="example-ai", name="Example AI", kind=Provider.Kind.MODEL_DEVELOPER
    )


@pytest.fixture
def claim_key(db) -> ClaimKey:
    return ClaimKey.objects.create(
        key="training-on-user-data",
        label="Trains on user data",
        group=ClaimKey.Group.DATA_PROTECTION,
        value_type=ClaimKey.ValueType.TEXT,
    )
