"""Topic now lives in papers (its 0006): drop it from this app's state; no table changes.

Subscriber.topics points at papers.Topic; its table (subscribers_subscriber_topics) and columns
(subscriber_id, topic_id) keep their names, as the model is still called Topic. newsletter 0013
runs before this one (its run_before): TopicPin must stop pointing at this app's Topic first.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("papers", "0008_topics_and_pins_move_here"),
        ("subscribers", "0011_reader_model"),
    ]
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="subscriber",
                    name="topics",
                    field=models.ManyToManyField(blank=True, related_name="subscribers", to="papers.topic"),
                ),
                migrations.DeleteModel(name="Topic"),
            ]
        )
    ]
