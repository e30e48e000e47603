"""Embedded mode (SQLite): the server process checkpoints the write-ahead log beside its
requests, never inside one.

SQLite checkpoints the log when a commit finds it over 1,000 pages: that commit copies the log
into the database file and syncs the file, several milliseconds on a plain disk, inside
whichever request made it. Measured with tests/bench/bench_gateway.py: one script order in
about sixty spent 6 to 12 ms in its database step instead of 1.4 ms, the largest part of the
desk's slowest orders.

`checkpoint_beside_requests()` (a server process only, from dashboard/asgi.py) turns the
automatic checkpoint off for every connection the process opens, and starts a thread of its
own that checkpoints ten times a second (PASSIVE: it never waits for a reader or a writer, and
a commit never waits for it). Often, so that each checkpoint is small and catches up between
two commits: the log starts over from its beginning only when a write begins with every frame
copied. Checkpointed once a second under a script's stream of orders, it never caught up, and
the log grew to 48 MB in 600 orders, each read searching it (the desk's CPU per order up by
a tenth); ten times a second it stays near 5 MB, as with SQLite's own checkpoints.

Other processes (management commands) keep SQLite's automatic checkpoints. A checkpoint that
fails is logged and tried again at the next turn; the log is still in the database's keeping
meanwhile (a crash loses nothing a checkpoint would have saved: SQLite replays the log at the
next open).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.db import DatabaseError, connection, connections
from django.db.backends.signals import connection_created

CHECKPOINT_EVERY_S = 0.1

log = logging.getLogger(__name__)
_started = threading.Event()


def _no_automatic_checkpoint(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_autocheckpoint=0")


def checkpoint_beside_requests() -> bool:
    """In a server process on SQLite: commits stop checkpointing, a thread does it. False
    (nothing done) on another database, or when it already runs."""
    if connections["default"].vendor != "sqlite" or _started.is_set():
        return False
    _started.set()
    connection_created.connect(_no_automatic_checkpoint, weak=False)
    threading.Thread(target=_checkpoints, name="wal-checkpoint", daemon=True).start()
    return True


def checkpoint_now() -> tuple[int, int, int]:
    """One PASSIVE checkpoint on this thread's connection: (busy, frames in the log, frames
    copied into the database)."""
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
        busy, frames, copied = cursor.fetchone()
    return busy, frames, copied


def _checkpoints() -> None:  # a daemon thread: it ends with the process
    while True:
        time.sleep(CHECKPOINT_EVERY_S)
        try:
            checkpoint_now()
        except DatabaseError as error:
            log.warning("checkpointing the SQLite log failed (tried again): %s", error)
            connection.close()
        except Exception:  # the thread must outlive any surprise: the log would only grow
            log.exception("checkpointing the SQLite log failed (tried again)")
