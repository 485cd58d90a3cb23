"""Admins see a subscriber's saved searches (and may delete one); Editors gain nothing.

Saved searches are what a reader typed into the site: personal data, as their consent records
are. Editors may view subscribers for digest previews but, as with consent and history, do not
see them.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ADMINS_GAIN = [
    ("subscribers", "view_savedsearch"),
    ("subscribers", "delete_savedsearch"),
]


def _permissions(apps):
    # Permissions are normally created after all migrations; make sure they exist now.
    app_config = apps.get_app_config("subscribers")
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
        ("newsletter", "0013_topic_pins_move_to_papers"),
        ("subscribers", "0013_subscriber_categories_and_saved_searches"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
