"""The write generation: one number that every committed write moves on.

Caches of rendered answers (``rbapi.response_cache``) file each answer under the generation
read before its data was read, so that no answer outlives a write. The number lives in the
database (table ``rbapi_cachegeneration``, one row, created by rbapi's migrations), so every
process and machine that shares the data shares it too. A write service moves it as the last
statement of its own transaction (``core.transactions.write_transaction``): the generation and
the data change in the same commit, and no second commit is needed.
"""

from __future__ import annotations

import threading

from django.db import DatabaseError, connection, transaction

from core.statements import execute

_state = threading.local()


def read() -> int | None:
    """The generation now, or None when it cannot be read (not migrated, no row)."""
    try:
        rows = execute("SELECT value FROM rbapi_cachegeneration WHERE id = 1", ()).rows
    except DatabaseError:
        return None
    return rows[0][0] if rows else None


def bump() -> None:
    """Move the generation on, in the current transaction (or on its own outside one)."""
    _state.count = bumps_in_thread() + 1
    sql = "UPDATE rbapi_cachegeneration SET value = value + 1 WHERE id = 1"
    if execute(sql, (), fetch=False).rowcount:
        return
    # The row is gone (a flushed test database): put it back, in its own savepoint.
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("INSERT INTO rbapi_cachegeneration (id, value) VALUES (1, 1)")
    except DatabaseError:
        pass


def bumps_in_thread() -> int:
    """How many times this thread has moved the generation on (a request compares it before
    and after, to know whether its writes did)."""
    return getattr(_state, "count", 0)


def in_write_transaction() -> bool:
    """Whether a write service's transaction is running in this thread (it bumps at its end,
    so model signals need not)."""
    return getattr(_state, "depth", 0) > 0


def enter_write() -> None:
    _state.depth = getattr(_state, "depth", 0) + 1


def leave_write() -> None:
    _state.depth = getattr(_state, "depth", 1) - 1
