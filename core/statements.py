"""Statements whose shape never changes, written once per database connection.

Building and compiling a Django query costs far more CPU than SQLite or PostgreSQL take to run
it: about half a millisecond for a one-row lookup, five times what executing the SQL and
building the instance cost. The hot path of a CI bot's write runs the same handful of lookups
on every request (its session, the review request and status update its URL names, their row
locks) with only the ids changing. A ``Statement`` builds its queryset once, with *marker*
values where the parameters go, compiles it on each connection the first time it runs there,
finds where the markers landed among the SQL parameters, and from then on only binds the new
values, runs the SQL and builds the instances as ``QuerySet`` iteration does (field converters,
``select_related`` populators). The SQL is the queryset's own, so the rows and instances are the
same; ``connection.queries`` and ``CaptureQueriesContext`` see every statement as usual.

Compiled plans live on the connection object (one per thread), so threads never share a
compiler, and a statement with ``select_for_update`` is compiled inside the transaction that
first runs it, as Django requires. Parameters are typed (``int``, ``str`` or ``datetime``) so
their markers survive the database adapter and can be found again; a marker the compiled SQL
does not carry is a programming error, reported at the first run.

Writes of one row get the same treatment: ``insert_row`` and ``update_row`` do what
``Model.save()`` does for a plain model (signals, ``auto_now``, the pk read back) with SQL written
once per model and field set. ``execute`` runs such SQL, straight on SQLite's cursor when nothing
is logging queries.

Domain-neutral: nothing from the web layer.
"""

from __future__ import annotations

import datetime
import functools
import itertools
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, NamedTuple, TypeVar

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

M = TypeVar("M", bound=Model)

_KINDS = (int, str, datetime.datetime)
_serial = itertools.count(1)


def _marker(kind: type, index: int) -> Any:
    """A value no caller sends, unique per parameter, of the parameter's type."""
    if kind is int:
        # Negative (no row has such an id) and inside every backend's integer range, which
        # Django checks before compiling a lookup.
        return -2_000_000_000 - 7919 * index
    if kind is str:
        return f"\x00rbapi-statement-parameter-{index}\x00"
    # Distinct microseconds in year 2: before every real timestamp, valid everywhere.
    return datetime.datetime(2, 1, 1, 0, 0, 0, index, tzinfo=datetime.UTC)


def _adapt(kind: type, value: Any, connection: Any) -> Any:
    """``value`` as the database adapter receives it (what the compiler put in the params)."""
    if kind is datetime.datetime:
        if timezone.is_naive(value):
            raise ValueError("Statement datetimes must be aware.")
        return connection.ops.adapt_datetimefield_value(value)
    return value


class Result(NamedTuple):
    rows: list[tuple[Any, ...]]
    rowcount: int
    lastrowid: Any


@functools.lru_cache(maxsize=512)
def _qmark(sql: str) -> str:
    """Django's SQL (``%s`` placeholders) in sqlite3's ``?`` style: Django's SQLite cursor's
    own conversion, done once per statement instead of on every call."""
    from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX

    return FORMAT_QMARK_REGEX.sub("?", sql).replace("%%", "%")


def execute(
    sql: str, params: Sequence[Any], *, using: str = DEFAULT_DB_ALIAS, fetch: bool = True
) -> Result:
    """Run one statement of SQL written once (``%s`` placeholders).

    On SQLite, unless queries are being logged (``DEBUG``, ``CaptureQueriesContext``) or
    execute wrappers are installed, it goes straight to the driver's cursor: Django's cursor
    layers (wrapper objects, logging hooks, the placeholder conversion by regex) cost about
    five times what SQLite takes to run a one-row statement. Errors are Django's, as always
    (``wrap_database_errors``), and a broken transaction still refuses to run it."""
    connection = connections[using]
    if (
        connection.vendor == "sqlite"
        and not connection.queries_logged
        and not connection.execute_wrappers
    ):
        connection.ensure_connection()
        connection.validate_no_broken_transaction()
        with connection.wrap_database_errors:
            cursor = connection.connection.cursor()
            try:
                cursor.execute(_qmark(sql), params)
                rows = cursor.fetchall() if fetch else []
                return Result(rows, cursor.rowcount, cursor.lastrowid)
            finally:
                cursor.close()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall() if fetch else []
        return Result(rows, cursor.rowcount, getattr(cursor, "lastrowid", None))


