from django.apps import AppConfig

from papers import site_cache


class SubscribersConfig(AppConfig):
    name = "subscribers"
    verbose_name = "Subscribers"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from subscribers import checks  # noqa: F401 - registers the system checks
        from subscribers.models import Topic
        from subscribers.selectors import forget_topic_choices

        post_save.connect(forget_topic_choices, sender=Topic, dispatch_uid="forget-topic-choices-save")
        post_delete.connect(forget_topic_choices, sender=Topic, dispatch_uid="forget-topic-choices-delete")
        # Topic feeds are kept in the site's cache: an editor's change shows at once.
        post_save.connect(_topic_changed, sender=Topic, dispatch_uid="site-cache-topic-save")
        post_delete.connect(_topic_changed, sender=Topic, dispatch_uid="site-cache-topic-delete")


def _topic_changed(**_signal: object) -> None:
    site_cache.bump_on_commit()
