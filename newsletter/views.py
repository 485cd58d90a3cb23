"""Site-wide pages: health check, and the digest pages (view in browser, feedback, personal feed)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.feedgenerator import Atom1Feed
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from newsletter import emails, rendering
from newsletter import selectors as digest_selectors
from newsletter.celery import app as celery_app
from newsletter.models import Delivery
from subscribers import links
from subscribers import selectors as subscriber_selectors
from subscribers import services as subscriber_services
from subscribers.models import Feedback
from subscribers.tokens import Purpose, TokenExpired, TokenInvalid, read_token
from subscribers.views import link_gone

logger = logging.getLogger(__name__)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.warning("health check: database unreachable", exc_info=True)
        return False


def _broker_ok() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        logger.warning("health check: broker unreachable", exc_info=True)
        return False


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "unavailable"} | {
        k: "ok" if v else "unreachable" for k, v in checks.items()
    }
    return JsonResponse(body, status=200 if healthy else 503)


# --- Digest pages: view in browser, feedback, personal feed -----------------------------------------


def _delivery_from(token: str) -> Delivery | None:
    try:
        data = read_token(Purpose.DELIVERY, token)
    except (TokenExpired, TokenInvalid):
        return None
    subscriber = subscriber_selectors.subscriber_from_token(data)
    if subscriber is None or data.delivery_id is None:
        return None
    return (
        Delivery.objects.filter(pk=data.delivery_id, subscriber=subscriber)
        .select_related("subscriber", "edition")
        .first()
    )


@never_cache
@require_safe
def digest_in_browser(request: HttpRequest, token: str) -> HttpResponse:
    """The digest exactly as it was mailed, with the papers it recorded."""
    delivery = _delivery_from(token)
    if delivery is None or not delivery.items.exists():
        return link_gone(request)
    html = emails.delivery_html(delivery=delivery)
    response = HttpResponse(html)
    response["X-Robots-Tag"] = "noindex"
    return response


VALUES = {"more": Feedback.Value.MORE, "less": Feedback.Value.LESS}
NAMES = {Feedback.Value.MORE: "more", Feedback.Value.LESS: "less"}


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def feedback(request: HttpRequest, token: str, paper_id: int, direction: str) -> HttpResponse:
    """GET shows the choice, and any rating already given (mail scanners follow links); a POST records it.

    The POST answers with what it changed and an undo button, which restores the rating
    there was before (``previous``); ``action=remove`` forgets the rating.
    """
    delivery = _delivery_from(token)
    item = delivery.items.select_related("paper").filter(paper_id=paper_id).first() if delivery else None
    if item is None:
        return link_gone(request)
    subscriber, paper = delivery.subscriber, item.paper
    current = subscriber_selectors.rating_of(subscriber=subscriber, paper=paper)
    context = {
        "paper": paper,
        "token": token,
        "direction": direction,
        "other": "less" if direction == "more" else "more",
        "current": NAMES.get(current, "none"),
        "effect": rendering.feedback_effect(paper, more=direction == "more"),
    }
    if request.method != "POST":
        return render(request, "newsletter/feedback.html", context)
    action = request.POST.get("action", "record")
    wanted = {"record": direction, "remove": "none"}.get(action, request.POST.get("previous", ""))
    if wanted not in (*VALUES, "none"):
        return render(request, "newsletter/feedback.html", context, status=400)
    if wanted == "none":
        subscriber_services.feedback_remove(subscriber=subscriber, paper=paper)
    else:
        subscriber_services.feedback_record(
            subscriber=subscriber, paper=paper, value=VALUES[wanted], source=Feedback.Source.DIGEST
        )
    context |= {
        "effect": rendering.feedback_effect(paper, more=wanted == "more"),
        "action": action,
        "now": wanted,
        "previous": context["current"],
        "manage_url": links.manage_url(subscriber),
    }
    return render(request, "newsletter/feedback_saved.html", context)


PLACEHOLDER_KINDS = {
    "manage": "preferences",
    "unsubscribe": "unsubscribe",
    "view": "view in browser",
    "feedback": "feedback",
    "feed": "personal feed",
}


@csrf_exempt  # a mailbox provider's one-click POST to a test digest's List-Unsubscribe lands here
@require_http_methods(["GET", "HEAD", "POST"])
def preview_link(request: HttpRequest, link: str) -> HttpResponse:
    """What a link of a previewed or test digest opens: a page saying it stands in for a subscriber's link."""
    kind = link.split("/", 1)[0]
    response = render(
        request, "newsletter/preview_link.html", {"kind": PLACEHOLDER_KINDS.get(kind, "personal")}
    )
    response["X-Robots-Tag"] = "noindex"
    return response


@never_cache  # personal: no shared cache (nor any other) may keep it
@require_safe
def personal_feed(request: HttpRequest, token: str) -> HttpResponse:
    """An Atom feed of the papers in this subscriber's recent digests, for feed readers."""
    try:
        subscriber = subscriber_selectors.subscriber_for(Purpose.FEED, token)
    except (TokenExpired, TokenInvalid):
        subscriber = None
    if subscriber is None:
        return HttpResponse("This feed link is not valid.", status=404, content_type="text/plain")
    feed = Atom1Feed(
        title="papermail: your papers",
        link=settings.SITE_URL + "/",
        description="The papers picked for you in your recent papermail digests.",
        feed_url=request.build_absolute_uri(),
        language="en",
    )
    for item in digest_selectors.feed_items(subscriber=subscriber):
        paper = item.paper
        feed.add_item(
            title=paper.title,
            link=paper.abstract_page,
            description=f"{item.why}\n\n{rendering.summary_of(paper)}",
            unique_id=f"{paper.abstract_page}#{item.delivery_id}",
            pubdate=item.delivery.sent_at,
            author_name=rendering.authors_of(paper),
            categories=paper.categories,
        )
    return HttpResponse(feed.writeString("utf-8"), content_type="application/atom+xml; charset=utf-8")
