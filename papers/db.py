"""Bulk inserts that scale: PostgreSQL COPY (bulk_create elsewhere), and INSERT ... SELECT."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, migrations, models
from django.db.models import Expression, Value

from papers import cache

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
    names = [
        field.attname
        for field in model._meta.concrete_fields
        if not field.primary_key and not field.generated
    ]
    copy_rows(model, names, ([getattr(obj, name) for name in names] for obj in objects))


def copy_rows(model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Insert plain rows of values for the fields ``names`` of ``model``: no model instance per row.

    The dispatcher records ten papers for each of thousands of digests; making
    a model instance for each cost more than the COPY itself.
    """
    if connection.vendor != "postgresql":
        model.objects.bulk_create(
            (model(**dict(zip(names, row, strict=True))) for row in rows), batch_size=BULK_BATCH
        )
        return
    fields = [model._meta.get_field(name) for name in names]  # attnames ("paper_id") are found too
    encoders = {
        position: field.encoder
        for position, field in enumerate(fields)
        if isinstance(field, models.JSONField)
    }
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            if encoders:
                row = [
                    json.dumps(value, cls=encoders[i]) if i in encoders else value
                    for i, value in enumerate(row)
                ]
            copy.write_row(row)


def insert_from_select(
    model: type[models.Model], queryset: models.QuerySet, values: Mapping[str, Expression]
) -> list[int]:
    """Insert a row of ``model`` for each row of ``queryset``, skipping conflicts; return the new rows' pks.

    ``values`` maps field names to expressions over the queryset's rows; the
    other non-null fields take their defaults. The rows never travel through
    Python: the dispatcher creates a hundred thousand deliveries in one
    statement instead of building and sending each (benchmarks/RESULTS.md).
    """
    selected: dict[str, Expression] = {}
    columns: list[str] = []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.generated:
            continue
        if field.attname in values or field.name in values:
            expression = values.get(field.attname, values.get(field.name))
        elif field.null and not field.has_default():
            continue
        else:
            target = field.target_field if field.is_relation else field
            expression = Value(field.get_default(), output_field=target)
        selected[f"_c{len(columns)}"] = expression
        columns.append(connection.ops.quote_name(field.column))
    select, params = queryset.order_by().values(**selected).query.sql_with_params()
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(model._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) {select} ON CONFLICT DO NOTHING RETURNING {pk}",
            params,
        )
        return [row[0] for row in cursor.fetchall()]


def update_each(queryset: models.QuerySet, field: str, values: Mapping[int, object], **common: object) -> int:
    """Set ``field`` to its own value on each row of ``queryset`` named in ``values`` (pk -> value).

    ``common`` fields get one value for all. On PostgreSQL this is one
    statement joined to the values as arrays (a CASE with a branch per row cost
    more to build than to run); elsewhere one UPDATE per distinct value.
    Returns how many rows changed.
    """
    if not values:
        return 0
    by_value: dict[object, list[int]] = {}
    for pk, value in values.items():
        by_value.setdefault(value, []).append(pk)
    if connection.vendor != "postgresql" or len(by_value) == 1:
        return sum(
            queryset.filter(pk__in=pks).update(**{field: value}, **common) for value, pks in by_value.items()
        )
    model = queryset.model
    meta = model._meta
    target = meta.get_field(field)
    compiler = queryset.query.get_compiler(connection=connection)
    where, where_params = queryset.query.where.as_sql(compiler, connection)
    table = connection.ops.quote_name(meta.db_table)
    pk_column = connection.ops.quote_name(meta.pk.column)
    assignments = [f"{connection.ops.quote_name(target.column)} = v.value"]
    params: list[object] = []
    for name, value in common.items():
        common_field = meta.get_field(name)
        assignments.append(f"{connection.ops.quote_name(common_field.column)} = %s")
        params.append(common_field.get_db_prep_save(value, connection))
    value_type = target.db_type(connection)
    pk_type = meta.pk.rel_db_type(connection)
    # Identifiers come from the model's metadata; every value is a parameter.
    sql = (
        f"UPDATE {table} SET {', '.join(assignments)} "  # noqa: S608
        f"FROM unnest(%s::{pk_type}[], %s::{value_type}[]) AS v(pk, value) "
        f"WHERE {table}.{pk_column} = v.pk" + (f" AND {where}" if where else "")
    )
    params += [list(values), [target.get_db_prep_save(v, connection) for v in values.values()]]
    params += where_params
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def insert_new_with_children(
    rows: Sequence[tuple[type[models.Model], Mapping[str, object], Mapping[str, int]]], *, unique: str
) -> list[int] | None:
    """Insert a new row and rows that point at it, in one statement; return their ids, in order.

    Each row is a model, its values by field name, and ``{foreign key field:
    index of an earlier row}``: those keys take the ids the statement itself
    creates. A field with no value takes its default, as a new instance would.
    The first row is the new one. When a row with its ``unique`` value exists,
    nothing is inserted and None is returned: the caller takes its usual path.
    PostgreSQL only (data-modifying WITH).

    A sign-up writes four rows (subscriber, consent record, event, link email);
    as four statements in a transaction they were most of a sign-up's time.
    Values go to the database as the fields prepare them, without building
    model instances; constant defaults are prepared once per shape of rows.
    """
    db = connections[DEFAULT_DB_ALIAS]
    shape = (
        tuple((model, tuple(values), tuple(sorted(links.items()))) for model, values, links in rows),
        unique,
    )
    sql, sources = _linked_insert_sql(shape)
    params = [
        field.get_db_prep_save(values[field.name] if field.name in values else field.get_default(), db)
        if field is not None
        else constant
        for (_model, values, _links), row_sources in zip(rows, sources, strict=True)
        for field, constant in row_sources
    ]
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchone()
    return list(found) if found else None


