"""Settings for papermail, read from the environment.

With no variable set the service runs on one machine with nothing else
installed: SQLite under var/, Celery over kombu's filesystem transport under
var/, mail written to files under var/mail. Setting DATABASE_URL switches to
PostgreSQL and REDIS_URL (or CELERY_BROKER_URL) to Redis. DJANGO_DEBUG=0 is
production mode and refuses to start without SECRET_KEY and ALLOWED_HOSTS.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(str(BASE_DIR / ".env"))

VAR_DIR = Path(env.str("PAPERMAIL_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DJANGO_DEBUG", default=True)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
else:
    _missing = [name for name in ("SECRET_KEY", "ALLOWED_HOSTS") if not env.str(name, default="")]
    if _missing:
        raise ImproperlyConfigured(
            f"DJANGO_DEBUG=0 (production) needs {' and '.join(_missing)} in the environment."
        )
    SECRET_KEY = env.str("SECRET_KEY")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")

# Absolute base URL used in emails and feeds (links must work outside a request). In development it
# follows PORT, where the server listens; `make run` sets SITE_URL itself, as honcho gives each of its
# processes a PORT of its own.
_DEVELOPMENT_PORT = env.int("PORT", default=8000) if DEBUG else 8000
SITE_URL = env.str("SITE_URL", default=f"http://localhost:{_DEVELOPMENT_PORT}").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "newsletter.admin_apps.PapermailAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "anymail",
    "axes",
    "papers",
    "subscribers",
    "newsletter",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "newsletter.urls"
WSGI_APPLICATION = "newsletter.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'papermail.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file: WAL lets readers run beside a
    # writer, IMMEDIATE transactions queue writers instead of failing them.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Processes -----------------------------------------------------------------
# How many net allocations of containers start a pass of the cyclic garbage collector in web and
# Celery workers, and how many passes of one generation start one of the next (newsletter/collector.py).
GC_THRESHOLDS = tuple(env.list("GC_THRESHOLDS", cast=int, default=[50_000, 10, 10]))

# --- Cache (rate limits) ---------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="papermail"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery ----------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://localhost//")
BROKER_DIR = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _sub in ("queue", "processed", "control"):
        (BROKER_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    # A task not acknowledged within this many seconds is handed to another
    # worker; every time limit below stays well under it.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    }
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=900)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=840)
CELERY_TIMEZONE = "UTC"

# --- Email -------------------------------------------------------------------
# With no provider, each message is written to var/mail/*.eml. ANYMAIL_PROVIDER
# picks an Anymail backend (postmark, mailgun, amazon_ses, sendgrid, ...); every
# ANYMAIL_* variable goes into the ANYMAIL settings (ANYMAIL_POSTMARK_SERVER_TOKEN
# becomes ANYMAIL["POSTMARK_SERVER_TOKEN"]). EMAIL_PROVIDER=smtp uses EMAIL_URL.
ANYMAIL_PROVIDER = env.str("ANYMAIL_PROVIDER", default="")
EMAIL_PROVIDER = env.str("EMAIL_PROVIDER", default="smtp" if env.str("EMAIL_URL", default="") else "")


def _anymail_value(name: str, value: str) -> object:
    """Environment strings to the types Anymail expects (timeouts are numbers, flags booleans)."""
    if name == "REQUESTS_TIMEOUT":
        parts = [float(part) for part in value.split(",")]
        return parts[0] if len(parts) == 1 else tuple(parts)
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


ANYMAIL = {
    name.removeprefix("ANYMAIL_"): _anymail_value(name.removeprefix("ANYMAIL_"), value)
    for name, value in os.environ.items()
    if name.startswith("ANYMAIL_") and name != "ANYMAIL_PROVIDER"
}
if env.str("WEBHOOK_SECRET", default=""):
    ANYMAIL["WEBHOOK_SECRET"] = env.str("WEBHOOK_SECRET")
# Providers whose API takes many different messages per call get a backend that uses it.
BATCHING_BACKENDS = {"postmark": "newsletter.mail_backends.PostmarkBatchBackend"}
if ANYMAIL_PROVIDER:
    EMAIL_BACKEND = BATCHING_BACKENDS.get(
        ANYMAIL_PROVIDER, f"anymail.backends.{ANYMAIL_PROVIDER}.EmailBackend"
    )
elif EMAIL_PROVIDER == "smtp":
    vars().update(env.email_url("EMAIL_URL"))
    if EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend":
        EMAIL_BACKEND = "newsletter.mail_backends.SMTPBackend"  # Django's, sending digests' own MIME
else:
    EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="newsletter.mail_backends.EmlFileBackend")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="papermail <digest@localhost>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
MESSAGE_ID_DOMAIN = env.str("MESSAGE_ID_DOMAIN", default=DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >"))
LIST_ID = env.str("LIST_ID", default="papermail digest <digest.papermail.localhost>")

# --- Digests -------------------------------------------------------------------
DIGEST_CHUNK_SIZE = env.int("DIGEST_CHUNK_SIZE", default=500)
# Digests per provider call: per Postmark batch request (Postmark takes up to 500), per SMTP connection
# turn (up to 100). A worker killed while the provider takes a call may send that call's digests twice;
# a worker holds a call's messages in memory (about 100 MB for 500, measured): 100 keeps both small.
DIGEST_BATCH_SIZE = env.int("DIGEST_BATCH_SIZE", default=100)
DIGEST_CATCHUP_HOURS = env.int("DIGEST_CATCHUP_HOURS", default=6)
DIGEST_DAILY_LOOKBACK_DAYS = env.int("DIGEST_DAILY_LOOKBACK_DAYS", default=3)
DIGEST_MAX_GAP_DAYS = 14
DIGEST_FEEDBACK_LIMIT = 200
# Longer than CELERY_TASK_TIME_LIMIT: a row still "sending" after this was lost with its worker.
DIGEST_LEASE_SECONDS = env.int("DIGEST_LEASE_SECONDS", default=20 * 60)
DIGEST_REQUEUE_SECONDS = env.int("DIGEST_REQUEUE_SECONDS", default=10 * 60)
DIGEST_MAX_ATTEMPTS = env.int("DIGEST_MAX_ATTEMPTS", default=8)
DIGEST_RETRY_BACKOFF = env.float("DIGEST_RETRY_BACKOFF", default=30.0)
SOFT_BOUNCE_LIMIT = env.int("SOFT_BOUNCE_LIMIT", default=2)
SOFT_BOUNCE_DAYS = env.int("SOFT_BOUNCE_DAYS", default=30)

# --- Subscriptions -----------------------------------------------------------------
CONFIRMATION_TOKEN_MAX_AGE = env.int("CONFIRMATION_TOKEN_MAX_AGE", default=7 * 24 * 3600)
# How long a browser where a reader opened their preference centre recognises them on the site.
READER_COOKIE_MAX_AGE = env.int("READER_COOKIE_MAX_AGE", default=180 * 24 * 3600)
# Confirmation and preference-centre emails: tries before one is marked failed, and the age
# after which one still owed (the queue was down that long) is dropped rather than sent late.
LINK_EMAIL_MAX_ATTEMPTS = env.int("LINK_EMAIL_MAX_ATTEMPTS", default=8)
# Seconds before the second try of one that failed for a reason that may pass; doubled after each
# further failure (at most an hour), so eight tries span about an hour of a provider's outage.
LINK_EMAIL_RETRY_BACKOFF = env.float("LINK_EMAIL_RETRY_BACKOFF", default=30.0)
LINK_EMAIL_MAX_AGE_HOURS = env.int("LINK_EMAIL_MAX_AGE_HOURS", default=24)
# Key of the hash that remembers suppressed and erased addresses; keep it stable
# (changing it forgets the suppression list). Defaults to SECRET_KEY.
SUPPRESSION_HASH_KEY = env.str("SUPPRESSION_HASH_KEY", default=SECRET_KEY)
RATE_LIMITS_ENABLED = env.bool("RATE_LIMITS_ENABLED", default=True)
RATE_SIGNUPS_PER_IP = env.str("RATE_SIGNUPS_PER_IP", default="20/h")
RATE_LINK_EMAILS_PER_ADDRESS = env.str("RATE_LINK_EMAILS_PER_ADDRESS", default="3/h")
# The client's address (rate limits, consent records) is REMOTE_ADDR unless reverse proxies stand in
# front: TRUSTED_PROXY_COUNT of them, each appending the address it got the request from to the header
# whose META key is CLIENT_IP_HEADER. The N-th address from the right is then the client's; those to
# its left came with the request and anyone can forge them (subscribers.ratelimit.client_ip).
CLIENT_IP_HEADER = env.str("CLIENT_IP_HEADER", default="HTTP_X_FORWARDED_FOR")
# CLIENT_IP_HEADER alone once meant "trust this header": that setup is taken as one proxy, with a warning.
TRUSTED_PROXY_COUNT_ASSUMED = (
    "TRUSTED_PROXY_COUNT" not in os.environ
    and CLIENT_IP_HEADER != "REMOTE_ADDR"
    and "CLIENT_IP_HEADER" in os.environ
)
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1 if TRUSTED_PROXY_COUNT_ASSUMED else 0)
POSTAL_ADDRESS = env.str("POSTAL_ADDRESS", default="papermail · 1 Example Street · 00000 Example City")

# --- Admin sign-in -------------------------------------------------------------------
# django-axes counts failed sign-ins; its backend, first, refuses a locked-out one before
# any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "newsletter.admin_login.LoginThrottle"
# Failures of one username from one client address before that pair is locked out, and of one
# username from all addresses together before the username is (0: no such limit). Both lift after
# the cool-off, counted from the latest failure.
AXES_FAILURE_LIMIT = env.int("ADMIN_LOGIN_FAILURE_LIMIT", default=5)
ADMIN_LOGIN_USERNAME_FAILURE_LIMIT = env.int("ADMIN_LOGIN_USERNAME_FAILURE_LIMIT", default=20)
AXES_LOCKOUT_PARAMETERS: list[str | list[str]] = [["username", "ip_address"]]
if ADMIN_LOGIN_USERNAME_FAILURE_LIMIT > 0:
    AXES_LOCKOUT_PARAMETERS.append("username")
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("ADMIN_LOGIN_COOLOFF_MINUTES", default=15))
# The client address as the rest of the site reads it (CLIENT_IP_HEADER behind a proxy).
AXES_CLIENT_IP_CALLABLE = "subscribers.ratelimit.client_ip"
AXES_LOCKOUT_CALLABLE = "newsletter.admin_login.lockout_response"
# A success does not wipe the username's failures from other addresses.
AXES_RESET_ON_SUCCESS = False
AXES_VERBOSE = False  # no banner at each start; failures and lockouts are still logged

# --- Public site ----------------------------------------------------------------
# Seconds the day, trending, paper and search pages stay in the cache (ingest makes them stale sooner),
# and how long a browser or proxy may keep one.
SITE_CACHE_SECONDS = env.int("SITE_CACHE_SECONDS", default=600)
SITE_BROWSER_CACHE_SECONDS = env.int("SITE_BROWSER_CACHE_SECONDS", default=60)
SITE_PAGE_SIZE = env.int("SITE_PAGE_SIZE", default=30)  # papers per page of a day or of search results
SITE_MAX_PAGES = env.int("SITE_MAX_PAGES", default=40)  # no deeper paging: a narrower search finds more

# --- Feeds -------------------------------------------------------------------
FEED_USER_AGENT = env.str(
    "FEED_USER_AGENT",
    default="papermail/0.1 (self-hosted paper digest; +https://github.com/papermail/papermail)",
)
FEED_CONNECT_TIMEOUT = env.float("FEED_CONNECT_TIMEOUT", default=10.0)
FEED_READ_TIMEOUT = env.float("FEED_READ_TIMEOUT", default=30.0)
FEED_TOTAL_TIMEOUT = env.float("FEED_TOTAL_TIMEOUT", default=120.0)
FEED_MAX_BYTES = env.int("FEED_MAX_BYTES", default=20 * 1024 * 1024)
FEED_RETRIES = env.int("FEED_RETRIES", default=3)
FEED_RETRY_BACKOFF = env.float("FEED_RETRY_BACKOFF", default=2.0)
# Feeds are fetched from public addresses only (editors type their URLs). Turn this on
# only to fetch from this machine or its network, e.g. a local test server.
FEED_ALLOW_PRIVATE_ADDRESSES = env.bool("FEED_ALLOW_PRIVATE_ADDRESSES", default=False)

# --- Seed papers: papers a reader names as ones they like ----------------------------
# Papers not in the catalogue are looked up here (an id_list or au: query), with the feed caps above.
ARXIV_API_URL = env.str("ARXIV_API_URL", default="https://export.arxiv.org/api/query")
SEED_MAX_PAPERS = env.int("SEED_MAX_PAPERS", default=50)  # per submission
SEED_AUTHOR_MAX_PAPERS = env.int("SEED_AUTHOR_MAX_PAPERS", default=30)  # offered from an author's name
SEED_FILE_MAX_BYTES = env.int("SEED_FILE_MAX_BYTES", default=2 * 1024 * 1024)
SEED_FILE_MAX_ENTRIES = env.int("SEED_FILE_MAX_ENTRIES", default=2000)
# A reader waits on the page: one try, and a deadline shorter than a scheduled fetch's.
SEED_FETCH_TIMEOUT = env.float("SEED_FETCH_TIMEOUT", default=20.0)

# A paper whose Hugging Face upvotes reach this is "newly trending": it may reach readers who had its day.
PAPERS_TRENDING_UPVOTES = env.int("PAPERS_TRENDING_UPVOTES", default=20)

# --- Relevance -----------------------------------------------------------------
# The class that turns papers into vectors (see papers/embedding.py), and its size.
PAPER_EMBEDDER = env.str("PAPER_EMBEDDER", default="papers.embedding.TfidfEmbedder")
PAPER_EMBEDDING_DIMENSIONS = env.int("PAPER_EMBEDDING_DIMENSIONS", default=128)
PAPER_EMBEDDING_MAX_FEATURES = env.int("PAPER_EMBEDDING_MAX_FEATURES", default=30_000)
# Papers the embedder is fitted on: the most recently announced this many.
PAPER_EMBEDDING_FIT_LIMIT = env.int("PAPER_EMBEDDING_FIT_LIMIT", default=100_000)
# Besides beat's nightly refit, papers arriving refit the embedder at once when the papers it would now be
# fitted on outnumber those it was fitted on by this share: a young catalogue's vocabulary keeps up with
# its days. 0 leaves refitting to the schedule.
PAPER_EMBEDDING_REFIT_GROWTH = env.float("PAPER_EMBEDDING_REFIT_GROWTH", default=0.25)
# "learned": each reader's model orders what their rules let in; "rules": the fixed weights alone.
DIGEST_RANKING = env.str("DIGEST_RANKING", default="learned")
# At most this share of a digest may be "discovery": papers outside the reader's rules that
# their model scores far above the rest.
DIGEST_DISCOVERY_SHARE = env.float("DIGEST_DISCOVERY_SHARE", default=0.2)

# --- Internationalisation -------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security ---------------------------------------------------------------------
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # The admin and a few status badges use style attributes.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "https:"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Logging ---------------------------------------------------------------------------
# One handler, on the root logger, for the web and the Celery processes alike (newsletter/celery.py
# gives Celery's logging to this). LOG_FORMAT=json writes each record as one JSON object per line.
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}.")
_LOGGERS: dict[str, dict[str, object]] = {
    # Django's default logging gives "django" a console handler of its own (when DEBUG): with the root's,
    # each of its warnings was printed twice.
    "django": {"handlers": [], "propagate": True},
    "django.db.backends": {"level": "INFO"},
}
if LOG_FORMAT == "json":
    # gunicorn's own records (start, workers, the access log) through the same handler. With preload_app
    # (gunicorn.conf.py) Django configures logging before gunicorn logs its start.
    _LOGGERS.update(
        {name: {"handlers": [], "propagate": True} for name in ("gunicorn.error", "gunicorn.access")}
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(process)d %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger", "process": "pid"},
            "timestamp": "time",
        },
    },
    # Celery's "received", "succeeded" and beat's "sending due task" for the sweeps that run every few
    # seconds are logged at DEBUG: at INFO they were most of what the processes wrote.
    "filters": {"frequent_tasks": {"()": "newsletter.celery.FrequentTasksAtDebug"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["frequent_tasks"]}
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": _LOGGERS,
}
