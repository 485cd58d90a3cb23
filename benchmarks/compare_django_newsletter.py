"""Side by side: papermail and django-newsletter sending digests to the same sink; rates and their ratios.

    .venv/bin/python benchmarks/compare_django_newsletter.py [--subscribers 100000] [--their-subscribers 5000]

django-newsletter (1.2.x, from PyPI) is installed at run time into its own
virtualenv (var/bench/dn-venv) with a throwaway Django project the script
writes (var/bench/dn-project, SQLite); none of its code is in this repository.
It gets a message of similar size (ten articles with paper-sized text) and
the same smtp-sink, and runs its own submission path (Submission.submit) with
its sleeps set to 0. At about 200 messages/s, 100,000 subscribers would take
it over eight minutes, so it gets 5,000, and the rates are compared: its rate
does not depend on the count (203-213 messages/s for 1,000 to 10,000
subscribers, 30 November). papermail runs at the dispatch benchmark's 100,000
subscribers, and also at the same count as django-newsletter, where each
worker's first chunks (matching and rendering the day's papers) weigh more.

papermail runs its real path on the same machine in the same run: the
dispatcher, two Celery worker processes, and either Django's SMTP backend into
the same kind of sink or Anymail's Postmark backend (batch sending) into the local fake API.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, host_now, machine, setup_django

WORK = ROOT / "var" / "bench"
VENV = WORK / "dn-venv"
PROJECT = WORK / "dn-project"

SETTINGS = """
SECRET_KEY = "throwaway-benchmark-project"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = [
    "django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sites",
    "django.contrib.sessions", "django.contrib.admin", "django.contrib.messages", "sorl.thumbnail", "newsletter",
]
SITE_ID = 1
ROOT_URLCONF = "urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}}
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True, "OPTIONS": {}}]
USE_TZ = True
STATIC_URL = "/static/"
MEDIA_URL = "/media/"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "127.0.0.1"
DEFAULT_FROM_EMAIL = "news@example.org"
NEWSLETTER_THUMBNAIL = "sorl-thumbnail"
NEWSLETTER_EMAIL_DELAY = 0
NEWSLETTER_BATCH_DELAY = 0
NEWSLETTER_BATCH_SIZE = 0
"""

URLS = """
from django.urls import include, path
urlpatterns = [path("newsletter/", include("newsletter.urls"))]
"""

RUN = """
import json, os, sys, time
os.environ["DJANGO_SETTINGS_MODULE"] = "settings"
sys.path.insert(0, os.path.dirname(__file__))
import django
from django.conf import settings
django.setup()
settings.EMAIL_PORT = int(sys.argv[2])
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.utils import timezone
from newsletter.models import Article, Message, Newsletter, Submission, Subscription
count = int(sys.argv[1])
Subscription.objects.all().delete()
Newsletter.objects.all().delete()
letter = Newsletter.objects.create(title="Papers", slug="papers", email="news@example.org", sender="Papers")
Subscription.objects.bulk_create(
    [Subscription(newsletter=letter, email_field=f"reader{n}@bench.example.org", name_field=f"Reader {n}", subscribed=True) for n in range(count)],
    batch_size=2000,
)
message = Message.objects.create(title="Today", slug="today", newsletter=letter)
text = "We propose a new method that improves over the strongest baseline. " * 5
for n in range(10):
    Article.objects.create(post=message, sortorder=n, title=f"A paper title number {n} about language models and reasoning", text=f"<p>{text}</p>")
submission = Submission.from_message(message)
submission.publish_date = timezone.now() - timezone.timedelta(minutes=1)
submission.prepared = True
submission.save()
started = time.perf_counter()
submission.submit()
seconds = time.perf_counter() - started
print(json.dumps({"sent": count, "seconds": seconds}))
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def install() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "django-newsletter>=1.2,<1.3", "sorl-thumbnail"],
        check=True,
    )
    PROJECT.mkdir(parents=True, exist_ok=True)
    (PROJECT / "settings.py").write_text(SETTINGS)
    (PROJECT / "urls.py").write_text(URLS)
    (PROJECT / "run.py").write_text(RUN)
    return python


def theirs(count: int) -> dict[str, float]:
    python = install()
    port = free_port()
    sink = subprocess.Popen(
        ["smtp-sink", "-u", "nobody", f"127.0.0.1:{port}", "1024"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    time.sleep(0.5)
    try:
        result = subprocess.run(
            [str(python), "run.py", str(count), str(port)],
            cwd=PROJECT,
            capture_output=True,
            text=True,
            check=True,
            env={"PATH": "/usr/bin:/bin"},
        )
    finally:
        sink.send_signal(signal.SIGTERM)
        sink.wait(timeout=10)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--subscribers", type=int, default=100_000, help="papermail's list, as in the dispatch benchmark"
    )
    parser.add_argument(
        "--their-subscribers", type=int, default=5_000, help="django-newsletter's list (it sends ~200/s)"
    )
    parser.add_argument(
        "--ratings",
        type=int,
        default=0,
        help="simulated ratings per papermail subscriber (0: no learned models, as django-newsletter has none)",
    )
    args = parser.parse_args()
    import dispatch

    setup_django()
    print(
        f"side by side on {machine()}: papermail at {args.subscribers:,} and at {args.their_subscribers:,} "
        f"subscribers, django-newsletter at {args.their_subscribers:,}"
    )
    print(host_now())
    ours: dict[tuple[str, int], float] = {}
    for count in dict.fromkeys((args.their_subscribers, args.subscribers)):
        profiles = dispatch.populate(count, ratings=args.ratings)
        for path in ("smtp", "api"):
            run = dispatch.run_path(path, workers=2, chunk=500, subscribers=count)
            dispatch.report(run, profiles)
            ours[path, count] = run["sent"] / run["wall"]
    other = theirs(args.their_subscribers)
    their_rate = other["sent"] / other["seconds"]
    print("\n== side by side")
    print(
        f"django-newsletter    {their_rate:,.0f} messages/s  ({other['sent']:,} in {other['seconds']:.1f} s, "
        "one message for all, SMTP; its rate does not depend on the count)"
    )
    for path, label, target in (("smtp", "SMTP", 4), ("api", "API ", 6)):
        at_scale, same = ours[path, args.subscribers], ours[path, args.their_subscribers]
        print(
            f"papermail {label}       {at_scale:,.0f} digests/s at {args.subscribers:,}, ratio "
            f"{at_scale / their_rate:.1f}x (target >= {target}x); at the same {args.their_subscribers:,}: "
            f"{same:,.0f}/s, {same / their_rate:.1f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
