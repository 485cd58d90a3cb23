"""Stored addresses take their canonical form (subscribers/addresses.py): IDN domains in punycode.

A mailbox stored twice, once in each form, becomes one subscriber: the older row
is kept, the newer row's history (consents, events, link emails, feedback,
deliveries, provider events) moves onto it, and the status and preferences of
whichever row made the newest choice (signed up, confirmed, unsubscribed, was
suppressed) win. A suppression remembered for either form is kept for the
canonical one. Each merge and each suppression applied is printed.
"""

import hashlib
import hmac

from django.conf import settings
from django.db import IntegrityError, migrations, transaction

from subscribers.addresses import canonical_email

PREFERENCES = (
    "keywords",
    "excluded_keywords",
    "authors",
    "cadence",
    "timezone",
    "send_hour",
    "send_weekday",
    "max_papers",
)
STATE = ("status", "confirmed_at", "unsubscribed_at", "suppressed_reason")


def _hash(address):
    """The keyed hash of a stored address (subscribers.tokens.email_hash of that day, frozen here)."""
    return hmac.new(settings.SUPPRESSION_HASH_KEY.encode(), address.encode(), hashlib.sha256).hexdigest()


def canonicalise(apps, schema_editor):
    Subscriber = apps.get_model("subscribers", "Subscriber")
    rows = Subscriber.objects.order_by("created_at", "pk").values_list("pk", "email")
    changed = [(pk, email, canonical_email(email)) for pk, email in rows.iterator()]
    for pk, old, new in changed:
        if old == new:
            continue
        with transaction.atomic():
            _carry_suppression(apps, old, new)
            subscriber = Subscriber.objects.get(pk=pk)
            other = Subscriber.objects.filter(email=new).exclude(pk=pk).first()
            kept = _merge(apps, subscriber, other) if other else subscriber
            kept.email = new
            kept.save()
            _apply_suppression(apps, kept)


def _carry_suppression(apps, old, new):
    """Re-key a suppression of the old form to the canonical one (a stronger reason than erasure wins)."""
    Suppression = apps.get_model("subscribers", "Suppression")
    before = Suppression.objects.filter(email_hash=_hash(old)).first()
    if before is None:
        return
    after = Suppression.objects.filter(email_hash=_hash(new)).first()
    if after is None:
        Suppression.objects.create(email_hash=_hash(new), reason=before.reason, created_at=before.created_at)
    elif after.reason == "erased" and before.reason != "erased":
        after.reason = before.reason
        after.save(update_fields=["reason"])
    before.delete()


def _last_choice(apps, subscriber):
    """When the person (or a provider, for a suppression) last decided what this row's status is."""
    times = [subscriber.created_at, subscriber.confirmed_at, subscriber.unsubscribed_at]
    if subscriber.status == "suppressed":
        SubscriberEvent = apps.get_model("subscribers", "SubscriberEvent")
        event = (
            SubscriberEvent.objects.filter(subscriber=subscriber, kind="suppressed").order_by("-at").first()
        )
        times.append(event.at if event else None)
    return max(t for t in times if t is not None)


def _merge(apps, one, other):
    """Fold the newer of two rows for one mailbox into the older; return the older."""
    Subscriber = apps.get_model("subscribers", "Subscriber")
    older, newer = sorted((one, other), key=lambda s: (s.created_at, s.pk))
    if _last_choice(apps, newer) > _last_choice(apps, older):
        for name in (*PREFERENCES, *STATE):
            setattr(older, name, getattr(newer, name))
        older.topics.set(newer.topics.all())
    for relation in Subscriber._meta.related_objects:
        if relation.one_to_many:
            _move(relation.related_model, relation.field.name, newer.pk, older.pk)
    print(
        f"\n  merged subscriber {newer.pk} ({newer.status}) into subscriber {older.pk}: one mailbox, "
        f"two forms of its address; it is now {older.status}",
        end="",
    )
    newer.delete()  # with what could not move (a delivery of an edition both rows got)
    return older


def _move(model, field, source, target):
    rows = model._base_manager.filter(**{field: source})
    try:
        with transaction.atomic():
            rows.update(**{field: target})
    except IntegrityError:  # a unique constraint (one delivery per edition, one feedback per paper)
        for pk in rows.values_list("pk", flat=True):
            try:
                with transaction.atomic():
                    model._base_manager.filter(pk=pk).update(**{field: target})
            except IntegrityError:
                pass


def _apply_suppression(apps, subscriber):
    """Suppress a row whose canonical address was suppressed (a bounce for its other form).

    A confirmation after the suppression lifts it instead, as confirming does.
    """
    Suppression = apps.get_model("subscribers", "Suppression")
    SubscriberEvent = apps.get_model("subscribers", "SubscriberEvent")
    suppression = (
        Suppression.objects.filter(email_hash=_hash(subscriber.email)).exclude(reason="erased").first()
    )
    if suppression is None or subscriber.status == "suppressed":
        return
    if subscriber.confirmed_at and subscriber.confirmed_at > suppression.created_at:
        suppression.delete()
        return
    previous = subscriber.status
    subscriber.status = "suppressed"
    subscriber.suppressed_reason = suppression.reason
    subscriber.save(update_fields=["status", "suppressed_reason"])
    SubscriberEvent.objects.create(
        subscriber=subscriber,
        kind="suppressed",
        detail={"reason": suppression.reason, "previous": previous, "why": "its address in another form"},
    )
    print(
        f"\n  suppressed subscriber {subscriber.pk} ({suppression.reason} of its address in another form)",
        end="",
    )


class Migration(migrations.Migration):
    dependencies = [("subscribers", "0007_link_email_sweep_schedule")]

    operations = [migrations.RunPython(canonicalise, migrations.RunPython.noop, elidable=True)]
