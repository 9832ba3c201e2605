import django.db.models.deletion
from django.db import migrations, models


def forget_cached_answers(apps, schema_editor):
    # The old cache was keyed by the model name alone and kept non-answers: its rows
    # cannot be told apart by endpoint, so they are asked again.
    apps.get_model("inference", "JudgeVerdict").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ("inference", "0005_judge_jobs"),
    ]

    operations = [
        migrations.RunPython(forget_cached_answers, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="judgeverdict",
            name="judgeverdict_cache_key",
        ),
        migrations.RemoveField(
            model_name="judgeverdict",
            name="downgraded",
        ),
        migrations.AddField(
            model_name="judgeverdict",
            name="endpoint",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="inference.endpoint",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="judgeverdict",
            name="endpoint_url",
            field=models.CharField(blank=True, max_length=500),
        ),
        migrations.AddConstraint(
            model_name="judgeverdict",
            constraint=models.UniqueConstraint(
                fields=(
                    "endpoint",
                    "endpoint_url",
                    "judge_model",
                    "prompt_version",
                    "claim_sha256",
                    "passage_sha256",
                ),
                name="judgeverdict_cache_key",
            ),
        ),
    ]
