"""Beat sends owed link emails every two seconds (editable in the admin under Periodic tasks);
the Admins group may view link emails."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

NAME = "Send owed link emails"


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_two_seconds, _ = IntervalSchedule.objects.get_or_create(every=2, period="seconds")
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={
            "task": "subscribers.tasks.send_owed_link_emails",
            "interval": every_two_seconds,
            "queue": "send",
            "description": (
                "Sends the confirmation and preference-centre emails that sign-ups and "
                "link requests recorded; each is claimed first, so it is safe to run twice."
            ),
        },
    )
    app_config = apps.get_app_config("subscribers")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    view = Permission.objects.get(content_type__app_label="subscribers", codename="view_linkemail")
    for group in apps.get_model("auth", "Group").objects.filter(name="Admins"):
        group.permissions.add(view)


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("subscribers", "0006_link_email"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ("newsletter", "0004_roles"),
    ]
    operations = [migrations.RunPython(create, remove)]
