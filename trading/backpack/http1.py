"""A lean HTTP/1.1 keep-alive pool on asyncio: the wire under the session's httpx client
(``transport.PoolTransport``).

The exchange speaks plain JSON over HTTP/1.1. One request costs aiohttp ~100 us of Python
(request/response models, a task per body write, stream readers); this pool writes the
request in one ``transport.write`` and feeds the answer to ``httptools`` (llhttp) in
``data_received``: status line, headers, then a ``Content-Length`` body, a chunked body, or a
body ending with the connection. TLS through ``ssl`` (``https://``), one timer per request for
the total timeout, a connect timeout, idle connections dropped after ``keepalive_s`` or as soon
as the server closes them. No redirects, no compression (none are asked for); a proxy from the
environment switches the session to httpx_aiohttp (``transport.py``).

Failures raise ``ConnectFailed`` (nothing was sent), ``TimeoutError`` or
``ConnectionLost``; the transport maps them to httpx's exceptions.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import httptools

_MAX_HEAD = 64 * 1024
_OWN_HEADERS = frozenset((b"host", b"content-length", b"transfer-encoding"))


class ConnectFailed(OSError):
    """The connection could not be opened: the request never left."""


class HeaderError(ValueError):
    """A header value holds a line break (it would inject headers); names the header."""


class ConnectionLost(OSError):
    """The connection broke (or the answer was unreadable) before the answer was complete."""


class _Connection(asyncio.Protocol):
    """One keep-alive connection carrying one request at a time; its answers are parsed by
    ``httptools`` (llhttp, the parser under uvicorn and Node.js): status line, headers, then a
    ``Content-Length`` body, a chunked body, or a body ending with the connection."""

    __slots__ = (
        "transport",
        "closed",
        "reusable",
        "idle_since",
        "answered",
        "_parser",
        "_waiter",
        "_status",
        "_headers",
        "_head_size",
        "_body",
        "_delimited",
    )

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.reusable = True
        self.idle_since = 0.0  # 0.0 until it carried an answer and was kept
        self.answered = False  # a byte of the current request's answer arrived
        self._parser: httptools.HttpResponseParser | None = None
        self._waiter: asyncio.Future[tuple[int, dict[str, str], bytes]] | None = None
        self._status = 0
        self._headers: dict[str, str] = {}
        self._head_size = 0
        self._body: list[bytes] = []
        self._delimited = True  # False: the body ends with the connection

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # noqa: D102
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:  # noqa: D102
        self.closed = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            if self._status and not self._delimited:
                # A body delimited by the end of the connection is complete now.
                waiter.set_result((self._status, self._headers, b"".join(self._body)))
            else:
                reason = type(exc).__name__ if exc else "server closed the connection"
                waiter.set_exception(ConnectionLost(reason))

    def eof_received(self) -> bool:  # noqa: D102
        return False  # close our side too: connection_lost follows

    def start(self, data: bytes, waiter: asyncio.Future) -> None:
        """Send one whole request; ``waiter`` gets ``(status, headers, body)``."""
        self._waiter = waiter
        self._begin()
        self.transport.write(data)  # type: ignore[union-attr]

    def _begin(self) -> None:
        self.answered = False
        self._parser = httptools.HttpResponseParser(self)
        self._status = 0
        self._headers = {}
        self._head_size = 0
        self._body = []
        self._delimited = True

    def data_received(self, data: bytes) -> None:  # noqa: D102
        waiter = self._waiter
        if waiter is None or waiter.done():
            # Bytes nobody asked for: the connection's state is unknown, drop it.
            self.reusable = False
            self.transport.close()  # type: ignore[union-attr]
            return
        self.answered = True
        try:
            self._parser.feed_data(data)  # type: ignore[union-attr]
        except (httptools.HttpParserError, ValueError) as exc:
            self.reusable = False
            self.transport.close()  # type: ignore[union-attr]
            if not waiter.done():
                what = f"{exc}" if self._status else f"not an HTTP/1 answer: {exc}"
                waiter.set_exception(ConnectionLost(f"unreadable answer: {what}"))

    # -- httptools callbacks ------------------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:  # noqa: D102
        self._head_size += len(name) + len(value)
        if self._head_size > _MAX_HEAD:
            raise ValueError("response head too long")
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1").strip()
        headers = self._headers
        headers[key] = f"{headers[key]}, {text}" if key in headers else text

    def on_headers_complete(self) -> None:  # noqa: D102
        parser = self._parser
        self._status = status = parser.get_status_code()  # type: ignore[union-attr]
        if not parser.should_keep_alive():  # type: ignore[union-attr]
            self.reusable = False
        headers = self._headers
        if (
            "content-length" not in headers
            and "chunked" not in headers.get("transfer-encoding", "").lower()
            and status not in (204, 304)
            and not 100 <= status < 200
        ):
            self._delimited = False
            self.reusable = False

    def on_body(self, body: bytes) -> None:  # noqa: D102
        self._body.append(body)

    def on_message_complete(self) -> None:  # noqa: D102
        if 100 <= self._status < 200:  # an interim answer (100 Continue...): the real one follows
            self._status = 0
            self._headers = {}
            self._head_size = 0
            self._body = []
            return
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result((self._status, self._headers, b"".join(self._body)))


class Http1Pool:
    """Keep-alive connections to one origin, at most ``max_connections`` at once."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float,
        connect_timeout_s: float,
        max_connections: int,
        keepalive_s: float = 15.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"base URL must be http(s)://host[:port], got {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.ssl = (
            (ssl_context or ssl.create_default_context()) if parts.scheme == "https" else None
        )
        default_port = self.port == (443 if parts.scheme == "https" else 80)
        host_header = self.host if default_port else f"{self.host}:{self.port}"
        self.prefix = parts.path.rstrip("/")
        self._host_line = f" HTTP/1.1\r\nHost: {host_header}\r\n"
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.max_connections = max_connections
        self.keepalive_s = keepalive_s
        self._idle: deque[_Connection] = deque()
        self._busy = 0
        self._slot_waiters: deque[asyncio.Future[None]] = deque()
        self._closed = False

    async def request(
        self,
        method: str,
        target: str,
        headers: Iterable[tuple[bytes, bytes]],
        body: bytes | None,
        *,
        timeout_s: float | None = None,
        connect_timeout_s: float | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        """Send one request (``target`` is path plus query) and return status, lower-case
        headers and the whole body. ``headers`` are encoded (name, value) pairs, as an
        ``httpx.Request`` holds them; ``Host``, ``Content-Length`` and ``Transfer-Encoding``
        among them are ignored (the pool writes its own). ``timeout_s`` (the whole answer)
        and ``connect_timeout_s`` replace the pool's own for this request."""
        parts = [f"{method} {self.prefix}{target}{self._host_line}".encode("latin-1")]
        for name, value in headers:
            if name.lower() in _OWN_HEADERS:
                continue
            if b"\n" in value or b"\r" in value:
                raise HeaderError(name.decode("latin-1"))
            parts += (name, b": ", value, b"\r\n")
        if body:
            parts += (b"Content-Length: %d\r\n\r\n" % len(body), body)
        else:
            parts.append(b"\r\n" if method == "GET" else b"Content-Length: 0\r\n\r\n")
        data = b"".join(parts)
        if timeout_s is None:
            timeout_s = self.timeout_s
        if connect_timeout_s is None:
            connect_timeout_s = self.connect_timeout_s
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        # A kept connection the server closed just as this request went out (an idle timeout
        # racing the request) answers nothing at all: a read is sent again, once, on a new
        # connection. Anything else is never sent twice: the exchange may have taken it.
        again = method == "GET"
        retried = False
        while True:
            connection = await self._acquire(loop, deadline, connect_timeout_s, kept=not retried)
            kept = connection.idle_since > 0.0
            waiter = loop.create_future()
            timer = loop.call_at(deadline, _expire, waiter)
            ok = False
            try:
                connection.start(data, waiter)
                result = await waiter
                ok = True
                return result
            except ConnectionLost:
                if retried or not (again and kept and not connection.answered):
                    raise
                retried = True
            finally:
                timer.cancel()
                self._release(connection, ok)

    async def _acquire(
        self,
        loop: asyncio.AbstractEventLoop,
        deadline: float,
        connect_timeout_s: float,
        *,
        kept: bool = True,
    ) -> _Connection:
        """A connection for one request: a kept idle one (unless ``kept`` is False), else a
        new one."""
        # A closed pool opens again on use, as the aiohttp sender's session did.
        self._closed = False
        while self._busy >= self.max_connections:
            slot = loop.create_future()
            self._slot_waiters.append(slot)
            try:
                # asyncio.timeout, not wait_for: Python 3.11's wait_for loses a cancellation
                # that arrives as the awaited future completes.
                async with asyncio.timeout(max(deadline - loop.time(), 0.0)):
                    await slot
            except TimeoutError:
                raise ConnectFailed("no free connection in time") from None
            except asyncio.CancelledError:
                if slot.done() and not slot.cancelled():
                    self._wake_one()  # the wake-up was ours: pass it on
                raise
            finally:
                if slot in self._slot_waiters:
                    self._slot_waiters.remove(slot)
        self._busy += 1
        idle = self._idle
        now = time.monotonic()
        while idle and kept:
            connection = idle.pop()
            if not connection.closed and now - connection.idle_since < self.keepalive_s:
                return connection
            connection.transport.close()  # type: ignore[union-attr]
        try:
            async with asyncio.timeout(min(connect_timeout_s, max(deadline - loop.time(), 0.0))):
                _, connection = await loop.create_connection(
                    _Connection,
                    self.host,
                    self.port,
                    ssl=self.ssl,
                    server_hostname=self.host if self.ssl else None,
                )
        except BaseException as exc:
            self._free_slot()
            if isinstance(exc, OSError | TimeoutError):
                raise ConnectFailed(f"{type(exc).__name__}: {exc}") from exc
            raise
        return connection

    def _release(self, connection: _Connection, ok: bool) -> None:
        connection._waiter = None
        if ok and connection.reusable and not connection.closed and not self._closed:
            now = connection.idle_since = time.monotonic()
            idle = self._idle
            # The oldest idle connections (left end) may have expired or been closed.
            while idle and (idle[0].closed or now - idle[0].idle_since >= self.keepalive_s):
                idle.popleft().transport.close()  # type: ignore[union-attr]
            idle.append(connection)
        else:
            # Unknown state (timeout, cancelled, broken): never reuse it.
            connection.reusable = False
            if connection.transport is not None:
                connection.transport.abort()
        self._free_slot()

    def _free_slot(self) -> None:
        self._busy -= 1
        self._wake_one()

    def _wake_one(self) -> None:
        while self._slot_waiters:
            slot = self._slot_waiters.popleft()
            if not slot.done():
                slot.set_result(None)
                break

    async def aclose(self) -> None:
        """Close every idle connection (requests in flight finish, then their connections
        close); a later request opens new connections."""
        self._closed = True
        while self._idle:
            self._idle.pop().transport.close()  # type: ignore[union-attr]
        await asyncio.sleep(0)


def _expire(waiter: asyncio.Future[Any]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


__all__ = ["ConnectFailed", "ConnectionLost", "HeaderError", "Http1Pool"]
