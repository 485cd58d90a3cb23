"""Stored events that are not bounces stop counting as soft or hard bounces.

Deferrals, and refusals for the sender's policy or content, were classed as
bounces; soft ones within SOFT_BOUNCE_DAYS would still count towards
SOFT_BOUNCE_LIMIT. Suppressions they caused are left for the operator to review.
"""

from __future__ import annotations

from django.db import migrations
from django.db.models import Q


def clear_non_bounces(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    TrackingEvent = apps.get_model("newsletter", "TrackingEvent")
    not_bounces = (
        Q(event_type="deferred")
        | (Q(event_type="rejected") & ~Q(reject_reason__in=["invalid", "bounced", "timed_out"]))
        | Q(event_type="bounced", reject_reason__in=["blocked", "spam"])
    )
    TrackingEvent.objects.filter(not_bounces).exclude(bounce="").update(bounce="")


class Migration(migrations.Migration):
    dependencies = [("newsletter", "0007_item_keys_kept_by_django")]

    operations = [migrations.RunPython(clear_non_bounces, migrations.RunPython.noop)]
