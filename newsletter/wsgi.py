"""WSGI entry point (gunicorn newsletter.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsletter.settings")

application = get_wsgi_application()
