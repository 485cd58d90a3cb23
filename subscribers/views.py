"""Public pages: sign-up, confirmation, new links, one-click unsubscribe; and what every page here shares.

Thin: a form, then one service. The preference centre's pages are in ``manage_views``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from subscribers import links, manage_selectors, ratelimit, seeds, selectors, services, signup
from subscribers.forms import ResendForm, SignupForm
from subscribers.seed_forms import SeedFields
from subscribers.seeds import SeedResult
from subscribers.tokens import Purpose, TokenExpired, TokenInvalid, data_from_expired, read_token
from subscribers.uploads import capped_uploads, refused_files


def request_info(request: HttpRequest) -> services.RequestInfo:
    """Return where the request came from, for the consent record and the event log."""
    return services.RequestInfo(
        ip=ratelimit.client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")
    )


def too_many(request: HttpRequest, *, retry_after: int) -> HttpResponse:
    """Answer 429 with a page that says when to try again."""
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
            found = seeds_found(form) if form.names_seeds else None
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


def seeds_found(form: SeedFields) -> SeedResult:
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
