from django.urls import path, re_path

from papers import feeds_views, views
from papers.feeds.entries import ARXIV_ID_PATTERN

app_name = "papers"

DAY = r"(?P<day>\d{4}-\d{2}-\d{2})"

urlpatterns = [
    path("papers/", views.latest, name="latest"),
    path("papers/date/", views.day_picker, name="day_picker"),
    path("papers/feed/", feeds_views.day_feed, name="latest_feed"),
    re_path(rf"^papers/{DAY}/$", views.day, name="day"),
    re_path(rf"^papers/{DAY}/feed/$", feeds_views.day_feed, name="day_feed"),
    path("papers/week/", views.this_week, name="this_week"),
    re_path(r"^papers/week/(?P<year>\d{4})-W(?P<week>\d{2})/$", views.week, name="week"),
    path("papers/month/", views.this_month, name="this_month"),
    re_path(r"^papers/month/(?P<year>\d{4})-(?P<month>\d{2})/$", views.month, name="month"),
    re_path(rf"^papers/(?P<arxiv_id>{ARXIV_ID_PATTERN})/$", views.paper, name="paper"),
    path("search/", views.search, name="search"),
    path("search/feed/", feeds_views.search_feed, name="search_feed"),
]
