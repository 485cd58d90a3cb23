"""Pages for subscribing, confirming, managing preferences and unsubscribing. Thin: forms + one service."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from papers import lookup
from subscribers import links, manage_selectors, ratelimit, searches, seeds, selectors, services, signup
from subscribers.export import subscriber_export
from subscribers.forms import (
    AuthorSeedForm,
    ManagePreferencesForm,
    ResendForm,
    SavedSearchForm,
    SeedFields,
    SeedsForm,
    SignupForm,
)
from subscribers.models import Feedback, Subscriber
from subscribers.seeds import SeedResult
from subscribers.tokens import Purpose, TokenExpired, TokenInvalid, data_from_expired, read_token
from subscribers.uploads import capped_uploads, refused_files


def request_info(request: HttpRequest) -> services.RequestInfo:
    return services.RequestInfo(
        ip=ratelimit.client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")
    )


def too_many(request: HttpRequest, *, retry_after: int) -> HttpResponse:
    response = render(request, "subscribers/too_many.html", status=429)
    response["Retry-After"] = str(retry_after)
    return response


def rate_limited(
    scope: str, rate_setting: str
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Limit POSTs to the view per client address; over the limit the person sees a 429 page."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            if request.method == "POST":
                rate = getattr(settings, rate_setting)
                wait = ratelimit.over_limit(scope, ratelimit.client_bucket(request), rate)
                if wait:
                    return too_many(request, retry_after=wait)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def to_check_inbox() -> HttpResponseRedirect:
    """Redirect to "check your inbox", the answer to every request for an email."""
    return HttpResponseRedirect(links.route_path("subscribers:check_inbox"))


# --- Sign-up -----------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@rate_limited("signup", "RATE_SIGNUPS_PER_IP")
@capped_uploads
def subscribe(request: HttpRequest) -> HttpResponse:
    """Sign up; papers the person likes are looked up now, and wait with the other choices to be confirmed."""
    if request.method == "POST":
        form = SignupForm(request.POST, request.FILES, refused_files=refused_files(request))
        if form.is_bot:
            return to_check_inbox()  # look like success; do nothing
        if form.is_valid():
            found = _seeds_found(form) if form.names_seeds else None
            signup.subscription_request(
                email=form.cleaned_data["email"],
                preferences=form.preferences(),
                request=request_info(request),
                extras=form.extras(seed_papers=found.arxiv_ids if found else []),
            )
            if found is None:
                return to_check_inbox()
            return render(request, "subscribers/check_inbox.html", {"seeds": found})
        status = 400
    else:
        form = SignupForm(initial=_signup_initial(request))
        status = 200
    context = {"form": form, **selectors.signup_context(form=form)}
    return render(request, "subscribers/subscribe.html", context, status=status)


def _signup_initial(request: HttpRequest) -> dict[str, str]:
    """Return what the site's links fill in: an address, a paper to start from, a search to follow."""
    given = {
        "email": request.GET.get("email", ""),
        "seed_papers": request.GET.get("like", ""),  # "Get papers like this"
        "search_query": request.GET.get("search", ""),
        "search_category": request.GET.get("category", ""),
    }
    return {name: value[:200] for name, value in given.items() if value}


def _seeds_found(form: SeedFields) -> SeedResult:
    """Return the papers the form's ids and file name (looked up, and fetched from arXiv where needed)."""
    file_format, references = form.cleaned_data.get("seed_file") or ("", [])
    ids = [*form.cleaned_data.get("seed_papers", []), *form.cleaned_data.get("arxiv_id", [])]
    return seeds.seeds_resolve(arxiv_ids=ids, references=references, file_format=file_format)


def check_inbox(request: HttpRequest) -> HttpResponse:
    return render(request, "subscribers/check_inbox.html")


# --- Double opt-in ---------------------------------------------------------------------------------


