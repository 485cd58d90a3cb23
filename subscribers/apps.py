from django.apps import AppConfig


class SubscribersConfig(AppConfig):
    name = "subscribers"
    verbose_name = "Subscribers"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from papers.models import Topic
        from papers.signals import embedding_refitted
        from subscribers.selectors import forget_topic_choices

        post_save.connect(forget_topic_choices, sender=Topic, dispatch_uid="forget-topic-choices-save")
        post_delete.connect(forget_topic_choices, sender=Topic, dispatch_uid="forget-topic-choices-delete")
        from subscribers import (
            checks,  # noqa: F401 - registers the system checks
            signals,
            tasks,
        )

        signals.reader_changed.connect(tasks.retrain_reader_later, dispatch_uid="retrain-reader")
        embedding_refitted.connect(tasks.retrain_everyone_later, dispatch_uid="retrain-everyone")
