"""Django's SQLite backend, with the connections a process closes kept open for its next
requests (embedded mode's database).

Under daphne every HTTP request runs its sync steps on a thread of its own, and Django's
connections belong to threads: each request opened a new SQLite connection and closed it at
its end. A new connection sets its pragmas, registers Django's functions, reads the schema
again and prepares every statement afresh; measured with tests/bench/bench_ticket.py (which
runs each ticket on a thread of its own, as daphne does) that was 3 to 5 ms of each ticket
on a slow machine. Here a connection closed outside any transaction and without an error is
kept (up to `IDLE_MAX` per database file) and handed to the next thread that connects, with
its prepared statements. Django still sees a close and a connect (the connection-created
signal, the autocommit setting); SQLite's own connection is simply not torn down. In-memory
databases (the test database) are left to Django as they are.
"""

from __future__ import annotations

import threading
from typing import Any

from django.db.backends.sqlite3 import base

IDLE_MAX = 16

_idle: dict[str, list[Any]] = {}
_lock = threading.Lock()


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        if not self.is_in_memory_db():
            with _lock:
                kept = _idle.get(str(conn_params["database"]))
                if kept:
                    return kept.pop()
        return super().get_new_connection(conn_params)

    def _close(self) -> None:
        raw = self.connection
        reusable = (
            raw is not None
            and not self.is_in_memory_db()
            and not self.in_atomic_block
            and not self.errors_occurred
            and not raw.in_transaction
        )
        if reusable:
            with _lock:
                kept = _idle.setdefault(str(self.settings_dict["NAME"]), [])
                if len(kept) < IDLE_MAX:
                    kept.append(raw)
                    return
        super()._close()
