"""A verification's new outcome, *changed wording*: the quote's passage found, not its words."""

from __future__ import annotations

from django.db import migrations, models

OUTCOMES = ["confirmed", "contradicted", "changed_wording", "inconclusive", "error"]


class Migration(migrations.Migration):
    dependencies = [("catalog", "0008_claim_provider_checked_index_in_meta")]

    operations = [
        migrations.RemoveConstraint(model_name="verification", name="verification_outcome_valid"),
        migrations.AlterField(
            model_name="verification",
            name="outcome",
            field=models.CharField(
                choices=[
                    ("confirmed", "Confirmed"),
                    ("contradicted", "Contradicted"),
                    ("changed_wording", "Changed wording"),
                    ("inconclusive", "Inconclusive"),
                    ("error", "Error"),
                ],
                max_length=20,
            ),
        ),
        migrations.AddConstraint(
            model_name="verification",
            constraint=models.CheckConstraint(
                condition=models.Q(("outcome__in", OUTCOMES)), name="verification_outcome_valid"
            ),
        ),
    ]
