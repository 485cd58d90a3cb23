"""The admin site as the editor console: the index page shows today's figures."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone

from newsletter import selectors


class PapermailAdminSite(admin.AdminSite):
    site_header = "papermail"
    site_title = "papermail admin"
    index_title = "Editor console"
    index_template = "admin/papermail_index.html"
    # The lists (papers, deliveries) need the width; the breadcrumbs and the console lead everywhere.
    enable_nav_sidebar = False

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> TemplateResponse:
        context = {**(extra_context or {}), "dashboard": selectors.dashboard(now=timezone.now())}
        return super().index(request, extra_context=context)
