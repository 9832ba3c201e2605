"""The index on claims by (provider, check date) declared in ``Claim.Meta.indexes``.

Migration 0003 created it by hand on every database; this records it in the models' state
under the same name, so existing databases keep the index they have and nothing is rebuilt.
"""

from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0007_claim_current_provider_checked_index")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(
                    model_name="claim",
                    index=models.Index(
                        fields=["provider", "checked_at"], name="claim_provider_checked_idx"
                    ),
                )
            ],
            database_operations=[],
        )
    ]
