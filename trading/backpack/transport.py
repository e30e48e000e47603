"""The REST wire: one ``httpx.AsyncClient`` per session, over a transport chosen by measurement.

Every request goes out through ``httpx.AsyncClient.send`` (httpx's API: ``httpx.Request``,
``httpx.Response``, timeouts, transports, exceptions). Two things keep it cheap:

- The transport under it (``transport=``):
  ``"pool"`` (default): ``PoolTransport``, the lean HTTP/1.1 keep-alive pool of ``http1.py``
  as an ``httpx.AsyncBaseTransport``; ``"aiohttp"``: ``httpx_aiohttp``. A proxy set in the
  environment for the exchange's URL (``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``, minus
  ``NO_PROXY``, as httpx reads them) switches the session to ``httpx_aiohttp`` through that
  proxy, since the lean pool speaks no proxy protocol: a team behind a corporate proxy can use
  the desk.
- The way requests are made: URLs parsed once per path and query and kept, headers handed
  to httpx already encoded and complete, the body as a byte stream, the signature added
  before the ``httpx.Request`` is built, the answer's stream read as it came, and an
  ``ExchangeHttpClient`` that keeps no cookies (skipping httpx's cookie-jar bookkeeping).

``tests/bench/bench_client.py`` measured client CPU per signed order (sign, send, parse)
against a bare aiohttp request carrying the same signature (the floor): over four runs the
default stayed within 0.70-1.22x the floor and 0.35-0.56x ccxt, sequentially and with 32 in
flight. In the last run, sequential / 32 in flight: ``"aiohttp"`` 1.68x / 2.08x the floor,
httpx's own httpcore transport 3.77x / 10.35x (no longer offered), and a plain
``client.post`` with ``BackpackAuth`` over the same pool 1.64x / 1.98x. Figures in
``trading/backpack/README.md``.

Every request is signed at send time through ``Credentials.headers``; transport failures
reach the session only as ``ExchangeUnavailableError`` (``maybe_sent=False`` when the request
never left) or, for a line break in a header, ``AuthenticationError``.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
import httpx

from .errors import AuthenticationError, ExchangeUnavailableError
from .http1 import ConnectFailed, HeaderError, Http1Pool
from .signing import Credentials

KEEPALIVE_S = 15.0  # aiohttp's default idle keep-alive
TRANSPORTS = ("pool", "aiohttp")
_URL_CACHE_SIZE = 1024
_BODY_METHODS = frozenset(("POST", "PUT", "PATCH"))

Signed = tuple[Credentials, str, Any, Any, int] | None
"""(credentials, instruction, params, clock, window) or None for a public request."""


def query_string(query: Mapping[str, Any]) -> str:
    """``k=v&...`` in sorted key order (the order the signature uses)."""
    parts = []
    for key in sorted(query):
        value = query[key]
        text = "true" if value is True else "false" if value is False else str(value)
        parts.append(f"{quote(key, safe='')}={quote(text, safe='')}")
    return "&".join(parts)


class _NoCookies(httpx.Cookies):
    """Cookies that stay empty: an answer's ``Set-Cookie`` is ignored."""

    def extract_cookies(self, response: httpx.Response) -> None:  # noqa: D102
        return None

    def set_cookie_header(self, request: httpx.Request) -> None:  # noqa: D102
        return None


