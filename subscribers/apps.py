from django.apps import AppConfig


class SubscribersConfig(AppConfig):
    name = "subscribers"
    verbose_name = "Subscribers"

    def ready(self) -> None:
        from papers.signals import embedding_refitted
        from subscribers import (
            checks,  # noqa: F401 - registers the system checks
            signals,
            tasks,
        )

        signals.reader_changed.connect(tasks.retrain_reader_later, dispatch_uid="retrain-reader")
        embedding_refitted.connect(tasks.retrain_everyone_later, dispatch_uid="retrain-everyone")
