"""Beat schedules: refit the paper embedder nightly; retrain readers whose model is stale."""

from django.db import migrations

SCHEDULES = [
    {
        "name": "Refit the paper embedder",
        "task": "papers.tasks.refit_embedding",
        "crontab": {"minute": "40", "hour": "5", "day_of_week": "*"},
        "queue": "ingest",
        "description": "Fits a new embedding version on the catalogue; readers' models are retrained after it.",
    },
    {
        "name": "Retrain stale reader models",
        "task": "subscribers.tasks.retrain_stale_readers",
        "crontab": {"minute": "*/15", "hour": "*", "day_of_week": "*"},
        "queue": "send",
        "description": "Trains readers with no model, or one of an older embedding version.",
    },
]


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for spec in SCHEDULES:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            day_of_month="*", month_of_year="*", timezone="UTC", **spec["crontab"]
        )
        PeriodicTask.objects.get_or_create(
            name=spec["name"],
            defaults={
                "task": spec["task"],
                "crontab": crontab,
                "queue": spec["queue"],
                "description": spec["description"],
            },
        )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=[spec["name"] for spec in SCHEDULES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("papers", "0006_paper_vectors_and_trending"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
