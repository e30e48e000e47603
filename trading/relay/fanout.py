"""Fan-out of the relay's fragments to this process's browser sockets.

A fragment for a market or a subaccount is rendered once per group and window (the relay's
coalescer), then written to every socket of that group in the process directly: no trip per
browser through the channel layer. How a fragment reaches the process:

- embedded without Redis: the relay runs in this process and hands it to the local hub;
- with Redis (scaled, or several dashboards with embedded relays): the relay publishes it once
  on one Redis pub/sub channel, and each dashboard process's one subscriber hands it to its
  hub; so a process receives a group's fragment once, however many of its browsers watch it.

When the subscriber loses Redis every socket that relies on it is told (`Member.broken`) and
closed with 4013 by its consumer, and new sockets are refused the same way until it is back,
as when the channel layer fails: the page shows that live updates stopped and reconnects.

The channel layer still carries what is addressed to one user (membership changes, alerts):
few messages, which need its per-channel delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol
from urllib.parse import urlsplit

from redis.asyncio import Redis

from trading.relay.sockets import Frames

log = logging.getLogger(__name__)

RETRY_MIN_S = 0.2
RETRY_MAX_S = 5.0
STATS_EVERY_S = 10.0
"""How often a hub that delivers logs what its deliveries cost (tests/bench/bench_relay.py reads
these lines)."""


class Member(Protocol):
    """A browser socket watching groups (a consumer)."""

    def deliver(self, group: str, message: dict[str, Any], frames: Frames | None) -> None: ...

    def broken(self, exc: BaseException) -> None: ...


def fanout_channel(redis_url: str) -> str:
    """The pub/sub channel of this deployment's fragments. Pub/sub ignores Redis's database
    numbers, so the name carries it: deployments (or test runs) on one server stay apart."""
    path = urlsplit(redis_url).path.strip("/") or "0"
    return f"desk:{path}:fanout"


def encode(group: str, message: dict[str, Any]) -> str:
    return json.dumps([group, message], separators=(",", ":"))


def decode(data: bytes | str) -> tuple[str, dict[str, Any]] | None:
    """(group, message), or None for a frame that is not one of ours (logged, skipped)."""
    try:
        group, message = json.loads(data)
    except (TypeError, ValueError) as exc:
        log.warning("fan-out: skipped a malformed frame: %s", exc)
        return None
    if not isinstance(group, str) or not isinstance(message, dict):
        log.warning("fan-out: skipped a frame of unexpected shape")
        return None
    return group, message


class Hub:
    """This process's sockets by group, and (with Redis) its one subscription."""

    def __init__(self) -> None:
        self._groups: dict[str, dict[Member, None]] = {}
        self.healthy = True
        self.delivered = 0
        self._stats_since = time.monotonic()
        self._stats_messages = 0
        self._stats_writes = 0
        self._stats_seconds = 0.0
        self._subscriber: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    # -- membership ---------------------------------------------------------------------------
    def join(self, group: str, member: Member) -> None:
        self._groups.setdefault(group, {})[member] = None

    def leave(self, group: str, member: Member) -> None:
        members = self._groups.get(group)
        if members is not None:
            members.pop(member, None)
            if not members:
                del self._groups[group]

    def watchers(self, group: str) -> int:
        return len(self._groups.get(group, ()))

    # -- delivery -----------------------------------------------------------------------------
    def deliver(self, group: str, message: dict[str, Any]) -> int:
        """Hand `message` to every socket of `group` here; returns how many."""
        members = self._groups.get(group)
        if not members:
            return 0
        started = time.thread_time()  # CPU: the figure holds on a busy machine
        count = 0
        frames = Frames()  # each variant framed once for all of them
        for member in list(members):
            try:
                member.deliver(group, message, frames)
            except Exception:  # noqa: BLE001 - one broken socket never stops the others
                log.exception("fan-out: delivery to one socket failed")
            count += 1
        self.delivered += count
        self._stats_seconds += time.thread_time() - started
        self._stats_messages += 1
        self._stats_writes += count
        if time.monotonic() - self._stats_since >= STATS_EVERY_S:
            self._report()
        return count

    def _report(self) -> None:
        now = time.monotonic()
        writes = self._stats_writes
        log.info(
            "fan-out stats: %d messages, %d socket writes in %.3f s of %.1f s (%.1f us a write)",
            self._stats_messages,
            writes,
            self._stats_seconds,
            now - self._stats_since,
            self._stats_seconds / writes * 1e6 if writes else 0.0,
        )
        self._stats_since, self._stats_messages = now, 0
        self._stats_writes, self._stats_seconds = 0, 0.0

    def _break_all(self, exc: BaseException) -> None:
        members = {m: None for group in self._groups.values() for m in group}
        self._groups.clear()
        for member in members:
            with contextlib.suppress(Exception):
                member.broken(exc)

    # -- the Redis subscription ---------------------------------------------------------------
    async def subscribed(self, redis: Redis, channel: str, *, within_s: float = 5.0) -> None:
        """Start the subscription on first use and wait until it is live; raise if Redis does
        not answer within `within_s` (the consumer closes its socket with 4013)."""
        if self._subscriber is None or self._subscriber.done():
            self._subscribed.clear()
            self._subscriber = asyncio.create_task(self._subscribe_forever(redis, channel))
        if self._subscribed.is_set():
            return
        async with asyncio.timeout(within_s):
            await self._subscribed.wait()

    async def _subscribe_forever(self, redis: Redis, channel: str) -> None:
        delay = RETRY_MIN_S
        while True:
            pubsub = redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(channel)
                self.healthy = True
                self._subscribed.set()
                delay = RETRY_MIN_S
                async for frame in pubsub.listen():
                    if frame.get("type") != "message":
                        continue
                    decoded = decode(frame["data"])
                    if decoded is not None:
                        self.deliver(*decoded)
                raise ConnectionError("the fan-out subscription ended")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Redis lost: tell the sockets, retry
                self.healthy = False
                self._subscribed.clear()
                log.warning("fan-out: lost Redis (%s); retrying in %.1f s", exc, delay)
                self._break_all(exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_S)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def close(self) -> None:
        if self._subscriber is not None:
            self._subscriber.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._subscriber
            self._subscriber = None


Publish = Callable[[str, dict[str, Any]], Awaitable[None]]


def publisher(redis: Redis | None, channel: str, hub: Callable[[], Hub]) -> Publish:
    """How the relay hands out a fragment: once on Redis, or to this process's hub."""
    if redis is None:

        async def publish_here(group: str, message: dict[str, Any]) -> None:
            hub().deliver(group, message)

        return publish_here

    async def publish_on_redis(group: str, message: dict[str, Any]) -> None:
        await redis.publish(channel, encode(group, message))

    return publish_on_redis
