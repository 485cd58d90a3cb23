"""The preference centre's pages, opened by a manage link.

Preferences, papers liked and rated, saved searches, pause or unsubscribe, and
the reader's data (download or erase). Thin: a form, then one service.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from papers import lookup
from subscribers import browser, links, manage_selectors, searches, selectors, services, signup
from subscribers.export import subscriber_export
from subscribers.manage_forms import AuthorSeedForm, ManagePreferencesForm, SavedSearchForm, SeedsForm
from subscribers.models import Feedback, Subscriber
from subscribers.seeds import SeedResult
from subscribers.tokens import Purpose, TokenExpired, TokenInvalid
from subscribers.uploads import capped_uploads, refused_files
from subscribers.views import link_gone, rate_limited, request_info, seeds_found, to_check_inbox


def with_subscriber(purpose: Purpose) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Resolve the token in the URL to a subscriber, or answer with the invalid-link page."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, token: str, *args: object, **kwargs: object) -> HttpResponse:
            try:
                subscriber = selectors.subscriber_for(purpose, token)
            except (TokenExpired, TokenInvalid):
                subscriber = None
            if subscriber is None:
                return link_gone(request)
            return view(request, subscriber, token, *args, **kwargs)

        return wrapped

    return decorator


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@with_subscriber(Purpose.MANAGE)
def manage(request: HttpRequest, subscriber: Subscriber, token: str) -> HttpResponse:
    if request.method == "POST":
        form = ManagePreferencesForm.for_subscriber(subscriber, data=request.POST)
        if form.is_valid():
            services.subscriber_update_preferences(
                subscriber=subscriber, preferences=form.preferences(), request=request_info(request)
            )
            return redirect(f"{request.path}?done=saved")
        return _manage_page(request, subscriber, token, form=form, status=400)
    response = _manage_page(request, subscriber, token)
    browser.remember(response, subscriber)  # the site's "like this", "follow this search": one press
    return response


def _manage_page(
    request: HttpRequest,
    subscriber: Subscriber,
    token: str,
    *,
    status: int = 200,
    form: ManagePreferencesForm | None = None,
    seeds_form: SeedsForm | None = None,
    author_form: AuthorSeedForm | None = None,
    seeds_found: SeedResult | None = None,
    search_form: SavedSearchForm | None = None,
) -> HttpResponse:
    ratings = manage_selectors.ratings_of(subscriber=subscriber)
    context = {
        "subscriber": subscriber,
        "form": form or ManagePreferencesForm.for_subscriber(subscriber),
        # The site's "Get papers like this" may name a paper (?like=) to add to the papers they like.
        "seeds_form": seeds_form or SeedsForm(initial={"seed_papers": request.GET.get("like", "")[:200]}),
        "author_form": author_form or AuthorSeedForm(),
        "seeds_found": seeds_found,
        "search_form": search_form
        or SavedSearchForm(
            initial={
                "query": request.GET.get("search", "")[:200],
                "category": request.GET.get("category", ""),
            }
        ),
        "saved_searches": manage_selectors.saved_searches_of(subscriber=subscriber),
        "token": token,
        "done": request.GET.get("done", ""),
        "ratings": ratings,
        "next_digest": manage_selectors.next_digest(subscriber=subscriber),
        "feed_url": links.feed_url(subscriber),
    }
    return render(request, "subscribers/manage.html", context, status=status)


@never_cache
@require_POST
@rate_limited("seeds", "RATE_SIGNUPS_PER_IP")
@capped_uploads
@with_subscriber(Purpose.MANAGE)
def manage_seeds(request: HttpRequest, subscriber: Subscriber, token: str) -> HttpResponse:
    """Add papers the reader likes: typed ids or links, a reference file, or papers chosen from their own."""
    form = SeedsForm(request.POST, request.FILES, refused_files=refused_files(request))
    if not form.is_valid():
        return _manage_page(request, subscriber, token, seeds_form=form, status=400)
    found = seeds_found(form)
    services.feedback_seed(subscriber=subscriber, papers=found.papers, request=request_info(request))
    return _manage_page(request, subscriber, token, seeds_found=found)


@never_cache
@require_POST
@rate_limited("seeds", "RATE_SIGNUPS_PER_IP")
@with_subscriber(Purpose.MANAGE)
def manage_seeds_author(request: HttpRequest, subscriber: Subscriber, token: str) -> HttpResponse:
    """Find the reader's own papers by their name and offer them to confirm; nothing is stored yet."""
    form = AuthorSeedForm(request.POST)
    if not form.is_valid():
        return _manage_page(request, subscriber, token, author_form=form, status=400)
    found = lookup.papers_by_author(name=form.cleaned_data["name"])
    context = {"token": token, "name": form.cleaned_data["name"], "found": found}
    return render(request, "subscribers/seeds_author.html", context)


