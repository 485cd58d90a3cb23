from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from newsletter import views, webhooks
from papers import views as papers_views
from subscribers.urls import TOKEN

urlpatterns = [
    path("", papers_views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("anymail/", include(webhooks.tracking_urlpatterns(settings.ANYMAIL_PROVIDER))),
    re_path(rf"^digest/{TOKEN}/$", views.digest_in_browser, name="digest"),
    re_path(
        rf"^digest/{TOKEN}/feedback/(?P<paper_id>[0-9]+)/(?P<direction>more|less)/$",
        views.feedback,
        name="feedback",
    ),
    re_path(rf"^feed/{TOKEN}/$", views.personal_feed, name="personal_feed"),
    re_path(r"^preview-link/(?P<link>[a-z0-9/-]*)$", views.preview_link, name="preview_link"),
    path("", include("papers.urls")),
    path("", include("subscribers.urls")),
]
