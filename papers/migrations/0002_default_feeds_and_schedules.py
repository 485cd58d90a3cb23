"""Default feeds (arXiv RSS for five ML categories, Hugging Face daily papers) and their beat schedules.

Both are ordinary rows: editors change or disable them in the admin.
"""

import json

from django.db import migrations

ARXIV_CATEGORIES = {
    "cs.AI": "Artificial Intelligence",
    "cs.CL": "Computation and Language",
    "cs.CV": "Computer Vision",
    "cs.LG": "Machine Learning",
    "stat.ML": "Machine Learning (stat)",
}

SCHEDULES = [
    {
        # arXiv announces Sunday to Thursday at 20:00 US Eastern, i.e. 00:00-01:00 UTC
        # Monday to Friday; the 04:30 run catches a late rebuild (a 304 costs nothing).
        "name": "Fetch arXiv listings",
        "crontab": {"minute": "30", "hour": "0,4", "day_of_week": "1-5"},
        "kinds": ["arxiv-rss", "arxiv-api"],
    },
    {
        "name": "Fetch Hugging Face daily papers",
        "crontab": {"minute": "15", "hour": "*/3", "day_of_week": "*"},
        "kinds": ["hf-json", "hf-rss"],
    },
]


def create(apps, schema_editor):
    Feed = apps.get_model("papers", "Feed")
    for category, label in ARXIV_CATEGORIES.items():
        Feed.objects.get_or_create(
            slug=f"arxiv-{category.lower().replace('.', '-')}",
            defaults={
                "name": f"arXiv {category} ({label})",
                "kind": "arxiv-rss",
                "url": f"https://rss.arxiv.org/rss/{category}",
            },
        )
    Feed.objects.get_or_create(
        slug="hf-daily-papers",
        defaults={
            "name": "Hugging Face Daily Papers",
            "kind": "hf-json",
            "url": "https://huggingface.co/api/daily_papers",
        },
    )

    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for spec in SCHEDULES:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            day_of_month="*", month_of_year="*", timezone="UTC", **spec["crontab"]
        )
        PeriodicTask.objects.get_or_create(
            name=spec["name"],
            defaults={
                "task": "papers.tasks.fetch_feeds",
                "crontab": crontab,
                "kwargs": json.dumps({"kinds": spec["kinds"]}),
                "queue": "ingest",
                "description": "Enqueues one fetch per enabled feed of these kinds.",
            },
        )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=[spec["name"] for spec in SCHEDULES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("papers", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
