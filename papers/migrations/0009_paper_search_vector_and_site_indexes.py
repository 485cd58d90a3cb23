# Full-text search kept by PostgreSQL (a generated tsvector with a GIN index), and the indexes the
# site's day, trending and category lists read in order.

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.db import migrations, models

import papers.db
import papers.models


class Migration(migrations.Migration):
    dependencies = [
        ("papers", "0008_topics_and_pins_move_here"),
    ]

    operations = [
        migrations.AddField(
            model_name="paper",
            name="search_vector",
            field=models.GeneratedField(
                db_persist=True,
                expression=papers.models.PostgresOnly(
                    django.contrib.postgres.search.CombinedSearchVector(
                        django.contrib.postgres.search.CombinedSearchVector(
                            django.contrib.postgres.search.SearchVector(
                                "title", config="english", weight="A"
                            ),
                            "||",
                            django.contrib.postgres.search.SearchVector(
                                "abstract", config="english", weight="B"
                            ),
                            django.contrib.postgres.search.SearchConfig("english"),
                        ),
                        "||",
                        django.contrib.postgres.search.SearchVector(
                            "author_names", config="english", weight="C"
                        ),
                        django.contrib.postgres.search.SearchConfig("english"),
                    ),
                    output_field=django.contrib.postgres.search.SearchVectorField(),
                ),
                output_field=django.contrib.postgres.search.SearchVectorField(null=True),
            ),
        ),
        papers.db.AddIndexOnPostgres(
            model_name="paper",
            index=models.Index(
                models.F("announced_on"),
                models.OrderBy(models.F("upvotes"), descending=True, nulls_last=True),
                models.OrderBy(models.F("arxiv_id"), descending=True),
                condition=models.Q(("hidden", False)),
                name="paper_day_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="paper",
            index=models.Index(
                models.F("announced_on"),
                models.OrderBy(models.F("upvotes"), descending=True),
                condition=models.Q(("hidden", False), ("upvotes__isnull", False)),
                name="paper_trending_idx",
            ),
        ),
        papers.db.AddIndexOnPostgres(
            model_name="paper",
            index=django.contrib.postgres.indexes.GinIndex(fields=["search_vector"], name="paper_search_idx"),
        ),
        papers.db.AddIndexOnPostgres(
            model_name="paper",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["categories"], opclasses=["jsonb_path_ops"], name="paper_categories_idx"
            ),
        ),
    ]
