"""Topics and pins moved into papers without touching their tables: a database from before keeps its data."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.state import StateApps

from papers.models import Topic, TopicPin
from subscribers.models import Subscriber
from tests.conftest import MIGRATED_ROLES

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

BEFORE = [
    ("papers", "0007_embedding_schedules"),
    ("subscribers", "0011_reader_model"),
    ("newsletter", "0012_link_email_sweep_in_newsletter"),
]
MOVED_FROM = ("subscribers", "newsletter")
EDITORS_ON_TOPICS = {
    "view_topic",
    "add_topic",
    "change_topic",
    "view_topicpin",
    "add_topicpin",
    "delete_topicpin",
}


def _migrate(targets: list[tuple[str, str]]) -> StateApps:
    """Migrate the test database to ``targets``; return the apps as they were there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    ContentType.objects.clear_cache()
    return MigrationExecutor(connection).loader.project_state(targets).apps


def _latest() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _before_the_move() -> list[tuple[str, str]]:
    """The three apps where main left them; every other app at its latest."""
    return [node for node in _latest() if node[0] not in {"papers", *MOVED_FROM}] + BEFORE


@pytest.fixture
def before(roles: None) -> Iterator[StateApps]:
    """The database as main left it before the move, with the Editors and Admins groups."""
    apps = _migrate(_before_the_move())
    yield apps
    _migrate(_latest())


def _old_data(apps: StateApps) -> tuple[int, int, int]:
    topic = apps.get_model("subscribers", "Topic").objects.create(
        name="Robots", slug="robots", categories=["cs.RO"], include_keywords=["Ramírez grasp"]
    )
    paper = apps.get_model("papers", "Paper").objects.create(arxiv_id="2401.00001", title="Grasping")
    pin = apps.get_model("newsletter", "TopicPin").objects.create(topic=topic, paper=paper)
    subscriber = apps.get_model("subscribers", "Subscriber").objects.create(email="a@example.org")
    subscriber.topics.add(topic)
    return topic.pk, pin.pk, subscriber.pk


def test_it_keeps_topics_pins_and_subscribers_topics(before: StateApps) -> None:
    topic_id, pin_id, subscriber_id = _old_data(before)

    _migrate(_latest())

    topic = Topic.objects.get(pk=topic_id)
    assert (topic.slug, topic.categories, topic.include_keywords) == ("robots", ["cs.RO"], ["Ramírez grasp"])
    assert TopicPin.objects.get(pk=pin_id).topic == topic
    assert list(Subscriber.objects.get(pk=subscriber_id).topics.all()) == [topic]
    assert list(topic.pins.values_list("paper__arxiv_id", flat=True)) == ["2401.00001"]


def test_it_keeps_what_editors_may_do_with_topics_and_pins(before: StateApps) -> None:
    editors = before.get_model("auth", "Group").objects.get(name="Editors")
    had = set(editors.permissions.values_list("content_type__app_label", "codename"))
    assert {(label, code) for label, code in had if code in EDITORS_ON_TOPICS} == {
        ("subscribers" if code.endswith("_topic") else "newsletter", code) for code in EDITORS_ON_TOPICS
    }

    _migrate(_latest())

    granted = set(
        Group.objects.get(name="Editors").permissions.values_list("content_type__app_label", "codename")
    )
    assert {("papers", codename) for codename in EDITORS_ON_TOPICS} <= granted
    assert not {pair for pair in granted if pair[1] in EDITORS_ON_TOPICS and pair[0] != "papers"}
    assert not ContentType.objects.filter(app_label__in=MOVED_FROM, model__startswith="topic")


def test_it_keeps_the_admin_history_of_a_topic(before: StateApps) -> None:
    topic_id, _pin_id, _subscriber_id = _old_data(before)
    old_type = before.get_model("contenttypes", "ContentType").objects.get(
        app_label="subscribers", model="topic"
    )
    user = before.get_model("auth", "User").objects.create(username="editor")
    before.get_model("admin", "LogEntry").objects.create(
        user=user, content_type_id=old_type.pk, object_id=str(topic_id), object_repr="Robots", action_flag=2
    )

    _migrate(_latest())

    assert LogEntry.objects.get().get_edited_object() == Topic.objects.get(pk=topic_id)


def test_it_keeps_grants_made_on_a_papers_topic_type_made_before_the_move(before: StateApps) -> None:
    # A partial migrate (papers first) lets post_migrate create papers.topic and its permissions early.
    content_types = before.get_model("contenttypes", "ContentType").objects
    early = content_types.create(app_label="papers", model="topic")
    permission = before.get_model("auth", "Permission").objects.create(
        content_type=early, codename="change_topic", name="Can change topic"
    )
    before.get_model("auth", "Group").objects.create(name="Curators").permissions.add(permission)

    _migrate(_latest())

    moved = ContentType.objects.get(app_label="papers", model="topic")
    assert set(Group.objects.get(name="Curators").permissions.all()) == {
        Permission.objects.get(content_type=moved, codename="change_topic")
    }
    assert Permission.objects.filter(content_type=moved, codename="change_topic").count() == 1


def test_a_fresh_database_gives_editors_the_topic_permissions_in_papers() -> None:
    editors = set(MIGRATED_ROLES["Editors"])
    assert {("papers", codename) for codename in EDITORS_ON_TOPICS} <= editors
    assert ("papers", "delete_topic") not in editors
    assert ("papers", "delete_topic") in set(MIGRATED_ROLES["Admins"])
