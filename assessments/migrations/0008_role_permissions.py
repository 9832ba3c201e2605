"""The curator and admin groups get the permissions the curator pages outside the reviewers'
area ask for (triage, "Read it now", a claim's probes); new groups get them from
``assessments.services.roles.role_group``."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

PERMISSIONS = (
    ("catalog", "change_claim"),
    ("crawlers", "change_crawlsettings"),
    ("inference", "run_probe"),
)
ROLES = ("curator", "admin")


def grant(apps, schema_editor):
    # Permissions are made after the last migration; make them now so a fresh database's
    # groups get them too.
    for label in {label for label, _ in PERMISSIONS}:
        create_permissions(global_apps.get_app_config(label), verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    found = [
        Permission.objects.get(content_type__app_label=label, codename=codename)
        for label, codename in PERMISSIONS
    ]
    for name in ROLES:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*found)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name__in=ROLES):
        for label, codename in PERMISSIONS:
            group.permissions.remove(
                *Permission.objects.filter(content_type__app_label=label, codename=codename)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0007_assessment_claims_moved"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("catalog", "0011_source_listed"),
        ("crawlers", "0002_version_raw_hash"),
        ("inference", "0006_judge_cache_per_endpoint"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
