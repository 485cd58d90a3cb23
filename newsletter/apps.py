from django.apps import AppConfig


class NewsletterConfig(AppConfig):
    name = "newsletter"
    verbose_name = "Newsletter"

    def ready(self) -> None:
        from newsletter import webhooks  # noqa: F401 - connects the tracking signal receiver