class _Plan:
    """One statement compiled on one connection: its SQL, where each parameter goes, and how
    rows become instances."""

    def __init__(self, statement: Statement, connection: Any) -> None:
        markers = {
            name: _marker(kind, index)
            for index, (name, kind) in enumerate(statement.params.items(), start=1)
        }
        queryset = statement.build(**markers)
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        adapted = {
            name: _adapt(statement.params[name], value, connection)
            for name, value in markers.items()
        }
        slots: list[tuple[str | None, Any]] = []
        found: set[str] = set()
        for param in params:
            name = next((n for n, marker in adapted.items() if param == marker), None)
            slots.append((name, None if name else param))
            if name:
                found.add(name)
        missing = set(markers) - found
        if missing:
            raise TypeError(f"Statement parameters not found in its SQL: {sorted(missing)}")
        self.sql = sql
        self.slots = slots
        self.compiler = compiler
        klass_info = compiler.klass_info
        select = compiler.select
        self.model = klass_info["model"]
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [column[0].target.attname for column in select[self.start : self.end]]
        self.populators = get_related_populators(klass_info, select, connection.alias)
        self.annotations = list((compiler.annotation_col_map or {}).items())
        self.converters = compiler.get_converters([s[0] for s in select[: compiler.col_count]])


class Statement(Generic[M]):
    """A queryset shape, compiled once per connection and run with new parameter values.

    ``build`` receives one keyword per parameter and returns the queryset; ``params`` names
    each parameter's type::

        LOCK = Statement(lambda pk: Row.objects.select_for_update().filter(pk=pk), pk=int)
        LOCK.get(pk=7)

    The queryset must not depend on anything but its parameters (settings, the time, the
    user): whatever else it holds is compiled into the statement for good.
    """

    def __init__(self, build: Callable[..., QuerySet[M]], **params: type) -> None:
        for name, kind in params.items():
            if kind not in _KINDS:
                raise TypeError(f"Parameter {name!r}: {kind!r} is not int, str or datetime.")
        self.build = build
        self.params = params
        self._key = f"statement-{next(_serial)}"

    def _plan(self, connection: Any) -> _Plan:
        plans = connection.__dict__.setdefault("_rbapi_statements", {})
        plan = plans.get(self._key)
        if plan is None:
            plan = plans[self._key] = _Plan(self, connection)
        return plan

    def all(self, *, using: str = DEFAULT_DB_ALIAS, **values: Any) -> list[M]:
        """Every row, as instances, in the queryset's order."""
        return self._run(using, values)[1]

    def get(self, *, using: str = DEFAULT_DB_ALIAS, **values: Any) -> M:
        """The one row, as ``QuerySet.get`` would return it (``DoesNotExist`` when there is
        none, ``MultipleObjectsReturned`` when there are several)."""
        plan, objects = self._run(using, values)
        if len(objects) == 1:
            return objects[0]
        model, name = plan.model, plan.model._meta.object_name
        if not objects:
            raise model.DoesNotExist(f"{name} matching query does not exist.")
        raise model.MultipleObjectsReturned(f"get() returned more than one {name}.")

    def _run(self, using: str, values: dict[str, Any]) -> tuple[_Plan, list[M]]:
        if values.keys() != self.params.keys():
            raise TypeError(f"Statement takes {sorted(self.params)}, got {sorted(values)}.")
        connection = connections[using]
        plan = self._plan(connection)
        bound = [
            _adapt(self.params[name], values[name], connection) if name else constant
            for name, constant in plan.slots
        ]
        rows = execute(plan.sql, bound, using=connection.alias).rows
        if plan.converters:
            rows = list(plan.compiler.apply_converters(rows, plan.converters))
        objects = []
        for row in rows:
            obj = plan.model.from_db(connection.alias, plan.init_list, row[plan.start : plan.end])
            for populator in plan.populators:
                populator.populate(row, obj)
            for attname, position in plan.annotations:
                setattr(obj, attname, row[position])
            objects.append(obj)
        return plan, objects


