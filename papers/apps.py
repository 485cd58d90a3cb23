from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save

from papers import site_cache


def _catalogue_changed(**_signal: object) -> None:
    site_cache.bump_on_commit()


class PapersConfig(AppConfig):
    name = "papers"
    verbose_name = "Papers"

    def ready(self) -> None:
        from papers import checks, signals, tasks  # noqa: F401 - registers the system checks

        signals.papers_added.connect(tasks.embed_after_ingest, dispatch_uid="embed-after-ingest")
        # Paper pages list their nearest neighbours under the active embedding version.
        signals.embedding_refitted.connect(_catalogue_changed, dispatch_uid="site-cache-refit")
        # An editor's change (hiding a paper, fixing a title, a topic's keywords) shows on the
        # site at once, as ingest's does.
        for sender in ("papers.Paper", "papers.Topic"):
            for signal in (post_save, post_delete):
                signal.connect(
                    _catalogue_changed, sender=sender, dispatch_uid=f"site-cache-{sender}-{id(signal)}"
                )