@require_POST
@with_subscriber(Purpose.MANAGE)
def manage_rate(request: HttpRequest, subscriber: Subscriber, token: str, paper_id: int) -> HttpResponse:
    """Rate a paper from the preference centre, change its rating, or undo it ("none")."""
    paper = manage_selectors.paper_rateable(subscriber=subscriber, paper_id=int(paper_id))
    choice = request.POST.get("rating", "")
    if paper is None or choice not in RATINGS:
        return redirect(f"{reverse('subscribers:manage', args=[token])}#papers")
    if RATINGS[choice] is None:
        services.feedback_remove(subscriber=subscriber, paper=paper)
    else:
        services.feedback_record(
            subscriber=subscriber, paper=paper, value=RATINGS[choice], source=Feedback.Source.SITE
        )
    return redirect(f"{reverse('subscribers:manage', args=[token])}?done=rated#papers")


RATINGS = {"more": Feedback.Value.MORE, "less": Feedback.Value.LESS, "none": None}


def _manage_done(token: str, done: str) -> HttpResponseRedirect:
    return redirect(f"{reverse('subscribers:manage', args=[token])}?done={done}#following")


@require_POST
@with_subscriber(Purpose.MANAGE)
def saved_search_add(request: HttpRequest, subscriber: Subscriber, token: str) -> HttpResponse:
    form = SavedSearchForm(request.POST)
    if form.is_valid():
        try:
            searches.saved_search_add(subscriber=subscriber, request=form.cleaned_data["request"])
            return _manage_done(token, "search-saved")
        except searches.SearchRefused as error:
            form.add_error("query", str(error))
    return _manage_page(request, subscriber, token, search_form=form, status=400)


@require_POST
@with_subscriber(Purpose.MANAGE)
def saved_search_remove(
    request: HttpRequest, subscriber: Subscriber, token: str, saved_id: str
) -> HttpResponse:
    searches.saved_search_remove(subscriber=subscriber, saved_search_id=int(saved_id))
    return _manage_done(token, "search-removed")


@require_POST
@with_subscriber(Purpose.MANAGE)
def manage_action(request: HttpRequest, subscriber: Subscriber, token: str, action: str) -> HttpResponse:
    info = request_info(request)
    if action == "pause":
        services.subscriber_pause(subscriber=subscriber, request=info)
    elif action == "resume":
        services.subscriber_resume(subscriber=subscriber, request=info)
    elif action == "unsubscribe":
        services.subscriber_unsubscribe(subscriber=subscriber, request=info, via="preference centre")
        return render(
            request,
            "subscribers/unsubscribed.html",
            {"subscriber": subscriber, "manage_path": links.manage_path(subscriber)},
        )
    elif action == "reset-feedback":
        services.feedback_reset(subscriber=subscriber, request=info)
    elif action == "resubscribe":
        signup.subscriber_resubscribe(subscriber=subscriber, request=info)
        return to_check_inbox()
    return redirect(f"{reverse('subscribers:manage', args=[token])}?done={action}")


@never_cache
@require_POST
@with_subscriber(Purpose.MANAGE)
def export(request: HttpRequest, subscriber: Subscriber, token: str) -> HttpResponse:
    body = json.dumps(subscriber_export(subscriber=subscriber), indent=2, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="papermail-data-{stamp}.json"'
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@with_subscriber(Purpose.MANAGE)
def erase(request: HttpRequest, subscriber: Subscriber, token: str) -> HttpResponse:
    if request.method == "POST" and request.POST.get("confirm") == "erase":
        services.subscriber_erase(subscriber=subscriber)
        return render(request, "subscribers/erased.html")
    return render(request, "subscribers/erase.html", {"subscriber": subscriber, "token": token})
