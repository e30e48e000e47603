"""HTTP senders behind the session: one keep-alive pool per session, explicit timeouts.

Implementations with the same small interface (``send`` -> status, headers, body):

- ``Http1Sender`` (default, ``transport="http1"``): the lean HTTP/1.1 pool of ``http1.py``.
- ``AiohttpSender`` (``"aiohttp"``): aiohttp directly.
- ``HttpxSender``: one ``httpx.AsyncClient``; requests are signed by ``BackpackAuth``
  (an ``httpx.Auth``), over ``Http1Transport`` (``"httpx-http1"``: the lean pool as an
  ``httpx.AsyncBaseTransport``), ``httpx_aiohttp`` (``"httpx-aiohttp"``) or httpx's own
  transport (``"httpx"``).

``tests/bench/bench_client.py`` (2 CPUs, load 1-3, one run) measured client CPU per signed
order, sequential / 32 in flight: ~100 / ~70 us on ``http1``; ~150 / ~105 us for a bare
aiohttp request with the same signature (the floor); ~180 / ~125 us on ``aiohttp``;
~250 / ~215 us on ``httpx-http1``; ~370 / ~300 us on ``httpx-aiohttp``; ccxt ~300 / ~230 us.
httpx's request/response models alone cost more than the whole target margin (<= 1.3x the
floor), so the default signs through ``Credentials.headers`` on the lean pool.

Every sender signs at send time through ``Credentials.headers`` and raises only
``ExchangeUnavailableError`` for transport failures.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import aiohttp
import httpx

from .errors import AuthenticationError, ExchangeUnavailableError
from .http1 import ConnectFailed, HeaderError, Http1Pool
from .signing import BackpackAuth, Credentials

KEEPALIVE_S = 15.0  # aiohttp's default idle keep-alive

Signed = tuple[Credentials, str, Any, Callable[[], int], int] | None
"""(credentials, instruction, params, clock, window) or None for a public request."""


def query_string(query: Mapping[str, Any]) -> str:
    """``k=v&...`` in sorted key order (the order the signature uses)."""
    parts = []
    for key in sorted(query):
        value = query[key]
        text = "true" if value is True else "false" if value is False else str(value)
        parts.append(f"{quote(key, safe='')}={quote(text, safe='')}")
    return "&".join(parts)


class AiohttpSender:
    """aiohttp ``ClientSession`` shared by every client of the session."""

    def __init__(
        self, base_url: str, *, timeout_s: float, connect_timeout_s: float, max_connections: int
    ) -> None:
        self.base_url = base_url
        self.timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=connect_timeout_s)
        self.max_connections = max_connections
        self._http: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            # A connection the server closed while idle is dropped when its FIN arrives; a
            # request racing that close fails as "connection lost" (reconciled for orders).
            connector = aiohttp.TCPConnector(
                limit=self.max_connections, keepalive_timeout=KEEPALIVE_S
            )
            self._http = aiohttp.ClientSession(connector=connector, timeout=self.timeout)
        return self._http

    async def send(
        self,
        method: str,
        path: str,
        query: Mapping[str, Any] | None,
        body: bytes | None,
        headers: dict[str, str],
        signed: Signed,
        label: str,
    ) -> tuple[int, Mapping[str, str], bytes]:
        """Send one request and read the whole answer."""
        url = self.base_url + path
        if query:
            url = f"{url}?{query_string(query)}"
        if signed is not None:
            credentials, instruction, params, clock, window = signed
            headers = {**headers, **credentials.headers(instruction, params, clock(), window)}
        try:
            async with self._client().request(
                method, url, data=body, headers=headers, allow_redirects=False
            ) as response:
                content = await response.read()
                return response.status, response.headers, content
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise ExchangeUnavailableError(
                f"Cannot connect to the exchange for {label} ({type(exc).__name__}).",
                route=label,
                maybe_sent=False,
            ) from exc
        except TimeoutError as exc:
            raise ExchangeUnavailableError(
                f"No answer from the exchange on {label} in time.", route=label
            ) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise ExchangeUnavailableError(
                f"Lost the connection to the exchange on {label} ({type(exc).__name__}).",
                route=label,
            ) from exc

    async def aclose(self) -> None:
        """Close the pool."""
        if self._http is not None:
            await self._http.close()
            await asyncio.sleep(0)


class Http1Sender:
    """The lean HTTP/1.1 pool of ``http1.py`` (default): same signing, same errors."""

    def __init__(
        self, base_url: str, *, timeout_s: float, connect_timeout_s: float, max_connections: int
    ) -> None:
        self.base_url = base_url
        self.pool = Http1Pool(
            base_url,
            timeout_s=timeout_s,
            connect_timeout_s=connect_timeout_s,
            max_connections=max_connections,
            keepalive_s=KEEPALIVE_S,
        )

    async def send(
        self,
        method: str,
        path: str,
        query: Mapping[str, Any] | None,
        body: bytes | None,
        headers: dict[str, str],
        signed: Signed,
        label: str,
    ) -> tuple[int, Mapping[str, str], bytes]:
        """Send one request and read the whole answer."""
        target = f"{path}?{query_string(query)}" if query else path
        if signed is not None:
            credentials, instruction, params, clock, window = signed
            headers = {**headers, **credentials.headers(instruction, params, clock(), window)}
        try:
            return await self.pool.request(method, target, headers, body)
        except HeaderError as exc:
            raise AuthenticationError(
                f"The request header {exc} contains a line break.",
                route=label,
                action="Paste the API key again, without line breaks.",
            ) from None
        except ConnectFailed as exc:
            # The cause's kind (ConnectionRefusedError, or an SSL error with its reason such as
            # CERTIFICATE_VERIFY_FAILED), not its text with addresses in it.
            cause = exc.__cause__
            reason = str(exc) if cause is None else type(cause).__name__
            if getattr(cause, "reason", None):
                reason = f"{reason}: {cause.reason}"
            raise ExchangeUnavailableError(
                f"Cannot connect to the exchange for {label} ({reason}).",
                route=label,
                maybe_sent=False,
            ) from exc
        except TimeoutError as exc:
            raise ExchangeUnavailableError(
                f"No answer from the exchange on {label} in time.", route=label
            ) from exc
        except OSError as exc:
            raise ExchangeUnavailableError(
                f"Lost the connection to the exchange on {label} ({exc}).", route=label
            ) from exc

    async def aclose(self) -> None:
        """Close the pool."""
        await self.pool.aclose()


class HttpxSender:
    """One ``httpx.AsyncClient`` (keep-alive pool); signing attached as ``BackpackAuth``."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float,
        connect_timeout_s: float,
        max_connections: int,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        limits = httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=KEEPALIVE_S,
        )
        self.http = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
            limits=limits,
            transport=transport,
        )

    async def send(
        self,
        method: str,
        path: str,
        query: Mapping[str, Any] | None,
        body: bytes | None,
        headers: dict[str, str],
        signed: Signed,
        label: str,
    ) -> tuple[int, Mapping[str, str], bytes]:
        """Send one request and read the whole answer."""
        auth = None
        if signed is not None:
            credentials, instruction, params, clock, window = signed
            auth = BackpackAuth(credentials, instruction, params, clock=clock, window_ms=window)
        url = f"{path}?{query_string(query)}" if query else path
        try:
            response = await self.http.request(
                method, url, content=body, headers=headers, auth=auth or httpx.USE_CLIENT_DEFAULT
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise ExchangeUnavailableError(
                f"Cannot connect to the exchange for {label} ({type(exc).__name__}).",
                route=label,
                maybe_sent=False,
            ) from exc
        except httpx.TimeoutException as exc:
            raise ExchangeUnavailableError(
                f"No answer from the exchange on {label} in time.", route=label
            ) from exc
        except (httpx.TransportError, aiohttp.ClientError, OSError) as exc:
            raise ExchangeUnavailableError(
                f"Lost the connection to the exchange on {label} ({type(exc).__name__}).",
                route=label,
            ) from exc
        return response.status_code, response.headers, response.content

    async def aclose(self) -> None:
        """Close the pool."""
        await self.http.aclose()


class Http1Transport(httpx.AsyncBaseTransport):
    """An ``httpx`` transport over the lean ``Http1Pool``: httpx's API without its default
    transport (httpcore) underneath. Transport failures raise httpx's own exceptions."""

    def __init__(self, pool: Http1Pool) -> None:
        self.pool = pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` on the pool (which writes ``Host`` and ``Content-Length``)."""
        headers = {
            name: value
            for name, value in request.headers.items()
            if name not in ("host", "content-length", "transfer-encoding")
        }
        body = await request.aread()
        try:
            status, answer_headers, content = await self.pool.request(
                request.method, request.url.raw_path.decode("ascii"), headers, body or None
            )
        except HeaderError as exc:
            raise httpx.LocalProtocolError(f"header {exc} contains a line break") from None
        except ConnectFailed as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        except TimeoutError as exc:
            raise httpx.ReadTimeout("no answer in time", request=request) from exc
        except OSError as exc:
            raise httpx.ReadError(str(exc), request=request) from exc
        return httpx.Response(status, headers=answer_headers, content=content, request=request)

    async def aclose(self) -> None:
        """Close the pool."""
        await self.pool.aclose()


def make_sender(
    kind: str, base_url: str, *, timeout_s: float, connect_timeout_s: float, max_connections: int
) -> Http1Sender | AiohttpSender | HttpxSender:
    """``"http1"`` (default), ``"aiohttp"``, ``"httpx-http1"`` (httpx over the lean pool),
    ``"httpx-aiohttp"`` or ``"httpx"``."""
    options = {
        "timeout_s": timeout_s,
        "connect_timeout_s": connect_timeout_s,
        "max_connections": max_connections,
    }
    if kind == "http1":
        return Http1Sender(base_url, **options)
    if kind == "aiohttp":
        return AiohttpSender(base_url, **options)
    if kind == "httpx-aiohttp":
        from httpx_aiohttp import AiohttpTransport

        limits = httpx.Limits(max_connections=max_connections)
        return HttpxSender(base_url, transport=AiohttpTransport(limits=limits), **options)
    if kind == "httpx":
        return HttpxSender(base_url, **options)
    if kind == "httpx-http1":
        pool = Http1Pool(base_url, keepalive_s=KEEPALIVE_S, **options)
        return HttpxSender(base_url, transport=Http1Transport(pool), **options)
    raise ValueError(
        "transport must be 'http1', 'aiohttp', 'httpx-http1', 'httpx-aiohttp' or 'httpx', "
        f"got {kind!r}"
    )


__all__ = [
    "AiohttpSender",
    "Http1Sender",
    "Http1Transport",
    "HttpxSender",
    "make_sender",
    "query_string",
]
