from django.apps import AppConfig
from django.db import models

from papers.db import AnyOf


class NewsletterConfig(AppConfig):
    name = "newsletter"
    verbose_name = "Newsletter"

    def ready(self) -> None:
        from newsletter import checks, webhooks  # noqa: F401 - registers checks, connects the signal receiver

        # The digest path filters ids, foreign keys and email hashes by long lists: field__any.
        for field in (models.BigAutoField, models.ForeignKey, models.CharField):
            field.register_lookup(AnyOf)
