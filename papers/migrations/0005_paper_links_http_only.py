"""Paper links are http(s) only: validators on the fields, and unsafe links already stored emptied.

A link whose scheme is not http or https (javascript:, data:, ftp:, none) would
be written into an href of a digest or a page; it is emptied, the paper kept.
"""

import django.core.validators
from django.db import migrations, models

LINK_FIELDS = ("abs_url", "pdf_url", "hf_url", "code_url", "project_url", "thumbnail_url")


def empty_unsafe_links(apps, schema_editor):
    Paper = apps.get_model("papers", "Paper")
    for name in LINK_FIELDS:
        unsafe = Paper.objects.exclude(**{name: ""}).exclude(**{f"{name}__iregex": r"^https?://"})
        unsafe.update(**{name: ""})


class Migration(migrations.Migration):
    dependencies = [
        ("papers", "0004_feed_url_public_http_only"),
    ]

    operations = [
        migrations.AlterField(
            model_name="paper",
            name="abs_url",
            field=models.URLField(
                blank=True,
                max_length=500,
                validators=[django.core.validators.URLValidator(schemes=["http", "https"])],
                verbose_name="abstract page",
            ),
        ),
        migrations.AlterField(
            model_name="paper",
            name="code_url",
            field=models.URLField(
                blank=True,
                max_length=500,
                validators=[django.core.validators.URLValidator(schemes=["http", "https"])],
                verbose_name="code repository",
            ),
        ),
        migrations.AlterField(
            model_name="paper",
            name="hf_url",
            field=models.URLField(
                blank=True,
                max_length=500,
                validators=[django.core.validators.URLValidator(schemes=["http", "https"])],
                verbose_name="Hugging Face page",
            ),
        ),
        migrations.AlterField(
            model_name="paper",
            name="pdf_url",
            field=models.URLField(
                blank=True,
                max_length=500,
                validators=[django.core.validators.URLValidator(schemes=["http", "https"])],
                verbose_name="PDF",
            ),
        ),
        migrations.AlterField(
            model_name="paper",
            name="project_url",
            field=models.URLField(
                blank=True,
                max_length=500,
                validators=[django.core.validators.URLValidator(schemes=["http", "https"])],
                verbose_name="project page",
            ),
        ),
        migrations.AlterField(
            model_name="paper",
            name="thumbnail_url",
            field=models.URLField(
                blank=True,
                max_length=500,
                validators=[django.core.validators.URLValidator(schemes=["http", "https"])],
            ),
        ),
        migrations.RunPython(empty_unsafe_links, migrations.RunPython.noop),
    ]
