"""One wrapper for every exchange route: faults, rate limit, parameters, signature, JSON.

A handler gets a :class:`Call` (the sandbox, the authenticated subaccount, the parameters)
and returns JSON-ready data or a Starlette ``Response``; refusals are raised as
:class:`~sandbox.server.errors.ApiError` or the engine's ``EngineError`` and leave here in
the spec's ApiErrorResponse shape.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.engine import EngineError
from sandbox.server.errors import JSON_MEDIA_TYPE, ApiError, error_response
from sandbox.server.params import Params
from sandbox.server.state import Sandbox

logger = logging.getLogger("sandbox.server")

MAX_BODY_BYTES = 256 * 1024
_DECIMAL_JSON = json.JSONDecoder(parse_float=Decimal)


@dataclass
class Call:
    """What a handler sees: the sandbox, the subaccount (None on public routes), params."""

    sandbox: Sandbox
    subaccount: int | None
    params: Params
    body: Any
    request: Request


Handler = Callable[[Call], Any | Awaitable[Any]]


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(f"cannot encode {type(value).__name__}")


def json_response(data: Any, status: int = 200) -> Response:
    """A compact JSON answer with the exchange's content type."""
    body = json.dumps(data, separators=(",", ":"), default=_json_default).encode()
    return Response(body, status_code=status, media_type=JSON_MEDIA_TYPE)


async def read_json_body(request: Request, *, decimals: bool = True) -> Any:
    """The request's JSON body (None when empty); 400 on malformed or oversized bodies.

    With ``decimals`` JSON fractions become ``Decimal`` (their text kept exactly, as the
    signature covers it); otherwise floats.
    """
    length = request.headers.get("content-length")
    if length is not None and (
        not (length.isascii() and length.isdigit()) or int(length) > MAX_BODY_BYTES
    ):
        raise ApiError(400, "INVALID_CLIENT_REQUEST", "Request body too large")
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ApiError(400, "INVALID_CLIENT_REQUEST", "Request body too large")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return None
    try:
        text = raw.decode("utf-8")
        return _DECIMAL_JSON.decode(text) if decimals else json.loads(text)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise ApiError(400, "INVALID_CLIENT_REQUEST", "Invalid JSON body") from None


def exchange_route(
    sandbox: Sandbox,
    path: str,
    method: str,
    handler: Handler,
    *,
    instruction: str | None = None,
    historical: bool = False,
    auth_status: int = 401,
    batch: bool = False,
) -> Route:
    """A Starlette route running ``handler`` behind the exchange's checks."""
    category = "historical" if historical else "standard"
    reads_body = method in ("POST", "DELETE", "PATCH", "PUT")

    counted = f"{method} {path}"

    async def endpoint(request: Request) -> Response:
        sandbox.requests[counted] += 1
        faults = sandbox.faults
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.burst_429 and faults.take_429():
            return error_response(429, "TOO_MANY_REQUESTS", "Too many requests")
        if faults.error_rate and faults.take_error():
            return error_response(500, "SERVER_ERROR", "Internal server error")
        headers = request.headers
        limit_key = headers.get("x-api-key") or (request.client.host if request.client else "-")
        if not sandbox.limiter.allow(limit_key, category):
            retry = sandbox.limiter.retry_after_s(limit_key, category)
            response = error_response(429, "TOO_MANY_REQUESTS", "Too many requests")
            response.headers["Retry-After"] = str(retry)
            return response
        try:
            body = await read_json_body(request) if reads_body else None
            signed: Any = body
            if body is None:
                signed = request.query_params.multi_items()  # a repeated key signs repeated
                params = Params.from_pairs(signed)
            elif isinstance(body, dict) and not batch:
                params = Params(body)
            elif batch and isinstance(body, list) and all(isinstance(b, dict) for b in body):
                params = Params({})
            elif batch:
                raise ApiError(400, "INVALID_CLIENT_REQUEST", "Expected a JSON array of orders")
            else:
                raise ApiError(400, "INVALID_CLIENT_REQUEST", "Expected a JSON object body")
            subaccount = None
            if instruction is not None:
                subaccount = sandbox.auth.authenticate(
                    headers, instruction, signed, status=auth_status
                )
            result = handler(Call(sandbox, subaccount, params, body, request))
            if asyncio.iscoroutine(result):
                result = await result
        except ApiError as exc:
            return exc.response()
        except EngineError as exc:
            return error_response(exc.http_status, exc.code, exc.message)
        except Exception:
            logger.exception("unhandled error on %s %s", method, path)
            return error_response(500, "SERVER_ERROR", "Internal server error")
        if isinstance(result, Response):
            return result
        return json_response(result)

    endpoint.__name__ = f"{method.lower()}_{path.strip('/').replace('/', '_')}"
    return Route(path, endpoint, methods=[method])
