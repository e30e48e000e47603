"""A lean HTTP/1.1 keep-alive pool on asyncio: the wire under the session's httpx client
(``transport.PoolTransport``).

The exchange speaks plain JSON over HTTP/1.1. One request costs aiohttp ~100 us of Python
(request/response models, a task per body write, stream readers); this pool writes the
request in one ``transport.write`` and parses the answer in ``data_received``: status line,
headers, then a ``Content-Length`` body, a chunked body, or a body ending with the
connection. TLS through ``ssl`` (``https://``), one timer per request for the total
timeout, a connect timeout, idle connections dropped after ``keepalive_s`` or as soon as
the server closes them. No proxies, no redirects, no compression (none are asked for).

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

_MAX_HEAD = 64 * 1024
_OWN_HEADERS = frozenset((b"host", b"content-length", b"transfer-encoding"))


class ConnectFailed(OSError):
    """The connection could not be opened: the request never left."""


class HeaderError(ValueError):
    """A header value holds a line break (it would inject headers); names the header."""


class ConnectionLost(OSError):
    """The connection broke (or the answer was unreadable) before the answer was complete."""


class _Connection(asyncio.Protocol):
    """One keep-alive connection carrying one request at a time."""

    __slots__ = (
        "transport",
        "closed",
        "reusable",
        "idle_since",
        "_buffer",
        "_waiter",
        "_status",
        "_headers",
        "_length",
        "_chunked",
        "_body",
    )

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.reusable = True
        self.idle_since = 0.0
        self._buffer = b""
        self._waiter: asyncio.Future[tuple[int, dict[str, str], bytes]] | None = None
        self._status = 0
        self._headers: dict[str, str] | None = None
        self._length = -1
        self._chunked = False
        self._body = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # noqa: D102
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:  # noqa: D102
        self.closed = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            if self._headers is not None and self._length < 0 and not self._chunked:
                # A body delimited by the end of the connection is complete now.
                waiter.set_result((self._status, self._headers, bytes(self._buffer)))
            else:
                reason = type(exc).__name__ if exc else "server closed the connection"
                waiter.set_exception(ConnectionLost(reason))

    def eof_received(self) -> bool:  # noqa: D102
        return False  # close our side too: connection_lost follows

    def start(self, data: bytes, waiter: asyncio.Future) -> None:
        """Send one whole request; ``waiter`` gets ``(status, headers, body)``."""
        self._waiter = waiter
        self._buffer = b""
        self._headers = None
        self.transport.write(data)  # type: ignore[union-attr]

    def data_received(self, data: bytes) -> None:  # noqa: D102
        waiter = self._waiter
        if waiter is None or waiter.done():
            # Bytes nobody asked for: the connection's state is unknown, drop it.
            self.reusable = False
            self.transport.close()  # type: ignore[union-attr]
            return
        buffer = self._buffer + data if self._buffer else data
        try:
            if self._headers is None:
                end = buffer.find(b"\r\n\r\n")
                if end < 0:
                    if len(buffer) > _MAX_HEAD:
                        raise ValueError("response head too long")
                    self._buffer = buffer
                    return
                self._read_head(buffer[:end])
                buffer = buffer[end + 4 :]
                if 100 <= self._status < 200:
                    # An interim answer (100 Continue...): the real one follows.
                    self._headers = None
                    self._buffer = b""
                    if buffer:
                        self.data_received(buffer)
                    return
            if self._chunked:
                result = self._read_chunks(buffer)
            elif self._length >= 0:
                if len(buffer) < self._length:
                    self._buffer = buffer
                    return
                if len(buffer) > self._length:
                    raise ValueError("more bytes than Content-Length")
                result = buffer
            else:
                self._buffer = buffer  # read until the server closes
                return
        except (ValueError, UnicodeDecodeError) as exc:
            self.reusable = False
            self.transport.close()  # type: ignore[union-attr]
            waiter.set_exception(ConnectionLost(f"unreadable answer: {exc}"))
            return
        if result is not None:
            self._buffer = b""
            waiter.set_result((self._status, self._headers, result))  # type: ignore[arg-type]

    def _read_head(self, head: bytes) -> None:
        lines = head.decode("latin-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        if not version.startswith("HTTP/1."):
            raise ValueError(f"not an HTTP/1 answer: {lines[0][:40]!r}")
        self._status = status = int(rest[:3])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise ValueError(f"bad header line {line[:40]!r}")
            name = name.strip().lower()
            value = value.strip()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        self._headers = headers
        connection = headers.get("connection", "").lower()
        if connection == "close" or (version == "HTTP/1.0" and connection != "keep-alive"):
            self.reusable = False
        self._chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        length = headers.get("content-length")
        if self._chunked:
            self._length = -1
            self._body = bytearray()
        elif length is not None:
            self._length = int(length)
            if self._length < 0:
                raise ValueError("negative Content-Length")
        elif status in (204, 304) or 100 <= status < 200:
            self._length = 0
        else:
            self._length = -1
            self.reusable = False

    def _read_chunks(self, buffer: bytes) -> bytes | None:
        body = self._body
        position = 0
        while True:
            line_end = buffer.find(b"\r\n", position)
            if line_end < 0:
                break
            size = int(buffer[position:line_end].split(b";", 1)[0], 16)
            if size < 0:
                raise ValueError("negative chunk size")
            if size == 0:
                # The last chunk, then optional trailer lines and an empty line.
                if (
                    buffer.startswith(b"\r\n", line_end + 2)
                    or buffer.find(b"\r\n\r\n", line_end) >= 0
                ):
                    return bytes(body)
                break
            start = line_end + 2
            if len(buffer) < start + size + 2:
                break
            body += buffer[start : start + size]
            position = start + size + 2
        self._buffer = buffer[position:]
        return None


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
        connection = await self._acquire(loop, deadline, connect_timeout_s)
        waiter = loop.create_future()
        timer = loop.call_at(deadline, _expire, waiter)
        ok = False
        try:
            connection.start(data, waiter)
            result = await waiter
            ok = True
            return result
        finally:
            timer.cancel()
            self._release(connection, ok)

    async def _acquire(
        self, loop: asyncio.AbstractEventLoop, deadline: float, connect_timeout_s: float
    ) -> _Connection:
        # A closed pool opens again on use, as the aiohttp sender's session did.
        self._closed = False
        while self._busy >= self.max_connections:
            slot = loop.create_future()
            self._slot_waiters.append(slot)
            try:
                await asyncio.wait_for(slot, max(deadline - loop.time(), 0.0))
            except TimeoutError:
                raise ConnectFailed("no free connection in time") from None
            finally:
                if slot in self._slot_waiters:
                    self._slot_waiters.remove(slot)
        self._busy += 1
        idle = self._idle
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if not connection.closed and now - connection.idle_since < self.keepalive_s:
                return connection
            connection.transport.close()  # type: ignore[union-attr]
        try:
            _, connection = await asyncio.wait_for(
                loop.create_connection(
                    _Connection,
                    self.host,
                    self.port,
                    ssl=self.ssl,
                    server_hostname=self.host if self.ssl else None,
                ),
                min(connect_timeout_s, max(deadline - loop.time(), 0.0)),
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
