"""Bulk inserts that scale: PostgreSQL COPY, with bulk_create elsewhere."""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.db import connection, models

BULK_BATCH = 2000


def copy_insert(model: type[models.Model], objects: Sequence[models.Model]) -> None:
    """Insert new rows of ``model`` (without primary keys): COPY on PostgreSQL, bulk_create elsewhere.

    Profiling the ingest and dispatch benchmarks showed bulk_create spending most
    of its time preparing and quoting every column in Python; COPY streams rows.
    """
    if not objects:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objects, batch_size=BULK_BATCH)
        return
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    json_fields = {field.attname: field for field in fields if isinstance(field, models.JSONField)}
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    names = [field.attname for field in fields]
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for obj in objects:
            row = [getattr(obj, name) for name in names]
            if json_fields:
                row = [
                    json.dumps(value, cls=json_fields[name].encoder) if name in json_fields else value
                    for name, value in zip(names, row, strict=True)
                ]
            copy.write_row(row)
