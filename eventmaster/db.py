"""Hand-written SQL for the hot paths, read back with the ORM's semantics.

Building and compiling an ORM query costs ~0.4-0.5 ms of Python per query
here, several times the round trip to PostgreSQL. The reads of every
authenticated request (the user behind the token, with the door scan's
event riding along) and of a scan and a sign-up run as SQL text built once
from the models' ``_meta`` (table and column names never drift from the
models) and turn rows into model instances as the ORM does: each value
through the converters the ORM applies to its column (the backend's, then
the field's ``from_db_value()``), then ``Model.from_db()``.

Only what the benchmark justifies is here (docs/architecture.md, "The hot
path"): those reads, and the writes of a scan and a sign-up. The statements
are the same text on every call, so PostgreSQL prepares them once per
connection (``prepare_threshold`` in settings). On PostgreSQL ``together()``
sends a path's writes as one statement: one round trip instead of three or
four (a sign-up; a scan other than a first entry, which checkin.services
writes in a statement of its own).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Field, Model


def quote(name: str | None) -> str:
    """An SQL identifier in standard double quotes, which both supported
    databases (PostgreSQL, SQLite) accept. ``name`` always comes from a
    model's metadata (None only for a field without a column, never quoted)."""
    if not name:
        raise ValueError("no column to quote")
    return '"' + name.replace('"', '""') + '"'


def column(model: type[Model], name: str) -> str:
    """The quoted column of the concrete field ``name`` of ``model``."""
    field = model._meta.get_field(name)
    if not isinstance(field, Field):
        raise TypeError(f"{model.__name__}.{name} is not a concrete field")
    return quote(field.column)


def table(model: type[Model]) -> str:
    return quote(model._meta.db_table)


_M = TypeVar("_M", bound=Model)
Converter = Callable[[Any, Any, Any], Any]


class Columns(Generic[_M]):
    """The columns of one model in a hand-written SELECT, under a table alias,
    and the model instance built from them."""

    def __init__(self, model: type[_M], alias: str, fields: Sequence[str] | None = None) -> None:
        self.model = model
        self.alias = alias
        # In the model's field order, as Model.from_db expects a subset.
        self.fields: list[Field[Any, Any]] = [
            field for field in model._meta.concrete_fields if not fields or field.name in fields
        ]
        self.attnames = [field.attname for field in self.fields]
        self._converters = _converters(self.fields, alias)

    def __len__(self) -> int:
        return len(self.fields)

    def sql(self) -> str:
        return ", ".join(f"{quote(self.alias)}.{quote(field.column)}" for field in self.fields)

    def instance(self, values: Sequence[Any]) -> _M:
        """A model instance from this model's slice of a row, as the ORM
        makes it: the row's values through the converters the ORM applies
        to those columns, then Model.from_db."""
        row = list(values)
        if len(row) != len(self.fields):
            raise ValueError(f"{len(row)} values for {len(self.fields)} columns")
        connection = connections[DEFAULT_DB_ALIAS]
        for position, converters, expression in self._converters:
            value = row[position]
            for convert in converters:
                value = convert(value, expression, connection)
            row[position] = value
        return self.model.from_db(DEFAULT_DB_ALIAS, self.attnames, row)


def _converters(fields: Sequence[Field[Any, Any]], alias: str) -> list[tuple[int, list[Converter], Any]]:
    """The ORM's converters of these columns (SQLCompiler.get_converters):
    the backend's (SQLite hands back UUIDs, datetimes and booleans as text
    or integers), then the field's ``from_db_value()`` (JSON, custom
    fields). PostgreSQL needs none for most columns: psycopg types them."""
    connection = connections[DEFAULT_DB_ALIAS]
    found = []
    for position, field in enumerate(fields):
        expression = field.get_col(alias)
        converters = connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)
        if converters:
            found.append((position, converters, expression))
    return found


def prep(field: Field[Any, Any], value: Any) -> Any:
    """A Python value as a query parameter for ``field``'s column (a UUID as
    text on SQLite), by the field's documented ``get_db_prep_value()``."""
    return field.get_db_prep_value(value, connections[DEFAULT_DB_ALIAS], prepared=False)


def fetch(sql: str, params: Iterable[Any]) -> list[tuple[Any, ...]]:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(sql, list(params))
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows


def execute(sql: str, params: Iterable[Any]) -> int:
    """Run one statement; the number of rows it changed. Inside
    ``together()`` on PostgreSQL the statement is kept for the block's end
    and -1 returned (DB-API's "unknown")."""
    pending = _together.get()
    if pending is not None:
        pending.append((sql, list(params)))
        return -1
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(sql, list(params))
        rowcount: int = cursor.rowcount
        return rowcount


_together: ContextVar[list[tuple[str, list[Any]]] | None] = ContextVar(
    "eventmaster_db_together", default=None
)


@contextmanager
def together() -> Iterator[None]:
    """The writes of this module made inside the block (``insert``,
    ``insert_new``, ``update``, ``execute``) sent as one statement when it
    ends, on PostgreSQL: ``WITH w1 AS (first), w2 AS (second) last``, SQL
    text built once per path, so it is prepared once too. Nothing is sent
    if the block raises. On SQLite each runs at once, as outside.

    For writes to different rows that do not read each other's effects (in
    one statement they share a snapshot); their rows' counts are unknown
    (-1), and a constraint they break raises when the block ends. Reads
    and ORM writes inside run at once, as usual."""
    if connections[DEFAULT_DB_ALIAS].vendor != "postgresql" or _together.get() is not None:
        yield
        return
    pending: list[tuple[str, list[Any]]] = []
    token = _together.set(pending)
    try:
        yield
    finally:
        _together.reset(token)
    if pending:
        execute(_together_sql(tuple(sql for sql, _ in pending)), [p for _, params in pending for p in params])


