"""WebSocket streams: many public and private streams on one connection, supervised.

``StreamClient`` keeps one connection to the exchange's WebSocket API, subscribes the
streams it was asked for (private ``account.*`` ones with a signed subscribe), hands each
``{"stream": ..., "data": ...}`` frame to the stream's handler, and when the connection
drops reconnects with capped, jittered exponential backoff (reset after a connection that
stayed up), resubscribes everything, and reports the outage interval to ``on_outage`` so
the owner can reconcile through REST. A watchdog pings a socket that went silent and
reconnects when no pong comes back. Protocol pings from the server are answered by the
``websockets`` library.

A private subscription the exchange refuses (expired or future timestamp, bad signature) is
not left for dead: the client re-measures the exchange clock (``resync_clock``), re-signs
and resubscribes, with the same capped, jittered backoff, and reports
``state == "refused: <reason>"`` until the exchange accepts it. A refusal on (re)connect is
healed on that socket; one of a stream added later to a live socket, through a reconnect.
A refusal is the error frame answering the signed ``SUBSCRIBE`` (by ``id``, or
``"id": null`` while one waits for its answer)::

    {"id": 2, "error": {"code": 4001, "message": "Request has expired"}}

Supervision (``_supervise``, ``_heal``) and message handling (``_dispatch``) are separate.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import websockets

from .signing import DEFAULT_WINDOW_MS, Credentials, system_clock_ms, ws_signature

logger = logging.getLogger("trading.backpack.streams")

Handler = Callable[[dict[str, Any]], Awaitable[None] | None]


@dataclass(frozen=True, slots=True)
class Outage:
    """The connection was down from ``started_at`` to ``ended_at`` (epoch seconds)."""

    started_at: float
    ended_at: float
    streams: tuple[str, ...]
    reason: str

    @property
    def duration_s(self) -> float:
        """How long the streams were blind."""
        return self.ended_at - self.started_at

    @property
    def started_ms(self) -> int:
        """Start of the outage in epoch ms (for REST ``from`` filters)."""
        return int(self.started_at * 1000)


class StreamClient:
    """One supervised WebSocket connection carrying many streams."""

    def __init__(
        self,
        ws_url: str,
        *,
        credentials: Credentials | None = None,
        clock_ms: Callable[[], int] = system_clock_ms,
        window_ms: int = DEFAULT_WINDOW_MS,
        on_outage: Callable[[Outage], Awaitable[None] | None] | None = None,
        backoff_base_s: float = 0.1,
        backoff_cap_s: float = 5.0,
        healthy_after_s: float = 5.0,
        watchdog_s: float = 30.0,
        pong_timeout_s: float = 10.0,
        ack_timeout_s: float = 2.0,
        before_signing: Callable[[], Awaitable[Any]] | None = None,
        resync_clock: Callable[[], Awaitable[Any]] | None = None,
    ) -> None:
        self.ws_url = ws_url
        self.credentials = credentials
        self.clock_ms = clock_ms
        self.window_ms = window_ms
        self.outage_listeners: list[Callable[[Outage], Awaitable[None] | None]] = (
            [on_outage] if on_outage else []
        )
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.healthy_after_s = healthy_after_s
        self.watchdog_s = watchdog_s
        self.pong_timeout_s = pong_timeout_s
        self.ack_timeout_s = ack_timeout_s
        self.before_signing = before_signing
        self.resync_clock = resync_clock
        self.handlers: dict[str, list[Handler]] = {}
        self.connected = asyncio.Event()
        self.connections = 0
        self.outages: list[Outage] = []
        self.last_error: str | None = None
        self.refusal: str | None = None
        self.refusals: deque[str] = deque(maxlen=50)  # the latest refusals' reasons
        self._ws: Any = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._heard_at = 0.0  # loop time of the newest frame (the silence watchdog reads it)
        self._silent: str | None = None  # why the watchdog dropped the socket
        self._next_id = 0
        self._acks: dict[int, asyncio.Future[Any]] = {}
        self._private_ids: set[int] = set()
        self._background: set[asyncio.Future[None]] = set()

    # -- public API ----------------------------------------------------------------------

    def start(self) -> None:
        """Start the supervisor task (idempotent)."""
        if self._task is None or self._task.done():
            self._closing = False
            self._task = asyncio.create_task(self._supervise(), name=f"streams {self.ws_url}")

    async def aclose(self) -> None:
        """Stop: close the socket and the supervisor."""
        self._closing = True
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for task in list(self._background):
            task.cancel()

    async def subscribe(self, streams: str | Iterable[str], handler: Handler) -> None:
        """Route ``streams`` to ``handler(data)`` and subscribe them (now, and after every
        reconnect). Waits for the exchange's acknowledgement when it sends one."""
        names = [streams] if isinstance(streams, str) else list(streams)
        fresh = [n for n in names if n not in self.handlers]
        if self.refusal is not None:  # the supervisor's next attempt signs them all
            fresh = [n for n in fresh if not n.startswith("account.")]
        for name in names:
            self.handlers.setdefault(name, []).append(handler)
        self.start()
        ws = self._ws
        if fresh and ws is not None:
            # If the socket dies meanwhile, the supervisor subscribes again on reconnect.
            with contextlib.suppress(Exception):
                refusal = await self._send_subscribe(ws, fresh)
                if refusal is not None:
                    # The supervisor heals refusals: on reconnect it re-measures the clock
                    # and re-signs every private stream.
                    self._refused(refusal)
                    await ws.close()

    async def unsubscribe(
        self, streams: str | Iterable[str], handler: Handler | None = None
    ) -> None:
        """Stop calling ``handler`` (or every handler) for ``streams``; a stream nobody
        listens to any more is unsubscribed on the exchange."""
        names = [streams] if isinstance(streams, str) else list(streams)
        gone = []
        for name in names:
            handlers = self.handlers.get(name)
            if handlers is None:
                continue
            if handler is not None and handler in handlers:
                handlers.remove(handler)
            elif handler is None:
                handlers.clear()
            if not handlers:
                del self.handlers[name]
                gone.append(name)
        ws = self._ws
        if gone and ws is not None:
            with contextlib.suppress(Exception):
                await ws.send(json.dumps({"method": "UNSUBSCRIBE", "params": gone}))

    @property
    def state(self) -> str:
        """``connected`` (socket up, every subscription live), ``refused: <reason>`` (the
        exchange refused the private subscription; retrying) or ``disconnected``."""
        if self.connected.is_set():
            return "connected"
        if self.refusal is not None:
            return f"refused: {self.refusal}"
        return "disconnected"

    async def wait_connected(self, within_s: float = 5.0) -> None:
        """Wait until the connection is up and subscribed."""
        async with asyncio.timeout(within_s):
            await self.connected.wait()

    async def drop(self) -> None:
        """Close the current socket (the supervisor reconnects); for tests and admin."""
        ws = self._ws
        if ws is not None:
            await ws.close()

    # -- supervision ---------------------------------------------------------------------

    async def _supervise(self) -> None:
        attempt = 0
        down_since: float | None = None
        reason = ""
        while not self._closing:
            connected_at: float | None = None
            try:
                async with websockets.connect(
                    self.ws_url,
                    ping_interval=None,
                    max_size=2**23,
                    open_timeout=5,
                    close_timeout=1,
                ) as ws:
                    self._ws = ws
                    connected_at = time.monotonic()
                    self.connections += 1
                    reader = asyncio.create_task(self._read(ws))
                    try:
                        refusal = await self._send_subscribe(ws, list(self.handlers))
                        if refusal is not None:
                            if down_since is None:
                                down_since, reason = time.time(), f"refused: {refusal}"
                            await self._heal(ws, reader, refusal)
                        if not reader.done():
                            self.refusal = None
                            self.connected.set()
                            if down_since is not None:
                                outage = Outage(down_since, time.time(), self._names(), reason)
                                self._spawn(self._report(outage))
                                down_since = None
                        await reader
                    finally:
                        reader.cancel()
                        with contextlib.suppress(asyncio.CancelledError, Exception):
                            await reader
                reason = "closed by the exchange"
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - supervision: any failure means reconnect
                reason = f"{type(exc).__name__}: {exc}"
                self.last_error = reason
                logger.info("stream connection lost: %s", reason)
            finally:
                self._ws = None
                self.connected.clear()
                for future in self._acks.values():
                    future.cancel()
                self._acks.clear()
                self._private_ids.clear()
            if self._closing:
                break
            if down_since is None:
                down_since = time.time()
            if connected_at is not None and time.monotonic() - connected_at >= self.healthy_after_s:
                attempt = 0
            await asyncio.sleep(self._backoff(attempt))
            attempt += 1

    def _backoff(self, attempt: int) -> float:
        # "Equal jitter": half the backoff is kept, half is random, so reconnects of many
        # clients spread out and a flapping exchange is never hammered.
        backoff = min(self.backoff_cap_s, self.backoff_base_s * 2**attempt)
        return backoff / 2 + random.uniform(0, backoff / 2)

    async def _heal(self, ws: Any, reader: asyncio.Task[None], refusal: str) -> None:
        """The exchange refused the private subscription: re-measure the clock, re-sign and
        resubscribe on this socket, backing off, until it is accepted or the socket dies."""
        attempt = 0
        while refusal is not None and not reader.done():
            self._refused(refusal)
            await asyncio.sleep(self._backoff(attempt))
            attempt += 1
            if reader.done():
                return  # the socket died: the supervisor reconnects (and re-measures)
            private = [n for n in self.handlers if n.startswith("account.")]
            refusal = await self._send_subscribe(ws, private) if private else None

    def _refused(self, reason: str) -> None:
        self.refusal = reason
        self.refusals.append(reason)
        self.last_error = f"refused: {reason}"
        logger.warning("private stream subscription refused: %s", reason)

    async def _remeasure_clock(self) -> None:
        """Measure the exchange clock now (a refusal may mean our offset is wrong)."""
        if self.resync_clock is None:
            return
        try:
            await self.resync_clock()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - sign with the old offset; retried later
            logger.warning("could not re-measure the exchange clock: %s", exc)

    async def _read(self, ws: Any) -> None:
        """Receive and dispatch every frame until the socket ends. Silence is watched beside
        it (`_watch_silence`), not by a timeout around each receive: at a thousand frames a
        second, arming and cancelling a timer per frame cost more than parsing the frame."""
        loop = asyncio.get_running_loop()
        self._heard_at = loop.time()
        self._silent = None
        watch = asyncio.create_task(self._watch_silence(ws))
        try:
            while True:
                try:
                    raw = await ws.recv()
                except websockets.ConnectionClosed:
                    if self._silent is not None:  # the watchdog dropped it
                        raise TimeoutError(self._silent) from None
                    raise
                self._heard_at = loop.time()
                await self._dispatch(raw)
        finally:
            watch.cancel()

    async def _watch_silence(self, ws: Any) -> None:
        """No frame for `watchdog_s`: ping; no pong within `pong_timeout_s` either: the socket
        is dead without knowing it; abort it at once (no close handshake can succeed) and the
        reader ends with why."""
        loop = asyncio.get_running_loop()
        while True:
            quiet_until = self._heard_at + self.watchdog_s
            if loop.time() < quiet_until:
                await asyncio.sleep(quiet_until - loop.time())
                continue
            try:
                pong = await ws.ping()
                async with asyncio.timeout(self.pong_timeout_s):
                    await pong
            except websockets.ConnectionClosed:
                return  # the reader sees it too
            except TimeoutError:
                self._silent = (
                    f"no frame for {self.watchdog_s:g}s and no pong within {self.pong_timeout_s:g}s"
                )
                transport = getattr(ws, "transport", None)
                if transport is not None:
                    transport.abort()
                return
            self._heard_at = loop.time()  # alive: another full wait for a frame

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def add_outage_listener(self, listener: Callable[[Outage], Awaitable[None] | None]) -> None:
        """Call ``listener(outage)`` after every reconnect (to reconcile through REST)."""
        self.outage_listeners.append(listener)

    async def _report(self, outage: Outage) -> None:
        self.outages.append(outage)
        for listener in list(self.outage_listeners):
            try:
                result = listener(outage)
                if inspect.isawaitable(result):
                    await result
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the owner's reconciliation failed; keep streaming
                logger.exception("outage listener failed")

    def _names(self) -> tuple[str, ...]:
        return tuple(self.handlers)

    async def _send_subscribe(self, ws: Any, names: list[str]) -> str | None:
        """Subscribe ``names``; returns why the exchange refused the private ones, if so."""
        public = [n for n in names if not n.startswith("account.")]
        private = [n for n in names if n.startswith("account.")]
        waits = []
        signed: asyncio.Future[Any] | None = None
        if public:
            waits.append(await self._request(ws, {"method": "SUBSCRIBE", "params": public}))
        if private:
            if self.credentials is None:
                raise ValueError("private streams need credentials")
            if self.refusal is not None:
                await self._remeasure_clock()  # refused before: the offset is suspect
            elif self.before_signing is not None:
                await self.before_signing()  # e.g. measure the exchange clock if stale
            signature = ws_signature(self.credentials, self.clock_ms(), self.window_ms)
            frame = {"method": "SUBSCRIBE", "params": private, "signature": signature}
            signed = await self._request(ws, frame, private=True)
            waits.append(signed)
        if waits:
            # The real exchange sends no acknowledgement; wait briefly for one if it does.
            await asyncio.wait(waits, timeout=self.ack_timeout_s)
        if signed is None or not signed.done() or signed.cancelled():
            return None
        return _refusal_reason(signed.result())

    async def _request(
        self, ws: Any, frame: dict[str, Any], *, private: bool = False
    ) -> asyncio.Future[Any]:
        self._next_id += 1
        ident = frame["id"] = self._next_id
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._acks[ident] = future
        if private:
            self._private_ids.add(ident)
            future.add_done_callback(lambda _: self._private_ids.discard(ident))
        await ws.send(json.dumps(frame))
        return future

    # -- message handling ----------------------------------------------------------------

    async def _dispatch(self, raw: str | bytes) -> None:
        """Parse one frame ``{"stream":"depth.SOL_USDC","data":{...}}`` and call handlers."""
        try:
            message = json.loads(raw)
        except ValueError:
            logger.warning("unreadable stream frame: %r", raw[:80])
            return
        if type(message) is not dict:
            return
        stream = message.get("stream")
        if stream is None:
            self._control(message)
            return
        handlers = self.handlers.get(stream)
        if not handlers:
            return
        data = message.get("data")
        for handler in handlers:
            try:
                result = handler(data)
                if inspect.isawaitable(result):
                    await result
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - one bad handler must not stop the stream
                logger.exception("stream handler for %s failed", stream)

    def _control(self, message: dict[str, Any]) -> None:
        """An acknowledgement ``{"id":1,"result":null}`` or error ``{"id":1,"error":{...}}``.

        An error with ``"id": null`` answers the signed subscription waiting for its answer,
        if one does (an exchange that does not echo ids still gets its refusal noticed)."""
        ident = message.get("id")
        if ident is None and "error" in message and self._private_ids:
            ident = max(self._private_ids)
        future = self._acks.pop(ident, None) if isinstance(ident, int) else None
        if "error" in message:
            self.last_error = str(message["error"])
            logger.warning("stream request refused: %s", message["error"])
        if future is not None and not future.done():
            future.set_result(message)


def _refusal_reason(answer: Any) -> str | None:
    """The words of an error answer ``{"id":2,"error":{"code":4001,"message":"..."}}``, or
    None for an acknowledgement."""
    if not isinstance(answer, dict) or "error" not in answer:
        return None
    error = answer["error"]
    message = error.get("message") if isinstance(error, dict) else None
    return message if isinstance(message, str) and message else str(error)
