"""A partial index on current provider claims by (provider, check date), both databases.

Read by ``provider_facts`` for the home page's figures (each provider's first current
claim in check order, one probe per provider). The index on every claim by (provider,
check date) leaves the status to be checked row by row, and on PostgreSQL without
statistics the planner preferred reading and sorting each provider's claims instead.
Created by SQL both databases understand, outside the models' state like the others.
Only provider claims are indexed: the index stays half the size, and a query over all
current claims (the freshness summary) cannot pick it over reading the table.
"""

from __future__ import annotations

from django.db import migrations

INDEX = "claim_current_provider_checked_idx"


def create_index(apps, schema_editor):
    quote = schema_editor.quote_name
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {quote(INDEX)} "
        f"ON {quote('catalog_claim')} ({quote('provider_id')}, {quote('checked_at')}) "
        f"WHERE {quote('status')} = 'current' AND {quote('provider_id')} IS NOT NULL"
    )


def drop_index(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(INDEX)}")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0006_historicalclaim_provider_date_index")]

    operations = [migrations.RunPython(create_index, drop_index)]
