"""Where a source check found a claim's quote: the stored text version and the character span.

Nullable: verifications written before this, and every verification that found nothing,
point at no text. Offsets exist only together with a version, as a non-empty span.
"""

from __future__ import annotations

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0009_verification_changed_wording"),
        ("crawlers", "0002_version_raw_hash"),
    ]

    operations = [
        migrations.AddField(
            model_name="verification",
            name="found_in",
            field=models.ForeignKey(
                blank=True,
                help_text="The stored text of the source in which the quote was found.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="verifications_found",
                to="crawlers.version",
            ),
        ),
        migrations.AddField(
            model_name="verification",
            name="quote_end",
            field=models.PositiveIntegerField(
                blank=True, help_text="Where the quote ends in that text (exclusive).", null=True
            ),
        ),
        migrations.AddField(
            model_name="verification",
            name="quote_start",
            field=models.PositiveIntegerField(
                blank=True, help_text="Where the quote starts in that text (characters).", null=True
            ),
        ),
        migrations.AddConstraint(
            model_name="verification",
            constraint=models.CheckConstraint(
                condition=models.Q(quote_start__isnull=True, quote_end__isnull=True)
                | models.Q(
                    found_in__isnull=False,
                    quote_start__gte=0,
                    quote_end__gt=models.F("quote_start"),
                ),
                name="verification_quote_span_valid",
            ),
        ),
    ]
