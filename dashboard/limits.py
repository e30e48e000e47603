"""Requests that are too large get a status that says so, never a dropped connection.

- An address (path and query string) longer than `MAX_URL_BYTES` answers 414.
- A body larger than Django's `DATA_UPLOAD_MAX_MEMORY_SIZE` answers 413.

Scripts' requests (``/bpx/...``, the exchange's protocol) get the words in the exchange's
error shape, ``{"code": "INVALID_CLIENT_REQUEST", "message": ...}``, which their clients read;
browsers get a page.

Two places enforce this, with the same limits and words:

- `RequestLimits`, an ASGI middleware in front of Django, under any ASGI server;
- `twisted_limits_install()`, for daphne: Twisted, below daphne, drops a request line longer
  than 16 KiB without answering at all, and reads a whole body (to a temporary file) before
  daphne sees the request. The hook answers from the request line and the headers, before
  the body is read, then reads and discards what the client still sends (closing a socket
  with unread data resets it, and the client would never see the answer).

  It also stops Twisted parsing form bodies into `request.args`, which daphne never reads
  (Django parses the body it is handed): the parse held a whole multipart body in memory a
  second time, answered one it could not parse with a bare 400 and a dropped connection
  before Django saw it, and put every POST's Content-Type through the email package on the
  reactor thread (38 µs a request here, measured with timeit).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

MAX_URL_BYTES = 8192
SCRIPT_PREFIX = b"/bpx/"  # the exchange's protocol for scripts (trading.gateway)
DISCARD_SECONDS = 10  # how long a refused client may go on sending before it is cut off

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

URL_TOO_LONG = (
    414,
    "URI Too Long",
    f"The address is too long (over {MAX_URL_BYTES} characters). "
    "Shorten the link or the search and try again.",
)


def body_limit() -> int:
    from django.conf import settings

    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def body_too_large() -> tuple[int, str, str]:
    megabytes = body_limit() / (1024 * 1024)
    return (
        413,
        "Content Too Large",
        f"The request is too large (over {megabytes:g} MB). Send less at once.",
    )


def refusal_page(title: str, words: str) -> bytes:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{title} · Backpack team desk</title></head>"
        f"<body><h1>{title}</h1><p>{words}</p></body></html>"
    ).encode()


def refusal(target: bytes, title: str, words: str) -> tuple[bytes, bytes]:
    """(content type, body) of a refusal of a request for `target` (its path and query): the
    exchange's error shape for a script's, a page for a browser's."""
    if target.startswith(SCRIPT_PREFIX):
        body = json.dumps({"code": "INVALID_CLIENT_REQUEST", "message": words}).encode()
        return b"application/json; charset=utf-8", body
    return b"text/html; charset=utf-8", refusal_page(title, words)


class RequestLimits:
    """ASGI middleware: 414 for a long address, 413 for a large body (declared by
    Content-Length, or counted while a chunked body arrives), before Django reads it."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        query = scope.get("query_string") or b""
        target = len(scope.get("raw_path") or scope["path"].encode()) + (
            len(query) + 1 if query else 0
        )
        path = scope.get("raw_path") or scope["path"].encode()
        if target > MAX_URL_BYTES:
            return await _refuse(send, path, *URL_TOO_LONG)
        headers = dict(scope.get("headers") or [])
        limit = body_limit()
        declared = headers.get(b"content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > limit:
                return await _refuse(send, path, *body_too_large())
            return await self.app(scope, receive, send)
        if b"transfer-encoding" not in headers:
            return await self.app(scope, receive, send)
        # A chunked body says its size only at the end: read it here, up to the limit.
        messages, size = [], 0
        while True:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if size > limit:
                return await _refuse(send, path, *body_too_large())
            if message["type"] != "http.request" or not message.get("more_body"):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        return await self.app(scope, replay, send)


async def _refuse(send: Send, target: bytes, status: int, title: str, words: str) -> None:
    logger.info("Refused %d %s", status, title)
    content_type, body = refusal(target, title, words)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


# --- daphne (Twisted) ---------------------------------------------------------------------


def _channel_refuse(channel: Any, target: bytes, status: int, title: str, words: str) -> None:
    """Answer on a Twisted HTTP channel before any request object exists, then read and drop
    whatever the client still sends until it hangs up (or DISCARD_SECONDS pass)."""
    content_type, body = refusal(target, title, words)
    peer = channel.transport.getPeer()
    logger.info("Refused %d %s: %s", status, title, getattr(peer, "host", peer))
    # Whatever follows, in this read or later ones, is dropped unparsed.
    channel.clearLineBuffer()
    for name in ("dataReceived", "lineReceived", "lineLengthExceeded", "rawDataReceived"):
        setattr(channel, name, lambda _data: None)
    channel.transport.write(
        b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n%s"
        % (status, title.encode(), content_type, len(body), body)
    )
    channel.setTimeout(DISCARD_SECONDS)
    half_close = getattr(channel.transport, "loseWriteConnection", None)
    if half_close is not None:
        half_close()
    else:
        channel.transport.loseConnection()


def _request_target(line: bytes) -> bytes:
    return line.partition(b" ")[2].rpartition(b" ")[0]


def twisted_limits_install() -> None:
    """Make Twisted's HTTP channel (daphne's) answer 414 / 413 / 431 instead of dropping a
    long request line or reading a body it will refuse. Idempotent."""
    from twisted.web import http

    channel = http.HTTPChannel
    if getattr(channel, "_desk_limits", False):
        return
    line_received = channel.lineReceived
    all_headers_received = channel.allHeadersReceived

    def on_request_line(self: Any) -> bool:
        return bool(getattr(self, "_HTTPChannel__first_line", 0))

    def lineReceived(self: Any, line: bytes) -> None:  # noqa: N802 - Twisted's name
        if on_request_line(self) and len(_request_target(line)) > MAX_URL_BYTES:
            return _channel_refuse(self, _request_target(line), *URL_TOO_LONG)
        return line_received(self, line)

    def lineLengthExceeded(self: Any, line: bytes) -> None:  # noqa: N802 - Twisted's name
        if on_request_line(self):  # the line's start: the method, then the target
            return _channel_refuse(self, line.partition(b" ")[2], *URL_TOO_LONG)
        return _channel_refuse(
            self,
            getattr(self, "_path", b""),
            431,
            "Request Header Fields Too Large",
            "A request header is too long.",
        )

    def allHeadersReceived(self: Any) -> None:  # noqa: N802 - Twisted's name
        if self.length is not None and self.length > body_limit():
            # The channel has a request object waiting; it is never processed.
            return _channel_refuse(self, getattr(self, "_path", b""), *body_too_large())
        return all_headers_received(self)

    channel.lineReceived = lineReceived
    channel.lineLengthExceeded = lineLengthExceeded
    channel.allHeadersReceived = allHeadersReceived
    channel._desk_limits = True
    _form_parsing_off()


def _form_parsing_off() -> None:
    """daphne's requests are made without Twisted's form parsing (module docstring)."""
    from daphne.http_protocol import WebRequest

    made = WebRequest.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:  # noqa: N807 - wraps it
        kwargs["parsePOSTFormSubmission"] = False
        made(self, *args, **kwargs)

    WebRequest.__init__ = __init__
