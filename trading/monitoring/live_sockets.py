"""Browser sockets whose live updates failed: one log line each, counted per cause.

A consumer whose set-up (joining its channel-layer groups, reading the user's memberships) or
whose channel-layer receive fails never stays connected and silent: it is closed with 4013
("try again later"), which the page shows as stopped live updates and answers by reconnecting
with backoff (htmx's ws extension). The count per cause is kept in the database, so the health
page and Prometheus show the whole deployment's figure whichever process failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from channels.db import database_sync_to_async
from django.db import DatabaseError, IntegrityError
from django.db.models import F
from django.utils import timezone
from redis.exceptions import RedisError

log = logging.getLogger("trading.live")

# RFC 6455's 1013 "Try Again Later" in the application range: daphne's WebSocket layer
# (autobahn) sends only 1000 and 3000-4999. static/js/app.js reconnects on it as on 1013.
CLOSE_TRY_AGAIN = 4013


def failure_cause(exc: BaseException) -> str:
    """``database``, ``channel_layer`` or ``other``: which part failed, by exception type."""
    if isinstance(exc, DatabaseError):
        return "database"
    if isinstance(exc, RedisError | OSError | asyncio.TimeoutError):
        return "channel_layer"
    return "other"


def _count(cause: str, error: str, now: datetime) -> None:
    from trading.models import LiveSocketFailure

    changes = {"count": F("count") + 1, "last_at": now, "last_error": error}
    if LiveSocketFailure.objects.filter(cause=cause).update(**changes):
        return
    try:
        LiveSocketFailure.objects.create(cause=cause, count=1, last_at=now, last_error=error)
    except IntegrityError:  # another process created it first
        LiveSocketFailure.objects.filter(cause=cause).update(**changes)


async def live_socket_failed(*, path: str, user: str, exc: BaseException) -> None:
    """Log one line for the failed socket and count it (best effort: the database may be what
    failed)."""
    cause = failure_cause(exc)
    error = f"{type(exc).__name__}: {exc}"[:300]
    log.warning(
        "live updates stopped for %s on %s: %s failed (%s); the page will reconnect",
        user,
        path,
        cause.replace("_", " "),
        error,
        exc_info=exc if cause == "other" else None,  # an unexpected error keeps its traceback
    )
    try:
        await database_sync_to_async(_count)(cause, error, timezone.now())
    except Exception as count_exc:  # noqa: BLE001 - counting must not hide the failure
        log.warning("could not count the failed live socket: %s", count_exc)


class ClosesWhenBrokenMixin:
    """Close the socket with 4013 when the consumer fails (channel layer, database), instead of
    leaving it open and silent or letting the error escape as a traceback."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        except Exception as exc:  # noqa: BLE001 - every failure closes the socket the same way
            user = scope.get("user")
            who = user.get_username() if user is not None and user.is_authenticated else "-"
            await live_socket_failed(path=scope.get("path", ""), user=who, exc=exc)
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2):
                    await self.disconnect(CLOSE_TRY_AGAIN)  # leave what groups it can
            with contextlib.suppress(Exception):
                await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN})


@dataclass(frozen=True)
class LiveSocketFailureRow:
    cause: str  # channel_layer, database, other
    label: str  # in words
    count: int
    last_at: datetime
    last_error: str


def live_socket_failures() -> list[LiveSocketFailureRow]:
    """Every cause that has closed a browser socket, with its count and last occurrence."""
    from trading.models import LiveSocketFailure

    return [
        LiveSocketFailureRow(
            row.cause, row.get_cause_display(), row.count, row.last_at, row.last_error
        )
        for row in LiveSocketFailure.objects.all()
    ]