@cache
def _together_sql(statements: tuple[str, ...]) -> str:
    *first, last = statements
    if not first:
        return last
    ctes = ", ".join(f"w{number} AS ({sql})" for number, sql in enumerate(first, 1))
    return f"WITH {ctes} {last}"


# The writes of a scan (the check-in UPDATE, the scan log INSERT, its domain
# event) and of a sign-up (the registration, the counters, the mail, the
# domain event) are hand-written too: they bypass save() and its signals on purpose, as nothing
# in EventMaster listens to those models' saves, and the ORM's save path
# measured about a tenth of a scan's CPU (docs/architecture.md, "The hot path").


def insert(model: type[Model], **values: Any) -> int:
    """INSERT one row (no RETURNING: the hot path needs no generated key)."""
    fields = _fields(model, tuple(values))
    params = [prep(field, value) for field, value in zip(fields, values.values(), strict=True)]
    return execute(_insert_sql(model, tuple(values)), params)


def insert_new(instance: Model, *, ignore_conflicts: bool = False) -> int:
    """INSERT a new model instance (every concrete column, its defaults as the
    constructor set them; a client-side primary key, no RETURNING) and mark
    it saved, as ``save()`` would minus the signals. With
    ``ignore_conflicts``, a row that breaks a unique constraint is skipped
    (``ON CONFLICT DO NOTHING``, PostgreSQL and SQLite alike) and 0 is
    returned."""
    names, params = new_row(instance)
    sql = _insert_sql(type(instance), names) + (" ON CONFLICT DO NOTHING" if ignore_conflicts else "")
    inserted = execute(sql, params)
    saved(instance)
    return inserted


def new_row(instance: Model) -> tuple[tuple[str, ...], list[Any]]:
    """The field names and parameters ``insert_new`` writes for a new
    instance, for a caller that writes it in a statement of its own
    (``insert_from_sql``); the instance is then marked saved with ``saved``."""
    model = type(instance)
    names = tuple(field.name for field in model._meta.concrete_fields)
    return names, [prep(field, field.pre_save(instance, add=True)) for field in _fields(model, names)]


def saved(instance: Model) -> None:
    instance._state.adding, instance._state.db = False, DEFAULT_DB_ALIAS


@cache
def insert_from_sql(model: type[Model], names: tuple[str, ...], source: str) -> str:
    """``INSERT INTO`` the columns of ``names`` ``SELECT`` one parameter for
    each, cast to its column's type, ``FROM source``: a row for each row of
    ``source`` (in a WITH, a CTE that decides whether the write happens)."""
    return f"INSERT INTO {table(model)} ({columns(model, names)}) SELECT {typed(model, names)} FROM {source}"  # noqa: S608


def columns(model: type[Model], names: Sequence[str]) -> str:
    """The quoted columns of the concrete fields ``names``, comma-separated."""
    return ", ".join(quote(field.column) for field in _fields(model, tuple(names)))


def typed(model: type[Model], names: Sequence[str]) -> str:
    """A parameter for each of the fields ``names``, cast to its column's
    type (parameters in a SELECT list carry no type of their own). Text is
    cast to plain varchar: a cast to varchar(n) would cut a longer value
    silently, where the column's own length check refuses it, as an
    INSERT's VALUES would."""
    connection = connections[DEFAULT_DB_ALIAS]
    casts = (str(field.cast_db_type(connection)) for field in _fields(model, tuple(names)))
    return ", ".join(f"CAST(%s AS {'varchar' if cast.startswith('varchar(') else cast})" for cast in casts)


def update(model: type[Model], pk: Any, **values: Any) -> int:
    """UPDATE one row by primary key; returns the number of rows changed."""
    fields = _fields(model, tuple(values))
    params = [prep(field, value) for field, value in zip(fields, values.values(), strict=True)]
    params.append(prep(model._meta.pk, pk))
    return execute(_update_sql(model, tuple(values)), params)


@cache
def _fields(model: type[Model], names: tuple[str, ...]) -> list[Field[Any, Any]]:
    fields = [model._meta.get_field(name) for name in names]
    concrete = [field for field in fields if isinstance(field, Field)]
    if len(concrete) != len(fields):
        raise TypeError(f"not all of {names} are concrete fields of {model.__name__}")
    return concrete


# Identifiers come from the models' metadata; values are always parameters.
@cache
def _insert_sql(model: type[Model], names: tuple[str, ...]) -> str:
    placeholders = ", ".join(["%s"] * len(names))
    return f"INSERT INTO {table(model)} ({columns(model, names)}) VALUES ({placeholders})"  # noqa: S608


@cache
def _update_sql(model: type[Model], names: tuple[str, ...]) -> str:
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in _fields(model, names))
    return f"UPDATE {table(model)} SET {assignments} WHERE {quote(model._meta.pk.column)} = %s"  # noqa: S608


def lock_row(model: type[Model], pk: Any) -> None:
    """Lock one row until the transaction ends (PostgreSQL ``SELECT ... FOR
    NO KEY UPDATE``; SQLite has one writer at a time anyway): writers of the
    same row take turns, while other transactions' foreign-key checks on it
    (``FOR KEY SHARE``) pass. Call inside ``transaction.atomic``."""
    list(model._default_manager.select_for_update(no_key=True).filter(pk=pk).values_list("pk", flat=True))
