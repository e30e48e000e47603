"""Embedded mode's SQLite backend keeps the connections a process closes for its next
requests (dashboard/sqlite_pool): under daphne each request runs on a thread of its own, and
each opened a new connection (pragmas, functions, schema, statements prepared afresh)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db.utils import ConnectionHandler

from dashboard.sqlite_pool import base


@pytest.fixture
def databases(tmp_path, django_db_blocker):
    handler = ConnectionHandler(
        {
            "default": {
                "ENGINE": "dashboard.sqlite_pool",
                "NAME": tmp_path / "desk.sqlite3",
                "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;"},
            },
            "memory": {"ENGINE": "dashboard.sqlite_pool", "NAME": ":memory:"},
        }
    )
    with django_db_blocker.unblock():
        yield handler
    base._idle.clear()


def on_a_thread_of_its_own(work: Callable[[], Any]) -> Any:
    """`work()` on a new thread, as daphne runs each request's sync steps."""
    found: list[Any] = []
    thread = threading.Thread(target=lambda: found.append(work()))
    thread.start()
    thread.join()
    return found[0]


def request(databases: ConnectionHandler, alias: str = "default", *, leave_open: bool = False):
    def work() -> Any:
        database = databases[alias]
        with database.cursor() as cursor:
            cursor.execute("SELECT 1")
            if leave_open:
                cursor.execute("BEGIN")  # an error left the transaction open
        raw = database.connection
        database.close()  # the request's end
        return raw

    return on_a_thread_of_its_own(work)


def test_the_next_request_gets_the_connection_the_last_one_closed(databases):
    first = request(databases)
    second = request(databases)

    assert second is first
    assert second.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_connection_closed_inside_a_transaction_is_not_kept(databases):
    first = request(databases, leave_open=True)
    second = request(databases)

    assert second is not first


def test_in_memory_databases_are_left_as_django_keeps_them(databases):
    assert request(databases, "memory") is not request(databases, "memory")
