"""WSGI entry point (gunicorn newsletter.wsgi)."""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

from newsletter import collector

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsletter.settings")

application = get_wsgi_application()

# Load the URLconf and the views now, then leave everything loaded so far (it lives as
# long as the process) out of the collector's full passes: without this, each web
# worker paused 35-110 ms every few thousand requests to walk ~115,000 objects.
get_resolver().url_patterns  # noqa: B018
gc.freeze()
collector.tune()
