"""The session: one shared HTTP connection pool, clock, rate limiter, retries and metrics.

Every REST call of every subaccount client goes through ``ExchangeSession.call``, which is
where rate budgets are taken, the clock offset is applied, errors are mapped (once) and
reads are retried.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from . import routes as R
from .client import BackpackClient
from .clock import ExchangeClock
from .errors import (
    AuthenticationError,
    BackpackError,
    ExchangeUnavailableError,
    InvalidOrderError,
    MalformedResponseError,
    RateLimitedError,
    RequestRejectedError,
    error_from_response,
)
from .markets import MarketCache
from .metrics import CallRecord, MetricsCollector
from .ratelimit import PUBLIC_KEY, Budget, LocalRateLimiter, RedisRateLimiter
from .retry import RetryPolicy
from .routes import Route
from .signing import DEFAULT_WINDOW_MS, MAX_WINDOW_MS, Credentials, clean_params
from .streams import StreamClient
from .transport import HttpxSender

_JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}
_CLOCK_DRIFT_MS = 1000
_ENCODE_JSON = json.JSONEncoder(separators=(",", ":")).encode
_new_record = tuple.__new__  # CallRecord is a NamedTuple: skip its Python-level __new__


class ExchangeSession:
    """Shared state for talking to one exchange (REST base URL + WebSocket URL).

    ``session.client(credentials, label=...)`` gives a per-subaccount client; all of them
    share this session's keep-alive pool, clock, rate limiter, market cache and metrics.
    Requests go through one ``httpx.AsyncClient`` per session; ``transport`` names the
    transport under it: ``"pool"`` (default, the lean HTTP/1.1 pool, measured cheapest per
    request; see ``transport.py``) or ``"aiohttp"`` (httpx_aiohttp); a proxy set in the
    environment for ``api_url`` always goes through httpx_aiohttp.
    """

    def __init__(
        self,
        api_url: str,
        ws_url: str | None = None,
        *,
        window_ms: int = DEFAULT_WINDOW_MS,
        timeout_s: float = 10.0,
        connect_timeout_s: float = 5.0,
        max_connections: int = 64,
        retry: RetryPolicy | None = None,
        budgets: Mapping[str, Budget] | None = None,
        redis_url: str | None = None,
        redis_prefix: str = "bpx:rl",
        redis_pool_size: int = 20,
        max_rate_wait_s: float = 30.0,
        clock_refresh_s: float = 300.0,
        market_refresh_s: float = 300.0,
        metrics: MetricsCollector | None = None,
        transport: str = "pool",
    ) -> None:
        if not 0 < window_ms <= MAX_WINDOW_MS:
            raise ValueError(f"window_ms must be between 1 and {MAX_WINDOW_MS}, got {window_ms}")
        if not api_url.startswith(("http://", "https://")):
            raise ValueError(f"api_url must start with http:// or https://, got {api_url!r}")
        self.api_url = api_url.rstrip("/")
        self.ws_url = ws_url
        self.window_ms = window_ms
        self.retry = retry or RetryPolicy()
        self.metrics = metrics or MetricsCollector()
        self.clock = ExchangeClock(refresh_s=clock_refresh_s)
        if redis_url:
            self.limiter: Any = RedisRateLimiter(
                redis_url,
                budgets,
                max_wait_s=max_rate_wait_s,
                prefix=redis_prefix,
                max_connections=redis_pool_size,
            )
        else:
            self.limiter = LocalRateLimiter(budgets, max_wait_s=max_rate_wait_s)
        self.markets = MarketCache(self, refresh_s=market_refresh_s)
        self.sender = HttpxSender(
            self.api_url,
            timeout_s=timeout_s,
            connect_timeout_s=connect_timeout_s,
            max_connections=max_connections,
            transport=transport,
        )
        self._clock_lock = asyncio.Lock()
        self._closed = False

    def client(self, credentials: Credentials | None = None, *, label: str = "") -> BackpackClient:
        """A client for one subaccount (or public data only when ``credentials`` is None)."""
        return BackpackClient(self, credentials, label=label or "public")

    def streams(self, credentials: Credentials | None = None, **options: Any) -> StreamClient:
        """A supervised WebSocket connection to ``ws_url`` (signing with the session clock)."""
        if not self.ws_url:
            raise ValueError("this session has no ws_url")
        if credentials is not None:
            options.setdefault("before_signing", self.sync_clock)
            options.setdefault("resync_clock", functools.partial(self.sync_clock, force=True))
        return StreamClient(
            self.ws_url,
            credentials=credentials,
            clock_ms=self.clock.now_ms,
            window_ms=self.window_ms,
            **options,
        )

    async def aclose(self) -> None:
        """Close the connection pool (and the Redis pool when used)."""
        if self._closed:
            return
        self._closed = True
        await self.sender.aclose()
        closer = getattr(self.limiter, "aclose", None)
        if closer is not None:
            await closer()

    async def __aenter__(self) -> ExchangeSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def status(self) -> dict[str, Any]:
        """Health figures for the dashboard: clock offset and rate budget left per key.

        ``budgets`` maps ``(api key, budget name)`` to requests left in the current window
        (-1 when the budget lives in Redis; see ``RedisRateLimiter.remaining_async``).
        """
        keys = {key for key, _ in getattr(self.limiter, "_sent", {})}
        return {
            "clock_offset_ms": self.clock.offset_ms,
            "clock_round_trip_ms": self.clock.round_trip_ms,
            "budgets": {
                (key, name): self.limiter.remaining(key, name)
                for key in sorted(keys)
                for name in self.limiter.budgets
            },
        }

    # -- clock -------------------------------------------------------------------------

    async def server_time_ms(self) -> int:
        """``GET /api/v1/time``: the exchange's clock in ms (no retries; used to sync)."""
        raw = await self._send(R.TIME, None, None, None)
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise MalformedResponseError(
                f"The exchange's answer to {R.TIME.label} is not a time: {str(raw)[:40]!r}.",
                route=R.TIME.label,
            ) from None

    async def sync_clock(self, *, force: bool = False) -> int:
        """Measure the clock offset (once for concurrent callers) and return it in ms."""
        async with self._clock_lock:
            if force or self.clock.is_stale():
                await self.clock.resync(self.server_time_ms)
                self.metrics.clock_offset_ms = self.clock.offset_ms
        return self.clock.offset_ms

    # -- the call path -----------------------------------------------------------------

    async def call(
        self,
        route: Route,
        params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        *,
        credentials: Credentials | None = None,
        label: str = "public",
        retry: bool | None = None,
    ) -> Any:
        """Send ``route`` with ``params`` and return the decoded answer.

        Reads are retried per ``self.retry``; a route that changes state is retried only on a
        429 (the exchange did not run it). Raises a ``BackpackError`` subclass.
        """
        if route.private and credentials is None:
            raise AuthenticationError(
                f"{route.label} needs API credentials.", route=route.label, action="Add a key."
            )
        may_retry = route.idempotent if retry is None else retry
        key = credentials.api_key if credentials else PUBLIC_KEY
        started = time.perf_counter()
        attempt = 0
        resynced = False
        while True:
            attempt += 1
            try:
                if not self.limiter.try_acquire(key, route.budget):
                    await self.limiter.acquire(key, route.budget)
                if credentials is not None and self.clock.is_stale():
                    try:
                        await self.sync_clock()
                    except ExchangeUnavailableError as error:
                        error.maybe_sent = False  # the request itself never left
                        raise
                result = await self._send(route, params, credentials, label)
            except BackpackError as error:
                elapsed = time.perf_counter() - started
                if isinstance(error, RateLimitedError) and error.status == 429:
                    self.limiter.penalize(key, error.retry_after or self.retry.base_s * 4)
                if (
                    credentials is not None
                    and not resynced
                    and isinstance(error, AuthenticationError | RequestRejectedError)
                    and error.status in (400, 401)
                ):
                    # The exchange may have refused our timestamp: re-measure the clock and,
                    # only if it had drifted, send once more (decided by measurement, never by
                    # reading the message).
                    resynced = True
                    before = self.clock.offset_ms
                    try:
                        after = await self.sync_clock(force=True)
                    except BackpackError:
                        after = before
                    if abs(after - before) > _CLOCK_DRIFT_MS:
                        continue
                # A 429 means the exchange did not run the request: safe to resend even for
                # orders. The local budget's own refusal already waited; it is final.
                throttled = isinstance(error, RateLimitedError)
                local_refusal = throttled and error.status is None
                retryable = not local_refusal and (may_retry or throttled)
                if retryable and self.retry.should_retry(error, attempt, elapsed):
                    await asyncio.sleep(self.retry.delay(attempt, error))
                    continue
                self._record(label, route, started, error, attempt)
                raise
            self._record(label, route, started, None, attempt)
            return result

    async def forward(
        self,
        route: Route,
        params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
        *,
        credentials: Credentials | None,
        label: str,
    ) -> tuple[int, Mapping[str, str], bytes]:
        """Send ``route`` once for a relaying caller and return the exchange's answer raw
        (status, headers, body), whatever its status.

        The same budget (waiting within ``max_rate_wait_s``; ``RateLimitedError`` past it),
        clock and signing as ``call``, never retried; an exchange 429 pauses the key as in
        ``call``. Transport failures raise ``ExchangeUnavailableError``.
        """
        key = credentials.api_key if credentials else PUBLIC_KEY
        started = time.perf_counter()
        if not self.limiter.try_acquire(key, route.budget):
            await self.limiter.acquire(key, route.budget)
        if credentials is not None and self.clock.is_stale():
            await self.sync_clock()
        try:
            answer = await self._send(route, params, credentials, label, raw=True)
        except BackpackError as error:
            self._record(label, route, started, error, 1)
            raise
        status, headers, _content = answer
        if status == 429:
            retry_after = headers.get("retry-after") or headers.get("Retry-After")
            try:
                pause = float(retry_after) if retry_after else self.retry.base_s * 4
            except ValueError:
                pause = self.retry.base_s * 4
            self.limiter.penalize(key, pause)
        self._record(label, route, started, None, 1)
        return answer

    def _record(
        self, label: str, route: Route, started: float, error: BackpackError | None, attempts: int
    ) -> None:
        latency_ms = (time.perf_counter() - started) * 1000.0
        if error is None:
            fields = (label, route.name, latency_ms, "ok", None, None, attempts)
        else:
            kind = type(error).__name__
            fields = (label, route.name, latency_ms, kind, error.status, error.code, attempts)
        self.metrics.record(_new_record(CallRecord, fields))

    async def _send(
        self,
        route: Route,
        params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
        credentials: Credentials | None,
        label: str | None,
        *,
        raw: bool = False,
    ) -> Any:
        """One HTTP exchange: sign, send, map the status (``raw``: return status, headers and
        body as they came); no retries here."""
        try:
            if params is None or type(params) is dict or isinstance(params, Mapping):
                wire: Any = clean_params(params)
            else:
                wire = [clean_params(item) for item in params]
        except (TypeError, ValueError) as exc:
            # A float or NaN among the parameters: refused here, never signed or sent.
            raise InvalidOrderError(
                f"{route.label} cannot be sent: {exc}.",
                route=route.label,
                action="Give amounts as Decimal or plain text.",
            ) from None
        signed = None
        if route.private:
            if credentials is None or not route.instruction:
                # Fail closed: a private route never goes out unsigned.
                raise AuthenticationError(f"{route.label} needs API credentials.")
            signed = (credentials, route.instruction, wire, self.clock.now_ms, self.window_ms)
        if route.method == "GET":
            query, body, headers = wire or None, None, {}
        else:
            query, headers = None, _JSON_HEADERS
            body = _ENCODE_JSON(wire).encode() if wire else None
        status, response_headers, content = await self.sender.send(
            route.method, route.path, query, body, headers, signed, route.label
        )
        if raw:
            return status, response_headers, content
        return _decode(route, status, response_headers, content)


def _decode(route: Route, status: int, headers: Mapping[str, str], content: bytes) -> Any:
    if 200 <= status < 300:
        if not content:
            return None
        if route is R.TIME:
            return content.decode(errors="replace").strip()
        try:
            return json.loads(content.decode())
        except ValueError:
            raise MalformedResponseError(
                f"The exchange's answer to {route.label} is not JSON: {content[:60]!r}.",
                route=route.label,
                status=status,
            ) from None
    try:
        payload = json.loads(content) if content else None
    except ValueError:
        payload = content[:200].decode(errors="replace")
    retry_after = None
    if status == 429:
        header = headers.get("retry-after") or headers.get("Retry-After")
        try:
            retry_after = float(header) if header else None
        except ValueError:
            retry_after = None
    return _raise(error_from_response(status, payload, route=route.label, retry_after=retry_after))


def _raise(error: BackpackError) -> Any:
    raise error
