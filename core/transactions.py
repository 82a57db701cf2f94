"""The transaction every write service runs in: atomic, retried once on a transient conflict.

A deadlock or serialisation failure (PostgreSQL SQLSTATE ``40P01``/``40001``) or a busy SQLite
database (``SQLITE_BUSY``/``SQLITE_LOCKED``) means another writer held what this one needed; the
whole unit of work is run again once, from the start (it re-reads everything under its locks),
and if it fails again ``DatabaseBusyError`` tells the client to retry later (503 +
``Retry-After``). Errors are recognised by their codes, never by message text. The unit ends
by moving the write generation on (``core.generation``), so cached answers never outlive it.

On SQLite, writers of every process first queue on one file lock (``<database>.writers``):
SQLite lets one writer in at a time and makes the others poll, sleeping 1, 2, 5 ... ms between
tries, so a writer that finds the database busy sleeps on long after it is free. A blocking
``flock`` wakes the next writer the moment the last one commits. Domain-neutral: nothing from
the web layer.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
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


_writers = threading.Lock()
_writer_files: dict[tuple[int, str], int] = {}


@contextlib.contextmanager
def _writer_turn() -> Iterator[None]:
    """Wait for this writer's turn at a SQLite database file (see the module docstring);
    nothing to wait for on other databases or on an in-memory one."""
    name = str(connection.settings_dict.get("NAME") or "")
    if connection.vendor != "sqlite" or not name or ":memory:" in name or "mode=memory" in name:
        yield
        return
    with _writers:  # threads of one process; the file lock orders the processes
        key = (os.getpid(), name)  # a forked worker opens its own file (its own lock)
        if key not in _writer_files:
            _writer_files[key] = os.open(f"{name}.writers", os.O_RDWR | os.O_CREAT, 0o600)
        descriptor = _writer_files[key]
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)


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
                with _writer_turn():
                    return _unit(func, *args, **kwargs)
            except DatabaseError as exc:
                if not is_transient_conflict(exc):
                    raise
                if attempt == 2:
                    raise DatabaseBusyError() from exc
        raise AssertionError("unreachable")

    return run
