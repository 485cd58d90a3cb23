"""Topic and TopicPin move here from subscribers and newsletter: state only, their tables stay as they are.

subscribers 0011 and newsletter 0013 drop them from their own state; newsletter 0013 also moves
their content types (permissions, groups, admin history) to this app.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

import papers.models

TOPIC = migrations.CreateModel(
    name="Topic",
    fields=[
        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
        ("name", models.CharField(max_length=100)),
        ("slug", models.SlugField(max_length=64, unique=True)),
        ("description", models.CharField(blank=True, max_length=300)),
        (
            "categories",
            models.JSONField(blank=True, default=list, help_text='arXiv categories, e.g. ["cs.CL"].'),
        ),
        (
            "include_keywords",
            models.JSONField(
                blank=True,
                default=list,
                encoder=papers.models.UnicodeJSONEncoder,
                help_text="A paper matching any of these matches.",
            ),
        ),
        (
            "exclude_keywords",
            models.JSONField(
                blank=True,
                default=list,
                encoder=papers.models.UnicodeJSONEncoder,
                help_text="A paper matching any of these never matches.",
            ),
        ),
        ("position", models.PositiveSmallIntegerField(default=0, help_text="Order on the sign-up form.")),
        (
            "active",
            models.BooleanField(default=True, help_text="Inactive topics are not offered on the form."),
        ),
    ],
    options={"db_table": "subscribers_topic", "ordering": ["position", "name"]},
)

TOPIC_PIN = migrations.CreateModel(
    name="TopicPin",
    fields=[
        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
        (
            "paper",
            models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="pins", to="papers.paper"
            ),
        ),
        (
            "topic",
            models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="pins", to="papers.topic"
            ),
        ),
    ],
    options={
        "db_table": "newsletter_topicpin",
        "constraints": [models.UniqueConstraint(fields=("topic", "paper"), name="pin_unique_topic_paper")],
    },
)


class Migration(migrations.Migration):
    dependencies = [("papers", "0007_embedding_schedules")]
    operations = [migrations.SeparateDatabaseAndState(state_operations=[TOPIC, TOPIC_PIN])]
