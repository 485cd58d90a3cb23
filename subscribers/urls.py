from django.urls import path, re_path

from papers.feeds.entries import ARXIV_ID_PATTERN
from subscribers import browser_views, manage_views, syndication, views

app_name = "subscribers"

# Tokens are django.core.signing output: URL-safe base64 plus ":" and "." separators.
TOKEN = r"(?P<token>[A-Za-z0-9_\-:.]{10,400})"  # noqa: S105 - a URL pattern, not a secret

urlpatterns = [
    path("subscribe/", views.subscribe, name="subscribe"),
    re_path(rf"^papers/(?P<arxiv_id>{ARXIV_ID_PATTERN})/like/$", browser_views.like_paper, name="like_paper"),
    path("search/save/", browser_views.save_search, name="save_search"),
    re_path(r"^topics/(?P<slug>[-a-zA-Z0-9_]{1,64})/feed/$", syndication.topic_feed, name="topic_feed"),
    path("subscribe/check-your-inbox/", views.check_inbox, name="check_inbox"),
    path("subscribe/new-link/", views.link_request, name="link_request"),
    re_path(rf"^confirm/{TOKEN}/$", views.confirm, name="confirm"),
    re_path(rf"^confirm/{TOKEN}/resend/$", views.confirm_resend, name="confirm_resend"),
    re_path(rf"^manage/{TOKEN}/$", manage_views.manage, name="manage"),
    re_path(rf"^manage/{TOKEN}/export/$", manage_views.export, name="export"),
    re_path(rf"^manage/{TOKEN}/erase/$", manage_views.erase, name="erase"),
    re_path(rf"^manage/{TOKEN}/papers/$", manage_views.manage_seeds, name="manage_seeds"),
    re_path(
        rf"^manage/{TOKEN}/papers/by-author/$", manage_views.manage_seeds_author, name="manage_seeds_author"
    ),
    re_path(
        rf"^manage/{TOKEN}/rate/(?P<paper_id>[0-9]{{1,12}})/$", manage_views.manage_rate, name="manage_rate"
    ),
    re_path(
        rf"^manage/{TOKEN}/(?P<action>pause|resume|unsubscribe|resubscribe|reset-feedback)/$",
        manage_views.manage_action,
        name="manage_action",
    ),
    re_path(rf"^manage/{TOKEN}/searches/$", manage_views.saved_search_add, name="saved_search_add"),
    re_path(
        rf"^manage/{TOKEN}/searches/(?P<saved_id>[0-9]{{1,18}})/remove/$",
        manage_views.saved_search_remove,
        name="saved_search_remove",
    ),
    re_path(rf"^unsubscribe/{TOKEN}/$", views.unsubscribe, name="unsubscribe"),
]
