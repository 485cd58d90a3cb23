"""Only Admins may change beat's schedules; Editors may view them.

Editors could disable "Send owed link emails" (no confirmation went out) or point a task at
any function with any arguments. Admins may also change interval schedules (the link-email
sweep runs on one).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

EDITORS_LOSE = [("django_celery_beat", "change_periodictask")]
EDITORS_GAIN = [("django_celery_beat", "view_intervalschedule")]
ADMINS_GAIN = [
    ("django_celery_beat", "change_periodictask"),
    ("django_celery_beat", "view_intervalschedule"),
    ("django_celery_beat", "add_intervalschedule"),
    ("django_celery_beat", "change_intervalschedule"),
]


def _permissions(apps, pairs):
    Permission = apps.get_model("auth", "Permission")
    return [Permission.objects.get(content_type__app_label=app, codename=codename) for app, codename in pairs]


def _ensure_permissions(apps):
    # Permissions are normally created after all migrations; make sure they exist now.
    app_config = apps.get_app_config("django_celery_beat")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None


def restrict(apps, schema_editor):
    _ensure_permissions(apps)
    Group = apps.get_model("auth", "Group")
    for editors in Group.objects.filter(name="Editors"):
        editors.permissions.remove(*_permissions(apps, EDITORS_LOSE))
        editors.permissions.add(*_permissions(apps, EDITORS_GAIN))
    for admins in Group.objects.filter(name="Admins"):
        admins.permissions.add(*_permissions(apps, ADMINS_GAIN))


def unrestrict(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for editors in Group.objects.filter(name="Editors"):
        editors.permissions.remove(*_permissions(apps, EDITORS_GAIN))
        editors.permissions.add(*_permissions(apps, EDITORS_LOSE))
    for admins in Group.objects.filter(name="Admins"):
        admins.permissions.remove(*_permissions(apps, ADMINS_GAIN[1:]))


class Migration(migrations.Migration):
    dependencies = [
        ("newsletter", "0008_deferrals_are_not_bounces"),
        ("subscribers", "0007_link_email_sweep_schedule"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(restrict, unrestrict)]
