"""Whether a source is listed: shown to the public and read by the crawler.

Every existing source stays listed; from now on an address a reviewer cites in a draft or a
proposed correction is created unlisted and listed when a curator approves it.
"""

from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0010_verification_found_in"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalsource",
            name="listed",
            field=models.BooleanField(
                default=True,
                help_text="Public and crawled; off until a curator approves a draft citing it.",
            ),
        ),
        migrations.AddField(
            model_name="source",
            name="listed",
            field=models.BooleanField(
                default=True,
                help_text="Public and crawled; off until a curator approves a draft citing it.",
            ),
        ),
    ]
