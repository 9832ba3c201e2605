"""Create the capability claim keys the probes test, where the catalogue lacks them.

Existing keys (the seeded catalogue has most of them) are left as they are.
"""

from django.db import migrations

KEYS = [
    ("api_available", "API available", "flag", ""),
    ("model_listed", "Model served by the API", "flag", ""),
    ("chat_completion", "Chat completions", "flag", ""),
    ("function_calling", "Function calling", "flag", ""),
    ("json_mode", "JSON mode", "flag", ""),
    ("structured_output", "Structured output (JSON schema)", "flag", ""),
    ("streaming", "Streaming responses", "flag", ""),
    ("embeddings", "Embeddings endpoint", "flag", ""),
    ("embedding_dimension", "Embedding dimension", "number", "dimensions"),
    ("context_window", "Context window", "number", "tokens"),
    ("moderation", "Moderation endpoint", "flag", ""),
]


def create_missing(apps, schema_editor):
    ClaimKey = apps.get_model("catalog", "ClaimKey")
    for key, label, value_type, unit in KEYS:
        ClaimKey.objects.get_or_create(
            key=key,
            defaults={
                "label": label,
                "group": "capability",
                "value_type": value_type,
                "unit": unit,
                "description": "Testable by the inference tester.",
            },
        )


class Migration(migrations.Migration):
    dependencies = [
        ("inference", "0001_initial"),
        ("catalog", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_missing, migrations.RunPython.noop)]