class ExchangeHttpClient(httpx.AsyncClient):
    """``httpx.AsyncClient`` that keeps no cookies. The exchange's API uses none, and one
    client serves every subaccount: a cookie set in one subaccount's answer must never ride
    on another subaccount's request."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._no_cookies = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:  # noqa: D102
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        raise TypeError("the exchange client keeps no cookies")


class PoolTransport(httpx.AsyncBaseTransport):
    """``Http1Pool`` as an httpx transport. Honours the request's httpx timeouts: ``connect``
    for opening a connection, ``read`` as the deadline for the whole answer (stricter than
    httpx's time between two reads); ``pool`` and ``write`` fall within those."""

    def __init__(self, pool: Http1Pool) -> None:
        self.pool = pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` on the pool (which writes ``Host`` and ``Content-Length``)."""
        stream = request.stream
        body = b"".join(stream) if isinstance(stream, httpx.ByteStream) else await request.aread()
        timeout = request.extensions.get("timeout") or {}
        try:
            status, headers, content = await self.pool.request(
                request.method,
                request.url.raw_path.decode("ascii"),
                request.headers.raw,
                body or None,
                timeout_s=timeout.get("read"),
                connect_timeout_s=timeout.get("connect"),
            )
        except HeaderError as exc:
            raise httpx.LocalProtocolError(str(exc)) from None  # the header's name
        except ConnectFailed as exc:
            raise httpx.ConnectError(_connect_reason(exc), request=request) from exc
        except TimeoutError as exc:
            raise httpx.ReadTimeout("no answer in time", request=request) from exc
        except OSError as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from exc
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(content))

    async def aclose(self) -> None:
        """Close the pool's idle connections (it opens new ones on use)."""
        await self.pool.aclose()


def _connect_reason(exc: ConnectFailed) -> str:
    """The cause's kind (ConnectionRefusedError, or an SSL error with its reason such as
    CERTIFICATE_VERIFY_FAILED), not its text with addresses in it."""
    cause = exc.__cause__
    reason = str(exc) if cause is None else type(cause).__name__
    if getattr(cause, "reason", None):
        reason = f"{reason}: {cause.reason}"  # type: ignore[union-attr]
    return reason


class HttpxSender:
    """The session's sender: one ``ExchangeHttpClient`` (keep-alive pool, explicit timeouts)
    shared by every subaccount's client of the session."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float,
        connect_timeout_s: float,
        max_connections: int,
        transport: str = "pool",
    ) -> None:
        if transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {', '.join(TRANSPORTS)}; got {transport!r}")
        self.base_url = base_url.rstrip("/")
        self.transport = transport
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.max_connections = max_connections
        self.http: ExchangeHttpClient | None = None
        self._urls: dict[str, httpx.URL] = {}
        self._host = (b"Host", httpx.URL(self.base_url).netloc)

    def _open(self) -> ExchangeHttpClient:
        """The client, created on first use and again after ``aclose``."""
        limits = httpx.Limits(
            max_connections=self.max_connections,
            max_keepalive_connections=self.max_connections,
            keepalive_expiry=KEEPALIVE_S,
        )
        self.http = ExchangeHttpClient(
            timeout=httpx.Timeout(self.timeout_s, connect=self.connect_timeout_s),
            limits=limits,
            transport=_transport(self.transport, self.base_url, limits),
            trust_env=False,  # no proxy or .netrc from the environment for signed requests
        )
        return self.http

    def _url(self, target: str) -> httpx.URL:
        url = self._urls.get(target)
        if url is None:
            if len(self._urls) >= _URL_CACHE_SIZE:
                self._urls.clear()
            url = self._urls[target] = httpx.URL(self.base_url + target)
        return url

    async def send(
        self,
        method: str,
        path: str,
        query: Mapping[str, Any] | None,
        body: bytes | None,
        headers: Mapping[str, str],
        signed: Signed,
        label: str,
    ) -> tuple[int, Mapping[str, str], bytes]:
        """Send one request and read the whole answer: status, headers, body."""
        url = self._url(f"{path}?{query_string(query)}" if query else path)
        if signed is not None:
            credentials, instruction, params, clock, window = signed
            headers = {**headers, **credentials.headers(instruction, params, clock(), window)}
        raw = [self._host]
        for name, value in headers.items():
            if "\n" in value or "\r" in value:
                raise _line_break(name, label)
            raw.append((name.encode("latin-1"), value.encode("latin-1")))
        has_body = bool(body) or method in _BODY_METHODS
        if has_body:
            raw.append((b"Content-Length", b"%d" % len(body or b"")))
        # Headers complete and the body as a stream: httpx.Request adds nothing and copies
        # nothing. The answer's stream is read as it came (no compression was asked for).
        stream = httpx.ByteStream(body or b"") if has_body else None  # a GET carries no body
        request = httpx.Request(method, url, headers=raw, stream=stream)
        try:
            response = await (self.http or self._open()).send(request, stream=True)
            try:
                content = b"".join([chunk async for chunk in response.stream])
            finally:
                await response.aclose()
        except httpx.LocalProtocolError as exc:
            raise _line_break(str(exc), label) from None
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise ExchangeUnavailableError(
                f"Cannot connect to the exchange for {label} ({_why(exc)}).",
                route=label,
                maybe_sent=False,
            ) from exc
        except httpx.TimeoutException as exc:
            raise ExchangeUnavailableError(
                f"No answer from the exchange on {label} in time.", route=label
            ) from exc
        except (httpx.TransportError, aiohttp.ClientError, OSError) as exc:
            raise ExchangeUnavailableError(
                f"Lost the connection to the exchange on {label} ({_why(exc)}).", route=label
            ) from exc
        return response.status_code, response.headers, content

    async def aclose(self) -> None:
        """Close the connections (a later request opens new ones)."""
        http, self.http = self.http, None
        if http is not None:
            await http.aclose()


def environment_proxy(base_url: str) -> str | None:
    """The proxy the environment sets for ``base_url`` (``HTTPS_PROXY`` / ``HTTP_PROXY`` by
    scheme, else ``ALL_PROXY``; none for a host in ``NO_PROXY``), or None."""
    proxies = urllib.request.getproxies()
    parts = urlsplit(base_url)
    if proxies.get("no") and urllib.request.proxy_bypass_environment(parts.hostname or "", proxies):
        return None
    return proxies.get(parts.scheme) or proxies.get("all") or None


def _transport(kind: str, base_url: str, limits: httpx.Limits) -> httpx.AsyncBaseTransport:
    proxy = environment_proxy(base_url)
    if proxy is not None:
        from httpx_aiohttp import AiohttpTransport

        return AiohttpTransport(limits=limits, trust_env=False, proxy=httpx.Proxy(proxy))
    if kind == "pool":
        # Timeouts come with each request from the client's httpx.Timeout.
        pool = Http1Pool(
            base_url,
            timeout_s=10.0,
            connect_timeout_s=5.0,
            max_connections=limits.max_connections or 64,
            keepalive_s=KEEPALIVE_S,
        )
        return PoolTransport(pool)
    from httpx_aiohttp import AiohttpTransport

    return AiohttpTransport(limits=limits, trust_env=False)


def _why(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


def _line_break(header: str, label: str) -> AuthenticationError:
    return AuthenticationError(
        f"The request header {header} contains a line break.",
        route=label,
        action="Paste the API key again, without line breaks.",
    )


__all__ = [
    "TRANSPORTS",
    "ExchangeHttpClient",
    "HttpxSender",
    "PoolTransport",
    "environment_proxy",
    "query_string",
]
