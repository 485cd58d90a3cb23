from django.apps import AppConfig


class PapersConfig(AppConfig):
    name = "papers"
    verbose_name = "Papers"

    def ready(self) -> None:
        from papers import checks, signals, tasks  # noqa: F401 - registers the system checks

        signals.papers_added.connect(tasks.embed_after_ingest, dispatch_uid="embed-after-ingest")
