"""preview_digest: show what a subscriber would receive now, without sending or recording anything."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from newsletter import emails
from subscribers.addresses import canonical_email
from subscribers.models import Subscriber


class Command(BaseCommand):
    help = "Print the digest EMAIL would get now: subject and text part (or the HTML with --html)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--html", action="store_true", help="Print the HTML part instead of the text.")

    def handle(self, *args: object, email: str, html: bool = False, **options: object) -> None:
        subscriber = Subscriber.objects.filter(email=canonical_email(email)).first()
        if subscriber is None:
            raise CommandError(f"no subscriber with the address {email}")
        preview = emails.digest_preview(subscriber=subscriber, now=timezone.now())
        if not preview.html:
            reason = preview.planned.skip_reason or preview.planned.suppressed
            self.stdout.write(f"No digest for {subscriber.email} now: {reason}.")
            return
        if html:
            self.stdout.write(preview.html)
            return
        self.stdout.write(f"Subject: {preview.subject}\n\n{preview.text}")
