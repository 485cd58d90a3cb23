"""WSGI entry point (gunicorn newsletter.wsgi)."""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

from newsletter import collector
from papers import embedding

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsletter.settings")

application = get_wsgi_application()

# Load the URLconf and the views now, then leave everything loaded so far (it lives as
# long as the process) out of the collector's full passes, which would otherwise walk
# all of it again every few thousand requests.
get_resolver().url_patterns  # noqa: B018
# Search embeds its query with scikit-learn: imported once here, not on each worker's first search.
embedding.import_libraries()
gc.freeze()
collector.tune()
