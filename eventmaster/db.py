"""Hand-written SQL for the door scan's hot path, with the ORM's semantics.

Building and compiling an ORM query costs ~0.4-0.5 ms of Python per query
here, three to four times the round trip to PostgreSQL. A door scan runs
five queries per request (authentication, the door check, the locked ticket
lookup, the check-in and its log line), so the ORM alone was over half of a
scan's CPU time (bench/scan_inprocess.py). These helpers run the same
statements from SQL text built once from the models' metadata, so table and
column names never drift from the models, and turn rows into model
instances exactly as the ORM does: the backend's converters (SQLite returns
UUIDs, datetimes and booleans as text and integers), then ``Model.from_db``.

Only what is measured to matter uses them; everything else stays on the ORM.
The statements are the same text on every call, so PostgreSQL prepares them
once per pooled connection (``prepare_threshold`` in settings).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any, Generic, TypeVar, cast
from weakref import WeakKeyDictionary

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model


def _connection() -> BaseDatabaseWrapper:
    # The thread's own connection object (django.db.connection is a proxy
    # shared by all threads, so it cannot key a per-connection cache).
    return connections[DEFAULT_DB_ALIAS]


def quote(name: str | None) -> str:
    # cast: only concrete fields' columns are quoted here; the stubs type
    # Field.column as str | None (None for fields without a column).
    quoted: str = _connection().ops.quote_name(cast(str, name))
    return quoted


_M = TypeVar("_M", bound=Model)


class Columns(Generic[_M]):
    """The columns of one model in a hand-written SELECT, under a table alias,
    and the model instance built from them."""

    def __init__(self, model: type[_M], alias: str, fields: Sequence[str] | None = None) -> None:
        self.model = model
        self.alias = alias
        meta = model._meta
        # In the model's field order, as Model.from_db expects a subset.
        self.fields: list[Field[Any, Any]] = [
            field for field in meta.concrete_fields if not fields or field.name in fields
        ]
        self.attnames = [field.attname for field in self.fields]
        self._converters: WeakKeyDictionary[BaseDatabaseWrapper, list[tuple[Any, list[Any]]]] = (
            WeakKeyDictionary()
        )

    def __len__(self) -> int:
        return len(self.fields)

    def sql(self) -> str:
        return ", ".join(f"{quote(self.alias)}.{quote(field.column)}" for field in self.fields)

    def instance(self, values: Sequence[Any]) -> _M:
        """A model instance from this model's slice of a row, as the ORM makes
        it: the backend's converters first (none at all on PostgreSQL for
        plain fields), then Model.from_db."""
        connection = _connection()
        converters = self._converters.get(connection)
        if converters is None:
            converters = self._converters[connection] = [_converters_of(f, connection) for f in self.fields]
        values = list(values)
        for index, (column, funcs) in enumerate(converters):
            for func in funcs:
                values[index] = func(values[index], column, connection)
        return self.model.from_db(DEFAULT_DB_ALIAS, self.attnames, values)


def _converters_of(field: Field[Any, Any], connection: BaseDatabaseWrapper) -> tuple[Any, list[Any]]:
    column = field.get_col(field.model._meta.db_table)
    return column, connection.ops.get_db_converters(column) + column.get_db_converters(connection)


def prep(field: Field[Any, Any], value: Any, connection: BaseDatabaseWrapper | None = None) -> Any:
    """A Python value as a query parameter for ``field``'s column."""
    return field.get_db_prep_save(value, connection or _connection())


def fetch(sql: str, params: Iterable[Any]) -> list[tuple[Any, ...]]:
    with _connection().cursor() as cursor:
        cursor.execute(sql, list(params))
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows


def execute(sql: str, params: Iterable[Any]) -> int:
    with _connection().cursor() as cursor:
        cursor.execute(sql, list(params))
        rowcount: int = cursor.rowcount
        return rowcount


def insert(model: type[Model], **values: Any) -> None:
    """INSERT one row (no RETURNING: the hot path needs no generated key)."""
    connection = _connection()
    fields = _fields(model, tuple(values))
    params = [prep(field, value, connection) for field, value in zip(fields, values.values(), strict=True)]
    execute(_insert_sql(model, tuple(values), connection.vendor), params)


def update(model: type[Model], pk: Any, **values: Any) -> int:
    """UPDATE one row by primary key; returns the number of rows changed."""
    connection = _connection()
    fields = _fields(model, tuple(values))
    params = [prep(field, value, connection) for field, value in zip(fields, values.values(), strict=True)]
    params.append(prep(model._meta.pk, pk, connection))
    return execute(_update_sql(model, tuple(values), connection.vendor), params)


@cache
def _fields(model: type[Model], names: tuple[str, ...]) -> list[Field[Any, Any]]:
    # cast: the names are concrete fields (get_field may also return a reverse relation).
    return [cast("Field[Any, Any]", model._meta.get_field(name)) for name in names]


# Identifiers come from the models' metadata, quoted by the backend; values
# are always parameters.
@cache
def _insert_sql(model: type[Model], names: tuple[str, ...], vendor: str) -> str:
    columns = ", ".join(quote(field.column) for field in _fields(model, names))
    placeholders = ", ".join(["%s"] * len(names))
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608


@cache
def _update_sql(model: type[Model], names: tuple[str, ...], vendor: str) -> str:
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in _fields(model, names))
    return f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {quote(model._meta.pk.column)} = %s"  # noqa: S608
