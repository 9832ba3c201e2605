"""The indexes the pages' queries rely on exist and answer those queries."""

from __future__ import annotations

import importlib
import re

import pytest
from django.db import connection, transaction

from catalog.models import AIModel, Claim, Provider

pytestmark = pytest.mark.django_db

trigram = importlib.import_module("catalog.migrations.0002_search_trigram_indexes")
MODELS = {"catalog_claim": Claim, "catalog_provider": Provider, "catalog_aimodel": AIModel}


def _indexes(table: str) -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, table))


def test_claims_are_indexed_by_provider_and_check_date_on_every_database():
    assert "claim_provider_checked_idx" in _indexes("catalog_claim")


def test_current_claims_are_indexed_by_provider_and_check_date_on_every_database():
    assert "claim_current_provider_checked_idx" in _indexes("catalog_claim")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the plan checked is PostgreSQL's")
def test_the_home_figures_read_each_providers_oldest_current_check_from_the_partial_index():
    from catalog.selectors.search import provider_facts

    with transaction.atomic():
        with connection.cursor() as cursor:
            # Nearly empty tables: without these, scanning and sorting would rightly win.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            provider_facts()
        oldest = next(q["sql"] for q in queries.captured_queries if "LIMIT 1" in q["sql"])
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {oldest}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
    # On nearly empty tables the planner may take either index that leads with (provider,
    # checked_at); the large catalogue's plan takes the partial one. Neither is a scan.
    assert re.search(r"Index (Only )?Scan using claim_(current_)?provider_checked_idx", plan), plan


def test_claim_history_is_indexed_by_provider_and_date_on_every_database():
    assert "historicalclaim_provider_date_idx" in _indexes("catalog_historicalclaim")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the plan checked is PostgreSQL's")
def test_a_providers_newest_claim_versions_are_read_from_its_history_index():
    newest = (
        Claim.history.model.objects.filter(provider_id=1)
        .order_by("-history_date", "-history_id")
        .values_list("history_id", flat=True)[:20]
    )
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Nearly empty tables: without these, scanning and sorting would rightly win.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
        plan = newest.explain()
    assert "historicalclaim_provider_date_idx" in plan, plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL's")
@pytest.mark.parametrize(("index", "table", "column"), [row[:3] for row in trigram.TRIGRAM_INDEXES])
def test_a_case_insensitive_search_of_the_column_uses_its_trigram_index(index, table, column):
    lookup = MODELS[table].objects.filter(**{f"{column}__icontains": "quota"}).order_by()
    with transaction.atomic():
        with connection.cursor() as cursor:
            # The test tables are nearly empty, so the planner would rightly scan them;
            # without that choice, only a usable index can answer.
            cursor.execute("SET LOCAL enable_seqscan = off")
        plan = lookup.explain()
    assert index in plan, plan


@pytest.mark.skipif(connection.vendor == "postgresql", reason="SQLite's own path")
def test_other_databases_search_without_trigram_indexes():
    assert not any(row[0] in _indexes(row[1]) for row in trigram.TRIGRAM_INDEXES)
