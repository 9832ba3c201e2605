"""Trigram indexes for the search box on PostgreSQL; nothing on other databases.

Django turns ``icontains`` into ``UPPER("column"::text) LIKE UPPER('%…%')`` on
PostgreSQL, which no B-tree index can answer, so each searched column gets a GIN
trigram index on exactly that expression. SQLite keeps scanning: its catalogues are
the small local ones. The indexes live outside the models' state (no model field
changes), so they are created and dropped here by raw SQL.
"""

from __future__ import annotations

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

# (index, table, column, the query that reads it)
TRIGRAM_INDEXES = [
    # search_claims: claims whose evidence, value or condition mention the words searched.
    ("claim_evidence_trgm", "catalog_claim", "evidence_quote", "search_claims"),
    ("claim_value_text_trgm", "catalog_claim", "value_text", "search_claims"),
    ("claim_condition_trgm", "catalog_claim", "condition", "search_claims"),
    # catalogue_search: providers by name, slug or summary.
    ("provider_name_trgm", "catalog_provider", "name", "catalogue_search"),
    ("provider_slug_trgm", "catalog_provider", "slug", "catalogue_search"),
    ("provider_summary_trgm", "catalog_provider", "summary", "catalogue_search"),
    # catalogue_search: models by name, slug or family.
    ("aimodel_name_trgm", "catalog_aimodel", "name", "catalogue_search"),
    ("aimodel_slug_trgm", "catalog_aimodel", "slug", "catalogue_search"),
    ("aimodel_family_trgm", "catalog_aimodel", "family", "catalogue_search"),
]


class TrigramExtensionOnPostgres(TrigramExtension):
    """Django's operation, made a no-op backwards on other databases too (unapplying it
    on SQLite would otherwise look for PostgreSQL's extension catalogue)."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    for index, table, column, _query in TRIGRAM_INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {quote(index)} ON {quote(table)} "
            f"USING gin ((UPPER({quote(column)}::text)) gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index, _table, _column, _query in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(index)}")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [
        # CreateExtension does nothing forwards on databases other than PostgreSQL.
        TrigramExtensionOnPostgres(),
        migrations.RunPython(create_indexes, drop_indexes),
    ]
