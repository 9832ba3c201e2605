"""Each cached view declares every table its pages read: a page is then stale only if a write
to a table it declares has not committed yet, which the change stamps see.

Every cached view runs its list (bare, searched, ordered and under each of its filters) and a
detail page; the SQL they execute must name no table of these apps beyond the declaration.
"""

from __future__ import annotations

import importlib
import re

import pytest
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atlas.api.page_cache import PAGE_CACHE, PageCacheMixin
from atlas.api_urls import router
from catalog.change_stamp import STAMPED_TABLES, stamped_tables
from catalog.models import FAQ, Claim, Price
from tests.factories import build_catalogue, publish_assessment

pytestmark = pytest.mark.django_db

# Django quotes every table name it writes into SQL; these apps' tables start so.
TABLE = re.compile(r'"((?:catalog|assessments)_[a-z0-9_]+)"')

CACHED = {
    prefix: viewset
    for prefix, viewset, _ in router.registry
    if issubclass(viewset, PageCacheMixin) and viewset.page_cache_models
}

# A value for each filter of each cached list, and how to find a detail page.
FILTER_VALUES = {
    "providers": {
        "kind": "model_developer",
        "status": "active",
        "country": "fr",
        "verdict": "recommended",
        "criterion": "dpa",
        "rating": "supported",
        "claim_key": "eu_data_residency",
        "claim_value": "yes",
        "updated_since": "2020-01-01T00:00:00Z",
    },
    "models": {
        "provider": "provider-0",
        "provider_kind": "model_developer",
        "weights": "open",
        "architecture": "dense",
        "family": "Family",
        "open_weights": "true",
        "licence": "apache-2-0",
        "licence_kind": "permissive",
        "modality": "text",
        "min_context_window": "1000",
        "retired": "false",
        "claim_key": "commercial_use_allowed",
        "claim_value": "yes",
        "claim_freshness": "current",
        "updated_since": "2020-01-01T00:00:00Z",
    },
    "licences": {
        "kind": "permissive",
        "spdx_id": "Apache-2.0",
        "commercial_use": "yes",
        "self_hosting": "yes",
        "fine_tuning": "yes",
        "weight_redistribution": "yes",
        "attribution_required": "yes",
        "updated_since": "2020-01-01T00:00:00Z",
    },
    "claims": {
        "provider": "provider-0",
        "model": "model-0-0",
        "subject": "model",
        "key": "commercial_use_allowed,eu_data_residency",
        "group": "right",
        "value": "yes",
        "status": "current",
        "surface": "api",
        "region": "EU",
        "freshness": "current",
        "source": "provider-0-terms",
        "checked_before": "2030-01-01",
        "checked_since": "2020-01-01",
        "updated_since": "2020-01-01T00:00:00Z",
    },
    "claim-keys": {"group": "right", "updated_since": "2020-01-01T00:00:00Z"},
    "sources": {
        "provider": "provider-0",
        "doc_type": "terms",
        "publisher": "Provider 0",
        "language": "en",
        "updated_since": "2020-01-01T00:00:00Z",
    },
    "prices": {
        "model": "model-0-0",
        "provider": "provider-0",
        "currency": "usd",
        "tier": "standard",
        "max_input_per_mtok": "10",
        "max_output_per_mtok": "10",
        "as_of_since": "2020-01-01",
        "updated_since": "2020-01-01T00:00:00Z",
    },
    "criteria": {"active": "true", "updated_since": "2020-01-01T00:00:00Z"},
}
DETAIL = {
    "providers": lambda: "provider-0",
    "models": lambda: "model-0-0",
    "licences": lambda: "apache-2-0",
    "claims": lambda: Claim.objects.order_by("pk").values_list("pk", flat=True).first(),
    "claim-keys": lambda: "commercial_use_allowed",
    "sources": lambda: "provider-0-terms",
    "prices": lambda: Price.objects.order_by("pk").values_list("pk", flat=True).first(),
    "criteria": lambda: "dpa",
}


@pytest.fixture
def reviewed_catalogue(curator):
    """The small catalogue with a published assessment of provider-0."""
    cat = build_catalogue()
    publish_assessment(provider=cat.providers[0], author=curator, cat=cat)
    return cat


def tables_read(anon, url: str, query: dict) -> set[str]:
    caches[PAGE_CACHE].clear()
    with CaptureQueriesContext(connection) as queries:
        response = anon.get(url, query)
    assert response.status_code == 200, (url, query, response.content)
    return {table for query in queries.captured_queries for table in TABLE.findall(query["sql"])}


def test_every_cached_view_and_every_filter_has_a_request_here():
    assert set(FILTER_VALUES) == set(CACHED) == set(DETAIL)
    for prefix, viewset in CACHED.items():
        assert set(FILTER_VALUES[prefix]) == set(viewset.filterset_class.base_filters), prefix


@pytest.mark.parametrize("prefix", sorted(CACHED))
def test_a_list_page_reads_only_the_tables_its_view_declares(anon, reviewed_catalogue, prefix):
    viewset = CACHED[prefix]
    declared = stamped_tables(viewset.page_cache_models)
    url = f"/api/v1/{prefix}"
    queries = [{}, *({name: value} for name, value in FILTER_VALUES[prefix].items())]
    if getattr(viewset, "search_fields", None):
        queries.append({"search": "a"})
    queries += [{"ordering": field} for field in viewset.ordering_fields]
    for query in queries:
        assert tables_read(anon, url, query) <= declared, query


@pytest.mark.parametrize("prefix", sorted(CACHED))
def test_a_detail_page_reads_only_the_tables_its_view_declares(anon, reviewed_catalogue, prefix):
    viewset = CACHED[prefix]
    declared = stamped_tables(viewset.detail_page_cache_models or viewset.page_cache_models)
    assert tables_read(anon, f"/api/v1/{prefix}/{DETAIL[prefix]()}", {}) <= declared


def test_a_page_that_reads_a_table_without_a_stamp_cannot_be_declared_cached():
    assert stamped_tables([Claim]) == {"catalog_claim"}
    with pytest.raises(ImproperlyConfigured, match="No change stamp for catalog_faq"):
        stamped_tables([Claim, FAQ])


def test_the_stamped_tables_are_those_the_migrations_stamp():
    stamped = set()
    for name in ("0005_api_change_stamp_triggers", "0012_licence_terms"):
        stamped |= set(importlib.import_module(f"catalog.migrations.{name}").TABLES)
    assert stamped == STAMPED_TABLES
