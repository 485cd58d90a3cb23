"""Beat's link-email sweep is newsletter's task now: the periodic task points at its new name."""

from django.db import migrations

OLD, NEW = "subscribers.tasks.send_owed_link_emails", "newsletter.tasks.send_owed_link_emails"


def rename(apps, schema_editor, old=OLD, new=NEW):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=old).update(task=new)


def rename_back(apps, schema_editor):
    rename(apps, schema_editor, old=NEW, new=OLD)


class Migration(migrations.Migration):
    dependencies = [
        ("newsletter", "0011_delivery_is_test_removed"),
        ("subscribers", "0007_link_email_sweep_schedule"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(rename, rename_back)]
