"""A partial index on current claims by (provider, check date), on every database.

Read by ``provider_facts`` for the home page's figures (each provider's first current
claim in check order, one probe per provider). The index on every claim by (provider,
check date) leaves the status to be checked row by row, and on PostgreSQL without
statistics the planner preferred reading and sorting each provider's claims instead.
Created by SQL both databases understand, outside the models' state like the others.
"""

from __future__ import annotations

from django.db import migrations

INDEX = "claim_current_provider_checked_idx"


def create_index(apps, schema_editor):
    quote = schema_editor.quote_name
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {quote(INDEX)} "
        f"ON {quote('catalog_claim')} ({quote('provider_id')}, {quote('checked_at')}) "
        f"WHERE {quote('status')} = 'current'"
    )


def drop_index(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(INDEX)}")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0006_historicalclaim_provider_date_index")]

    operations = [migrations.RunPython(create_index, drop_index)]
