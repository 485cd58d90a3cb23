"""Anymail's tracking signal, handed to the service that records and acts on provider events."""

from __future__ import annotations

from anymail.signals import AnymailTrackingEvent, tracking
from django.dispatch import receiver

from newsletter import services


@receiver(tracking)
def on_tracking_event(sender: object, event: AnymailTrackingEvent, esp_name: str, **kwargs: object) -> None:
    services.tracking_event_record(event=event, provider=esp_name.lower())
