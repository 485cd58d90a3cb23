"""TopicPin now lives in papers (its 0006): drop it from this app's state, and move the content types.

No table changes. The content types of subscribers.topic and newsletter.topicpin become
papers.topic and papers.topicpin, so the permissions on them (and the Editors' and Admins'
grants) and the admin's history of those objects carry over. Runs after every migration that
names those permissions by their old app, and before subscribers 0011 drops Topic.
"""

from django.conf import settings
from django.db import migrations

MOVED = [("subscribers", "topic"), ("newsletter", "topicpin")]


def to_papers(apps, schema_editor):
    for app_label, model in MOVED:
        _move(apps, model, from_label=app_label, to_label="papers")


def back(apps, schema_editor):
    for app_label, model in MOVED:
        _move(apps, model, from_label="papers", to_label=app_label)


def _move(apps, model, *, from_label, to_label):
    ContentType = apps.get_model("contenttypes", "ContentType")
    moving = ContentType.objects.filter(app_label=from_label, model=model).first()
    if moving is None:
        return  # never made: post_migrate makes the new one
    early = ContentType.objects.filter(app_label=to_label, model=model).first()
    if early is not None:
        _fold(apps, early, into=moving)
    moving.app_label = to_label
    moving.save(update_fields=["app_label"])
    ContentType.objects.clear_cache()


def _fold(apps, early, *, into):
    """Give ``into`` what points at ``early``, then delete ``early``.

    ``early`` exists when permissions were created for the moved state before this migration ran
    (a migration that creates every app's permissions, or a partial migrate); its grants are kept.
    """
    Permission = apps.get_model("auth", "Permission")
    group_grants = apps.get_model("auth", "Group").permissions.through.objects
    user_grants = apps.get_model(settings.AUTH_USER_MODEL).user_permissions.through.objects
    for permission in Permission.objects.filter(content_type=early):
        kept = Permission.objects.filter(content_type=into, codename=permission.codename).first()
        if kept is None:
            permission.content_type = into
            permission.save(update_fields=["content_type"])
            continue
        for grant in group_grants.filter(permission=permission):
            group_grants.get_or_create(group_id=grant.group_id, permission=kept)
        for grant in user_grants.filter(permission=permission):
            user_grants.get_or_create(user_id=grant.user_id, permission=kept)
    apps.get_model("admin", "LogEntry").objects.filter(content_type=early).update(content_type=into)
    early.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("newsletter", "0012_link_email_sweep_in_newsletter"),
        ("papers", "0008_topics_and_pins_move_here"),
        # Every migration that names the topic permissions by their old app comes first.
        ("subscribers", "0011_reader_model"),
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    run_before = [("subscribers", "0012_topic_moves_to_papers")]
    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="TopicPin")]),
        migrations.RunPython(to_papers, back),
    ]
