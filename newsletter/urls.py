from django.contrib import admin
from django.urls import include, path

from newsletter import views

admin.site.site_header = "papermail"
admin.site.site_title = "papermail admin"
admin.site.index_title = "Editor console"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("subscribers.urls")),
]
