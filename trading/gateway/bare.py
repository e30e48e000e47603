"""``/bpx/`` HTTP as a plain ASGI route in front of Django.

Scripts carry no session, no CSRF token and no login: every request is authenticated by its
signature. Django's request cycle did nothing for them and cost most of the desk's time on a
proxied order (bench_gateway): the browsers' middleware, and per request a new thread
(``ThreadSensitiveContext``) with a new database connection for the sync steps, and thread
hops for the start and end signals. Here a request is read from the ASGI scope into a
`ScriptRequest`, served by `endpoint.script_request_serve` (the same code as Django's view),
and answered. Its sync steps run on asgiref's one shared sync thread, whose database
connection stays open (`admit.connection_sound` closes a broken one). An order's outcome
(reservations settled, tickets finished, audit) is recorded after its answer is sent, within
the same request (`endpoint.Answer.after`: with the next order's step, or alone 5 ms later,
`trading.gateway.outcomes`). An unexpected error is logged and answered 500 in the exchange's
error shape.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from django.core.exceptions import SuspiciousOperation
from django.http import QueryDict
from django.utils.datastructures import CaseInsensitiveMapping

from trading.gateway.endpoint import Answer, ScriptRequest, script_request_serve
from trading.gateway.errors import JSON_TYPE
from trading.gateway.verify import MAX_BODY_BYTES

PREFIX = "/bpx/"

logger = logging.getLogger("django.request")


def _answer(status: int, code: str, message: str) -> Answer:
    body = json.dumps({"code": code, "message": message}).encode()
    return Answer(status, JSON_TYPE, body)


async def _body(receive: Any) -> bytes | None:
    """The whole body; None when the client left, or sent more than `MAX_BODY_BYTES`."""
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return b"\0" * (MAX_BODY_BYTES + 1)  # refused by `request_params` as too large
        parts.append(chunk)
        if not message.get("more_body", False):
            return b"".join(parts)


def _headers(scope: dict[str, Any]) -> CaseInsensitiveMapping:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers") or []:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    return CaseInsensitiveMapping(headers)


async def script_http_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Serve one ``/bpx/...`` HTTP request (see the module docstring)."""
    body = await _body(receive)
    if body is None:
        return
    try:
        query_string = scope.get("query_string", b"").decode()
        query = [(k, v) for k, values in QueryDict(query_string).lists() for v in values]
        client = scope.get("client") or [None]
        request = ScriptRequest(
            method=scope.get("method", "GET").upper(),
            path=scope["path"][len(PREFIX) - 1 :],
            query=query,
            body=body,
            headers=_headers(scope),
            ip=client[0] or None,
        )
        answer = await script_request_serve(request)
    except (UnicodeDecodeError, SuspiciousOperation):
        answer = _answer(400, "INVALID_CLIENT_REQUEST", "Invalid query string")
    except Exception:
        logger.exception("Internal Server Error: %s", scope.get("path"))
        answer = _answer(500, "SERVER_ERROR", "The desk failed to serve this request.")
    headers = [(b"content-type", answer.content_type.encode("latin-1"))]
    headers.append((b"content-length", str(len(answer.body)).encode()))
    if answer.retry_after is not None:
        headers.append((b"retry-after", answer.retry_after.encode()))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})
    if answer.after is not None:
        # The order's outcome is recorded after its answer left, within this request (not
        # cancelled by the server's clean-up of a finished request: shielded).
        try:
            await asyncio.shield(answer.after())
        except Exception:
            logger.exception("Recording the outcome of %s failed", scope.get("path"))


class ScriptHttpRouter:
    """Send ``/bpx/...`` HTTP to `script_http_app`, everything else to `browsers`."""

    def __init__(self, browsers: Any) -> None:
        self.browsers = browsers

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "http" and scope.get("path", "").startswith(PREFIX):
            return await script_http_app(scope, receive, send)
        return await self.browsers(scope, receive, send)
