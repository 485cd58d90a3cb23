"""Two groups: Editors curate papers, topics and feeds and preview digests; Admins also manage subscribers."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

EDITOR_PERMISSIONS = [
    ("papers", "view_paper"),
    ("papers", "change_paper"),
    ("papers", "view_feed"),
    ("papers", "add_feed"),
    ("papers", "change_feed"),
    ("papers", "view_fetchrun"),
    ("subscribers", "view_topic"),
    ("subscribers", "add_topic"),
    ("subscribers", "change_topic"),
    ("subscribers", "view_subscriber"),
    ("newsletter", "view_topicpin"),
    ("newsletter", "add_topicpin"),
    ("newsletter", "delete_topicpin"),
    ("newsletter", "view_edition"),
    ("newsletter", "view_delivery"),
    ("newsletter", "view_dispatchrun"),
    ("newsletter", "preview_digest"),
    ("django_celery_beat", "view_periodictask"),
    ("django_celery_beat", "change_periodictask"),
    ("django_celery_beat", "view_crontabschedule"),
]
ADMIN_EXTRA_PERMISSIONS = [
    ("subscribers", "change_subscriber"),
    ("subscribers", "export_subscriber"),
    ("subscribers", "view_consentrecord"),
    ("subscribers", "view_subscriberevent"),
    ("subscribers", "view_suppression"),
    ("subscribers", "delete_topic"),
    ("papers", "delete_feed"),
    ("newsletter", "retry_delivery"),
    ("newsletter", "view_trackingevent"),
    ("django_celery_beat", "add_periodictask"),
    ("django_celery_beat", "add_crontabschedule"),
    ("django_celery_beat", "change_crontabschedule"),
]


def create(apps, schema_editor):
    # Permissions are normally created after all migrations; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def permissions(pairs):
        return [
            Permission.objects.get(content_type__app_label=app, codename=codename) for app, codename in pairs
        ]

    editors, _ = Group.objects.get_or_create(name="Editors")
    editors.permissions.set(permissions(EDITOR_PERMISSIONS))
    admins, _ = Group.objects.get_or_create(name="Admins")
    admins.permissions.set(permissions(EDITOR_PERMISSIONS + ADMIN_EXTRA_PERMISSIONS))


def remove(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Editors", "Admins"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("newsletter", "0003_dispatchrun_alter_delivery_options_and_more"),
        ("subscribers", "0005_alter_subscriber_options"),
        ("papers", "0003_unicode_json"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create, remove)]