# --- writes of one row ------------------------------------------------------------------------


def _write_sql(connection: Any, key: tuple, build: Callable[[], str]) -> str:
    sqls = connection.__dict__.setdefault("_rbapi_write_sql", {})
    sql = sqls.get(key)
    if sql is None:
        sql = sqls[key] = build()
    return sql


def _plain(value: Any) -> Any:
    if hasattr(value, "resolve_expression"):
        raise TypeError("Expressions (F(), Value(), ...) need Model.save().")
    return value


def insert_row(obj: Model, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """``obj.save()`` of a new row (``pre_save``/``post_save`` sent, ``auto_now`` fields
    filled, the pk read back), with its ``INSERT`` written once per model and connection
    instead of compiled on every call. For plain models: no inherited tables, no
    expressions, no ``db_default``."""
    model = type(obj)
    meta = model._meta
    if meta.parents:
        raise TypeError(f"{meta.label} inherits a table: use save().")
    connection = connections[using]
    pre_save.send(sender=model, instance=obj, raw=False, using=using, update_fields=None)
    pk = meta.pk
    fields = [f for f in meta.local_concrete_fields if not (f is pk and obj.pk is None)]
    values = [_plain(f.get_db_prep_save(f.pre_save(obj, True), connection)) for f in fields]
    returning = obj.pk is None and connection.features.can_return_columns_from_insert

    def build() -> str:
        quote = connection.ops.quote_name
        sql = (
            f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))})"
        )
        if returning:
            sql += " " + connection.ops.return_insert_columns([pk])[0]
        return sql

    sql = _write_sql(connection, ("insert", meta.label, len(fields), returning), build)
    result = execute(sql, values, using=using, fetch=returning)
    if obj.pk is None:
        value = result.rows[0][0] if returning else result.lastrowid
        for converter in pk.get_db_converters(connection):
            value = converter(value, pk, connection)
        setattr(obj, pk.attname, value)
    obj._state.adding = False
    obj._state.db = using
    post_save.send(
        sender=model, instance=obj, created=True, update_fields=None, raw=False, using=using
    )


def update_row(obj: Model, fields: Iterable[str], *, using: str = DEFAULT_DB_ALIAS) -> None:
    """``obj.save(update_fields=fields)`` (signals, ``auto_now``, ``DatabaseError`` when
    the row is gone) with its ``UPDATE`` written once per model, field set and connection."""
    model = type(obj)
    meta = model._meta
    names = frozenset(fields)
    if not names:
        return
    if meta.parents:
        raise TypeError(f"{meta.label} inherits a table: use save().")
    connection = connections[using]
    pre_save.send(sender=model, instance=obj, raw=False, using=using, update_fields=names)
    by_attname = {field.attname: field for field in meta.concrete_fields}
    targets = sorted(
        (by_attname.get(name) or meta.get_field(name) for name in names),
        key=lambda field: field.column,
    )
    for field in targets:
        if not field.concrete or field.primary_key:
            raise ValueError(f"{field.name} can't be updated by update_row.")
    values = [_plain(f.get_db_prep_save(f.pre_save(obj, False), connection)) for f in targets]

    def build() -> str:
        quote = connection.ops.quote_name
        assignments = ", ".join(f"{quote(f.column)} = %s" for f in targets)
        return (
            f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"
        )

    sql = _write_sql(connection, ("update", meta.label, tuple(f.column for f in targets)), build)
    pk_value = meta.pk.get_db_prep_value(obj.pk, connection)
    if execute(sql, [*values, pk_value], using=using, fetch=False).rowcount != 1:
        raise DatabaseError("Save with update_fields did not affect any rows.")
    obj._state.adding = False
    obj._state.db = using
    post_save.send(
        sender=model, instance=obj, created=False, update_fields=names, raw=False, using=using
    )
