"""The threads of reads shared by many requests (the grouped balances reads, the selectors'
read cache): one thread each, whichever request asked, so one database connection each.

That connection is the thread's own, outside the connection pool of the scaled run: the
requests waiting for a shared read each hold a pooled connection meanwhile, and a burst of
them as large as the pool (the balances page of a team with many subaccounts) would otherwise
leave the read waiting for one of theirs until the pool's timeout.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from django.db import DEFAULT_DB_ALIAS
from django.db import connections as databases


def own_connection() -> None:
    """Give this thread a database connection outside the pool (when there is one)."""
    options = databases.settings[DEFAULT_DB_ALIAS].get("OPTIONS", {})
    if not options.get("pool"):
        return
    pooled = databases[DEFAULT_DB_ALIAS]
    own = {**pooled.settings_dict, "OPTIONS": {k: v for k, v in options.items() if k != "pool"}}
    databases[DEFAULT_DB_ALIAS] = type(pooled)(own, DEFAULT_DB_ALIAS)


def read_thread(name: str) -> ThreadPoolExecutor:
    """One thread for one kind of shared read, with its own database connection."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix=name, initializer=own_connection)
