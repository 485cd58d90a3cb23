"""The site's one-press actions for a reader this browser recognises (subscribers/browser.py).

"Get papers like this" on a paper's page and "Email me new papers matching
this search" on the search page lead here. A reader who opened their
preference centre in this browser confirms with one press (a GET shows the
button and changes nothing); anyone else is taken to the sign-up form with the
paper or the search filled in, through the usual double opt-in.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_cookie

from papers import selectors as paper_selectors
from subscribers import browser, searches, services
from subscribers.models import Feedback
from subscribers.views import request_info


@never_cache
@vary_on_cookie
@require_http_methods(["GET", "HEAD", "POST"])
def like_paper(request: HttpRequest, arxiv_id: str) -> HttpResponse:
    """Add a paper from the site to the papers a recognised reader likes; others start a sign-up with it.

    A GET only shows the button (mail scanners and prefetchers change nothing).
    """
    paper = paper_selectors.paper_by_arxiv_id(arxiv_id)
    if paper is None:
        raise Http404("No paper with this arXiv id here.")
    reader = browser.recognised(request)
    if reader is None:
        return redirect(f"{reverse('subscribers:subscribe')}?{urlencode({'like': paper.arxiv_id})}")
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if action == "forget":
        response = redirect("papers:paper", arxiv_id=paper.arxiv_id)
        browser.forget(response)
        return response
    added = undone = False
    if action == "like":
        added = services.feedback_seed(subscriber=reader, papers=[paper], request=request_info(request)) > 0
    elif action == "undo":
        undone = services.feedback_remove(subscriber=reader, paper=paper)
    liked = reader.feedback.filter(paper=paper, value=Feedback.Value.MORE).exists()
    context = {
        "paper": paper,
        "liked": liked,
        "added": added,
        "undone": undone,
        "reader_address": browser.masked(reader.email),
    }
    return render(request, "subscribers/like_paper.html", context)


@never_cache
@vary_on_cookie
@require_http_methods(["GET", "HEAD", "POST"])
def save_search(request: HttpRequest) -> HttpResponse:
    """Save a search from the site for a recognised reader; others start a sign-up with it."""
    params = request.POST if request.method == "POST" else request.GET
    query, category = params.get("q", "")[:500], params.get("category", "")[:50]
    reader = browser.recognised(request)
    if reader is None:
        wanted = {"search": query, **({"category": category} if category else {})}
        return redirect(f"{reverse('subscribers:subscribe')}?{urlencode(wanted)}")
    context: dict[str, object] = {
        "query": query,
        "category": category,
        "reader_address": browser.masked(reader.email),
    }
    action = params.get("action", "") if request.method == "POST" else ""
    if action == "forget":
        response = redirect(f"{reverse('papers:search')}?{urlencode({'q': query, 'category': category})}")
        browser.forget(response)
        return response
    try:
        wanted_search = searches.search_request(query, category)
        if action == "save":
            context["added"] = searches.saved_search_add(subscriber=reader, request=wanted_search) is not None
    except searches.SearchRefused as error:
        return render(request, "subscribers/save_search.html", {**context, "error": str(error)}, status=400)
    if action == "undo":
        context["undone"] = searches.saved_search_remove_matching(subscriber=reader, request=wanted_search)
    context["saved"] = searches.saved_search_exists(subscriber=reader, request=wanted_search)
    return render(request, "subscribers/save_search.html", context)
