"""Redis connections of a dashboard or relay process: few, bounded, and named.

redis-py's asyncio ``ConnectionPool`` opens a new connection for every command issued while
the others are busy and, past ``max_connections`` (100 by default), raises
``MaxConnectionsError`` instead of waiting. A burst of commands, such as one ``group_add`` per
browser when a hundred sockets connect at once, therefore grows the pool to its cap and then
fails every further caller. Every Redis client of the desk uses a ``BlockingConnectionPool``
instead: at most ``size`` connections per process and event loop, and a caller beyond that
waits (up to ``WAIT_S``) for a connection to come back. The number of Redis connections a
process holds does not grow with the number of browsers it serves.

Each connection is named ``desk-<role>:<host>:<pid>`` (``CLIENT LIST`` shows it), so an
operator can tell which process holds what.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis

WAIT_S = 10.0  # how long a command waits for a free connection before failing


def client_name(role: str) -> str:
    """The name this process's connections of one role carry in Redis's ``CLIENT LIST``."""
    return f"desk-{role}:{socket.gethostname()}:{os.getpid()}"


def bounded_pool(url: str, *, size: int, role: str, **options: Any) -> BlockingConnectionPool:
    """A pool of at most ``size`` connections to ``url`` that makes callers wait, not fail."""
    return BlockingConnectionPool.from_url(
        url, max_connections=size, timeout=WAIT_S, client_name=client_name(role), **options
    )


def bounded_client(url: str, *, size: int, role: str) -> Redis:
    """A Redis client over ``bounded_pool`` (closing the client closes its pool)."""
    return Redis.from_pool(bounded_pool(url, size=size, role=role))