def _invalid_link(request: HttpRequest, *, expired_token: str | None = None) -> HttpResponse:
    context = {"expired_token": expired_token, "form": ResendForm()}
    return render(
        request, "subscribers/link_invalid.html", context, status=400 if expired_token is None else 410
    )


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a confirm button (mail scanners follow links); only the POST confirms."""
    try:
        data = read_token(Purpose.CONFIRM, token)
    except TokenExpired:
        return _invalid_link(request, expired_token=token)
    except TokenInvalid:
        return _invalid_link(request)
    subscriber = selectors.subscriber_from_token(data)
    if subscriber is None:
        return _invalid_link(request)
    if request.method != "POST":
        consent = selectors.consent_for(subscriber=subscriber, consent_id=data.consent_id)
        context = {
            "subscriber": subscriber,
            "choices": selectors.signup_choices(subscriber=subscriber, consent=consent) if consent else None,
            "manage_url": links.manage_path(subscriber),
        }
        return render(request, "subscribers/confirm.html", context)
    outcome = signup.subscriber_confirm(
        subscriber=subscriber, consent_id=data.consent_id, request=request_info(request)
    )
    context = {
        "subscriber": outcome.subscriber,
        "already": outcome.already_confirmed,
        "superseded": outcome.superseded,
        "was_subscribed": outcome.was_subscribed,
        "next_digest": manage_selectors.next_digest(subscriber=outcome.subscriber),
        "manage_url": links.manage_path(outcome.subscriber),
    }
    return render(request, "subscribers/confirmed.html", context)


@require_POST
@rate_limited("resend", "RATE_SIGNUPS_PER_IP")
def confirm_resend(request: HttpRequest, token: str) -> HttpResponse:
    """Send the owner of an expired confirmation link a new one (or, if subscribed since, a manage link)."""
    try:
        read_token(Purpose.CONFIRM, token)
        data = None
    except TokenExpired as expired:
        data = data_from_expired(expired)
    except TokenInvalid:
        return _invalid_link(request)
    subscriber = selectors.subscriber_from_token(data) if data else None
    if subscriber is not None:
        signup.subscriber_new_link(subscriber=subscriber, request=request_info(request))
    return to_check_inbox()


@never_cache
@require_http_methods(["GET", "POST"])
@rate_limited("resend", "RATE_SIGNUPS_PER_IP")
def link_request(request: HttpRequest) -> HttpResponse:
    """Ask for a new link by address; the answer is the same whether or not it is known."""
    if request.method == "GET":
        return render(request, "subscribers/new_link.html", {"form": ResendForm()})
    form = ResendForm(request.POST)
    if not form.is_valid():
        return render(request, "subscribers/new_link.html", {"form": form}, status=400)
    signup.link_request(email=form.cleaned_data["email"], request=request_info(request))
    return to_check_inbox()


def link_gone(request: HttpRequest) -> HttpResponse:
    """The page for a link that names nobody: it offers to email a new one."""
    return render(request, "subscribers/link_gone.html", {"form": ResendForm()}, status=404)


# --- Preference centre ---------------------------------------------------------------------------


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
    return _manage_page(request, subscriber, token)


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
    found = _seeds_found(form)
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


# --- One-click unsubscribe (RFC 8058) -----------------------------------------------------------------


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a confirm button; a POST unsubscribes at once and answers 200, never a redirect.

    Mailbox providers POST ``List-Unsubscribe=One-Click`` with no cookies, so no
    CSRF token can be asked for: the signed token in the URL is the credential.
    """
    try:
        subscriber = selectors.subscriber_for(Purpose.UNSUBSCRIBE, token)
    except (TokenExpired, TokenInvalid):
        subscriber = None
    if subscriber is None:
        return link_gone(request)
    if request.method != "POST":
        return render(request, "subscribers/unsubscribe.html", {"subscriber": subscriber})
    one_click = request.POST.get("List-Unsubscribe") == "One-Click"
    services.subscriber_unsubscribe(
        subscriber=subscriber, request=request_info(request), via="one-click" if one_click else "link"
    )
    return render(
        request,
        "subscribers/unsubscribed.html",
        {"subscriber": subscriber, "manage_path": links.manage_path(subscriber)},
    )
