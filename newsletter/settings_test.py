"""Settings for the test suite: the real settings with test-only seams.

DATABASE_URL and REDIS_URL still decide which servers the tests talk to.
"""

from __future__ import annotations

from newsletter.settings import *  # noqa: F403
from newsletter.settings import REDIS_URL

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# django-axes needs the request to authenticate; Django's test Client.login() passes none.
AUTHENTICATION_BACKENDS = ["tests.auth.AxesBackendForTestClient", "django.contrib.auth.backends.ModelBackend"]
# Tests never leave messages in the developer's var/ broker; tests that need a
# real broker and worker use Redis and say so.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Keep retry waits short so fault tests run quickly.
FEED_RETRY_BACKOFF = 0.05
FEED_CONNECT_TIMEOUT = 2.0
FEED_READ_TIMEOUT = 2.0
FEED_TOTAL_TIMEOUT = 5.0
# Tasks run in-process when their transaction commits; tests that need a real
# worker start one (tests/workers.py) and say so.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
SITE_URL = "https://papers.example.org"
if REDIS_URL:
    # The suite clears its cache between tests: give it a Redis database of its own.
    from urllib.parse import urlsplit, urlunsplit

    _redis = urlsplit(REDIS_URL)
    _cache_db = env.int("PAPERMAIL_TEST_CACHE_REDIS_DB", default=14)  # noqa: F405
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": urlunsplit((_redis.scheme, _redis.netloc, f"/{_cache_db}", "", "")),
        }
    }
# Live-server threads must not keep connections open past the test database's life.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
