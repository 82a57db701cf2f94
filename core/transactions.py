"""The transaction every write service runs in: atomic, retried once on a transient conflict.

A deadlock or serialisation failure (PostgreSQL SQLSTATE ``40P01``/``40001``) or a busy SQLite
database (``SQLITE_BUSY``/``SQLITE_LOCKED``) means another writer held what this one needed; the
whole unit of work is run again once, from the start (it re-reads everything under its locks),
and if it fails again ``DatabaseBusyError`` tells the client to retry later (503 +
``Retry-After``). Errors are recognised by their codes, never by message text. The unit ends
by moving the write generation on (``core.generation``), so cached answers never outlive it.
Domain-neutral: nothing from the web layer.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.db import DatabaseError, connection, transaction

from core import generation
from core.errors import DatabaseBusyError

P = ParamSpec("P")
R = TypeVar("R")

RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
RETRYABLE_SQLITE_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


def is_transient_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` (or the driver error behind it) is a deadlock, a serialisation failure
    or a busy database, judged by its code."""
    for error in (exc, exc.__cause__):
        if error is None:
            continue
        if getattr(error, "sqlstate", None) in RETRYABLE_SQLSTATES:
            return True
        code = getattr(error, "sqlite_errorcode", None)
        if code is not None and code & 0xFF in RETRYABLE_SQLITE_CODES:
            return True
    return False


def _unit(func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """One unit of work: ``func`` and, as its last statement, the move of the write
    generation (``core.generation``), in one transaction."""
    generation.enter_write()
    try:
        with transaction.atomic():
            result = func(*args, **kwargs)
            generation.bump()
            return result
    finally:
        generation.leave_write()


def write_transaction(func: Callable[P, R]) -> Callable[P, R]:
    """Run ``func`` in ``transaction.atomic()``, once more on a transient conflict, then raise
    ``DatabaseBusyError``. Inside an outer transaction it cannot retry (the outer one is
    already aborted), so the conflict goes up to the outermost writer."""

    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        if connection.in_atomic_block:
            return _unit(func, *args, **kwargs)
        for attempt in (1, 2):
            try:
                return _unit(func, *args, **kwargs)
            except DatabaseError as exc:
                if not is_transient_conflict(exc):
                    raise
                if attempt == 2:
                    raise DatabaseBusyError() from exc
        raise AssertionError("unreachable")

    return run
