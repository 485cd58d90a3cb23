from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save

from papers import site_cache


def _paper_changed(**_signal: object) -> None:
    site_cache.bump_on_commit()


class PapersConfig(AppConfig):
    name = "papers"
    verbose_name = "Papers"

    def ready(self) -> None:
        from papers import checks, db  # noqa: F401 - registers the system checks and the field__any lookup

        # An editor's change (hiding a paper, fixing a title) shows on the site at once, as ingest's does.
        for signal in (post_save, post_delete):
            signal.connect(_paper_changed, sender="papers.Paper", dispatch_uid=f"site-cache-{id(signal)}")
