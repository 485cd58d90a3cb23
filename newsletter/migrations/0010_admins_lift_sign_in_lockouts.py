"""Admins may see failed sign-ins and lift a lockout (by deleting its access attempts)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ADMINS_GAIN = [
    ("axes", "view_accessattempt"),
    ("axes", "delete_accessattempt"),
    ("axes", "view_accesslog"),
    ("axes", "view_accessfailurelog"),
]


def _permissions(apps):
    app_config = apps.get_app_config("axes")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    return [Permission.objects.get(content_type__app_label=app, codename=code) for app, code in ADMINS_GAIN]


def grant(apps, schema_editor):
    for admins in apps.get_model("auth", "Group").objects.filter(name="Admins"):
        admins.permissions.add(*_permissions(apps))


def revoke(apps, schema_editor):
    for admins in apps.get_model("auth", "Group").objects.filter(name="Admins"):
        admins.permissions.remove(*_permissions(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("newsletter", "0009_only_admins_change_schedules"),
        ("axes", "0010_accessattemptexpiration"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
