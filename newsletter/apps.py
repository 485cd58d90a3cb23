from django.apps import AppConfig


class NewsletterConfig(AppConfig):
    name = "newsletter"
    verbose_name = "Newsletter"

    def ready(self) -> None:
        from newsletter import checks, webhooks  # noqa: F401 - registers checks, connects the signal receiver