Source = tuple[models.Field | None, object]


@cache.kept("linked inserts", 32)
def _linked_insert_sql(
    shape: tuple[tuple[tuple[type[models.Model], tuple[str, ...], tuple[tuple[str, int], ...]], ...], str],
) -> tuple[str, list[list[Source]]]:
    """Return the statement for rows of this shape and, per row, where each of its values comes from.

    A value comes from a field (``(field, None)``: the row's value, or the
    field's default called anew) or is a constant default prepared here
    (``(None, value)``).
    """
    db = connections[DEFAULT_DB_ALIAS]
    quote = db.ops.quote_name
    kinds, unique = shape
    ctes: list[str] = []
    sources: list[list[Source]] = []
    for index, (model, given, link_items) in enumerate(kinds):
        links = dict(link_items)
        meta = model._meta
        columns, values, taken = _linked_row(model, given, links)
        sources.append(taken)
        table = quote(meta.db_table)
        returning = f"RETURNING {quote(meta.pk.column)} AS id"
        # Identifiers come from model metadata; every value is a parameter.
        if index == 0:
            key = quote(meta.get_field(unique).column)
            ctes.append(
                f"r0 AS (INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(values)}) "  # noqa: S608
                f"ON CONFLICT ({key}) DO NOTHING {returning})"
            )
        else:
            earlier = ", ".join(f"r{n}" for n in sorted(set(links.values())))
            ctes.append(
                f"r{index} AS (INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
                f"SELECT {', '.join(values)} FROM {earlier} {returning})"
            )
    every = ", ".join(f"r{n}" for n in range(len(kinds)))
    ids = ", ".join(f"r{n}.id" for n in range(len(kinds)))
    return f"WITH {', '.join(ctes)} SELECT {ids} FROM {every}", sources  # noqa: S608


def _linked_row(
    model: type[models.Model], given: tuple[str, ...], links: Mapping[str, int]
) -> tuple[list[str], list[str], list[Source]]:
    """Return one row's quoted columns, its value placeholders, and where each parameter comes from.

    A linked field takes the id of the earlier row it names; the others a parameter.
    """
    db = connections[DEFAULT_DB_ALIAS]
    columns: list[str] = []
    values: list[str] = []
    taken: list[Source] = []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.generated:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            raise ValueError(f"{field} sets its value on save: give it a default of now instead")
        columns.append(db.ops.quote_name(field.column))
        if field.name in links:
            values.append(f"r{links[field.name]}.id")
            continue
        values.append(f"%s::{field.cast_db_type(db)}")
        if field.name in given or callable(field.default):
            taken.append((field, None))
        else:
            taken.append((None, field.get_db_prep_save(field.get_default(), db)))
    return columns, values, taken


class AddIndexOnPostgres(migrations.AddIndex):
    """Add an index that only PostgreSQL has (GIN); on SQLite, in development, the state alone changes."""

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
