from django.contrib.admin.apps import AdminConfig


class PapermailAdminConfig(AdminConfig):
    """django.contrib.admin, with the editor console's site as the default site."""

    default_site = "newsletter.admin_site.PapermailAdminSite"
