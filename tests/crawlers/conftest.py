from __future__ import annotations

import datetime as dt
import itertools

import pytest

from catalog.models import Claim, ClaimKey, Provider, Source
from crawlers import fetch
from crawlers.models import CrawlSettings
from tests.conftest import shared_dir
from tests.crawlers.server import FixtureServer

LONG_AGO = dt.date(2024, 1, 1)
_counter = itertools.count(1)


def corpus_page(name: str) -> bytes:
    """A snapshot of the shared real-page corpus, e.g. 'openai/privacy-policy/2024-10-18.html'."""
    return (shared_dir("corpus") / name).read_bytes()


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


def make_source(url: str, *, keep: str = "", remove: str = "", provider=None) -> Source:
    number = next(_counter)
    source = Source.objects.create(
        slug=f"document-{number}",
        url=url,
        title=f"Document {number}",
        publisher="Example AI",
        provider=provider,
        doc_type=Source.DocType.TERMS,
    )
    CrawlSettings.objects.create(source=source, keep_selectors=keep, remove_selectors=remove)
    return source


def make_claim(*, source: Source, provider: Provider, key: ClaimKey, quote: str) -> Claim:
    return Claim.objects.create(
        provider=provider,
        key=key,
        value_text=quote[:300],
        scope_plan=f"plan-{next(_counter)}",
        source=source,
        evidence_quote=quote,
        checked_at=LONG_AGO,
    )


def run_check(source: Source, *, final_attempt: bool = True):
    """Queue a check of ``source`` and run it here, as a worker would; returns the check."""
    from crawlers import services
    from crawlers.models import Check

    check = services.check_queue(source=source, reason="test")
    services.check_run(check_id=check.pk, final_attempt=final_attempt)
    return Check.objects.get(pk=check.pk)
