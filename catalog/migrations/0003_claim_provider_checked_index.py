"""An index on claims by (provider, check date), on every database.

Read by the provider listing's "oldest check" (``providers_annotated``: a provider's
current claims ORDER BY checked_at LIMIT 1) and by ``provider_facts`` (MIN(checked_at)
per provider), which otherwise fetch every claim of the provider to sort it. Created by
SQL both databases understand, outside the models' state like the trigram indexes.
"""

from __future__ import annotations

from django.db import migrations

INDEX = "claim_provider_checked_idx"


def create_index(apps, schema_editor):
    quote = schema_editor.quote_name
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {quote(INDEX)} "
        f"ON {quote('catalog_claim')} ({quote('provider_id')}, {quote('checked_at')})"
    )


def drop_index(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(INDEX)}")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_search_trigram_indexes")]

    operations = [migrations.RunPython(create_index, drop_index)]
