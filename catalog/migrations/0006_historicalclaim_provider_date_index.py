"""An index on claim history by (provider, history date), on every database.

Read by ``recent_changes`` for one provider (the provider page's change history, its
changes page and its feed): the newest versions of the provider's claims, ORDER BY
history_date DESC, history_id DESC LIMIT n. With only the provider index it fetches every
version of every claim of the provider to sort them, and claims gain a version each time a
re-check moves their date. Created by SQL both databases understand, outside the models'
state like the other hand-made indexes.
"""

from __future__ import annotations

from django.db import migrations

INDEX = "historicalclaim_provider_date_idx"


def create_index(apps, schema_editor):
    quote = schema_editor.quote_name
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {quote(INDEX)} ON {quote('catalog_historicalclaim')} "
        f"({quote('provider_id')}, {quote('history_date')}, {quote('history_id')})"
    )


def drop_index(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(INDEX)}")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0005_api_change_stamp_triggers")]

    operations = [migrations.RunPython(create_index, drop_index)]
