"""The zero-configuration endpoint: SmolLM2-135M-Instruct run in-process (the local extra)."""

from django.db import migrations

NAME = "embedded-smollm2"


def create(apps, schema_editor):
    Endpoint = apps.get_model("inference", "Endpoint")
    Endpoint.objects.get_or_create(
        name=NAME,
        defaults={
            "kind": "embedded_local",
            "base_url": "",
            "default_model": "smollm2-135m-instruct",
            "max_requests": 200,
            "max_tokens": 200_000,
        },
    )


def remove(apps, schema_editor):
    apps.get_model("inference", "Endpoint").objects.filter(name=NAME, runs__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("inference", "0002_capability_claim_keys")]

    operations = [migrations.RunPython(create, remove)]
