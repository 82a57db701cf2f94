"""SQLite writers queue on a file lock (``core.transactions._writer_turn``): a writer waits
while another process holds the lock and goes the moment it is released."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

import pytest
from django.db import connection

from core import transactions


@pytest.fixture
def sqlite_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    if connection.vendor != "sqlite":
        pytest.skip("the writer queue is for SQLite database files")
    database = tmp_path / "rbapi.sqlite3"
    monkeypatch.setitem(connection.settings_dict, "NAME", str(database))
    return database


def test_a_writer_waits_for_the_holder_and_goes_at_once(sqlite_file: Path):
    # Another process's turn: a lock on its own open file description.
    holder = os.open(f"{sqlite_file}.writers", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(holder, fcntl.LOCK_EX)
    entered = threading.Event()

    def writer() -> None:
        with transactions._writer_turn():
            entered.set()

    thread = threading.Thread(target=writer)
    thread.start()
    assert not entered.wait(0.3), "the writer went in while another held the lock"
    released = time.monotonic()
    fcntl.flock(holder, fcntl.LOCK_UN)
    assert entered.wait(5)
    assert time.monotonic() - released < 0.5
    thread.join()
    os.close(holder)


def test_threads_of_one_process_take_turns(sqlite_file: Path):
    inside = 0
    most = 0
    lock = threading.Lock()

    def writer() -> None:
        nonlocal inside, most
        with transactions._writer_turn():
            with lock:
                inside += 1
                most = max(most, inside)
            time.sleep(0.02)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 1


def test_an_in_memory_database_needs_no_turn(monkeypatch: pytest.MonkeyPatch):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    monkeypatch.setitem(connection.settings_dict, "NAME", "file:memorydb?mode=memory&cache=shared")
    with transactions._writer_turn():
        pass
    assert not any("memorydb" in name for _, name in transactions._writer_files)
