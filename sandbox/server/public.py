"""Public REST routes: system, assets, markets, market data (no signature)."""

from __future__ import annotations

from starlette.responses import PlainTextResponse
from starlette.routing import Route

from sandbox.server.errors import ApiError, bad_request
from sandbox.server.routing import Call, exchange_route
from sandbox.server.state import Sandbox

MARKET_TYPES = ("SPOT", "PERP", "IPERP", "DATED", "PREDICTION", "RFQ")
DEPTH_LIMITS = ("5", "10", "20", "50", "100", "500", "1000")
KLINE_INTERVALS = (
    "1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w",
    "1month",
)  # fmt: skip
TICKER_INTERVALS = ("1d", "1w")


def _symbol(call: Call, *, required: bool = True) -> str | None:
    symbol = call.params.string("symbol", required=required)
    if symbol is not None:
        call.sandbox.engine.market(symbol)  # INVALID_MARKET for unknown symbols
    return symbol


def status(call: Call) -> dict:
    """GET /api/v1/status."""
    return {"status": "Ok"}


def ping(call: Call) -> PlainTextResponse:
    """GET /api/v1/ping: ``pong``."""
    return PlainTextResponse("pong", media_type="text/plain; charset=utf-8")


def server_time(call: Call) -> PlainTextResponse:
    """GET /api/v1/time: server time in milliseconds, as text."""
    return PlainTextResponse(str(call.sandbox.clock_ms()), media_type="text/plain; charset=utf-8")


def assets(call: Call) -> list:
    """GET /api/v1/assets."""
    return call.sandbox.engine.assets_wire()


def collateral_parameters(call: Call) -> list:
    """GET /api/v1/collateral."""
    return call.sandbox.engine.collateral_parameters_wire()


def markets(call: Call) -> list:
    """GET /api/v1/markets (``marketType`` may repeat)."""
    raw = call.params.values.get("marketType")
    wanted = raw if isinstance(raw, list) else ([raw] if raw else [])
    for market_type in wanted:
        if market_type not in MARKET_TYPES:
            raise bad_request(f"Invalid parameter `marketType`: {market_type!r} is unknown")
    engine = call.sandbox.engine
    if not wanted:
        return engine.markets_wire()
    return [m for market_type in wanted for m in engine.markets_wire(market_type)]


def market(call: Call) -> dict:
    """GET /api/v1/market."""
    symbol = _symbol(call)
    return call.sandbox.engine.market(symbol).to_wire()


def ticker(call: Call) -> dict:
    """GET /api/v1/ticker."""
    symbol = _symbol(call)
    interval = call.params.choice("interval", TICKER_INTERVALS) or "1d"
    return call.sandbox.engine.ticker(symbol, interval)


def tickers(call: Call) -> list:
    """GET /api/v1/tickers."""
    interval = call.params.choice("interval", TICKER_INTERVALS) or "1d"
    return call.sandbox.engine.tickers(interval)


def depth(call: Call) -> dict:
    """GET /api/v1/depth."""
    symbol = _symbol(call)
    limit = call.params.choice("limit", DEPTH_LIMITS) or "1000"
    return call.sandbox.engine.depth(symbol, int(limit))


def klines(call: Call) -> list:
    """GET /api/v1/klines (times in seconds)."""
    symbol = _symbol(call)
    interval = call.params.choice("interval", KLINE_INTERVALS, required=True)
    start = call.params.integer("startTime", required=True)
    end = call.params.integer("endTime")
    price_type = call.params.choice("priceType", ("Last", "Index", "Mark"))
    if end is not None and end < start:
        raise ApiError(400, "INVALID_RANGE", "endTime must not be before startTime")
    del price_type  # the sandbox's candles are last-price candles for every price type
    return call.sandbox.engine.klines(symbol, interval, start, end)


def trades(call: Call) -> list:
    """GET /api/v1/trades."""
    symbol = _symbol(call)
    limit = call.params.integer("limit", minimum=1, maximum=1000, default=100)
    return call.sandbox.engine.recent_trades(symbol, limit)


def trade_history(call: Call) -> list:
    """GET /api/v1/trades/history."""
    symbol = _symbol(call)
    limit = call.params.integer("limit", minimum=1, maximum=1000, default=100)
    offset = call.params.integer("offset", default=0)
    return call.sandbox.engine.trade_history(symbol, limit, offset)


def mark_prices(call: Call) -> list:
    """GET /api/v1/markPrices."""
    symbol = _symbol(call, required=False)
    market_type = call.params.choice("marketType", MARKET_TYPES)
    return call.sandbox.engine.mark_prices(symbol, market_type)


def open_interest(call: Call) -> list:
    """GET /api/v1/openInterest."""
    symbol = _symbol(call, required=False)
    return call.sandbox.engine.open_interest(symbol)


def funding_rates(call: Call) -> list:
    """GET /api/v1/fundingRates."""
    symbol = _symbol(call)
    limit = call.params.integer("limit", minimum=1, maximum=1000, default=100)
    offset = call.params.integer("offset", default=0)
    return call.sandbox.engine.funding_rates(symbol, limit, offset)


def securities(call: Call) -> list:
    """GET /api/v1/securities: the sandbox lists no tokenized securities."""
    return []


def public_routes(sandbox: Sandbox) -> list[Route]:
    """Every public REST route."""
    table = [
        ("/api/v1/status", status, False),
        ("/api/v1/ping", ping, False),
        ("/api/v1/time", server_time, False),
        ("/api/v1/assets", assets, False),
        ("/api/v1/collateral", collateral_parameters, False),
        ("/api/v1/markets", markets, False),
        ("/api/v1/market", market, False),
        ("/api/v1/ticker", ticker, False),
        ("/api/v1/tickers", tickers, False),
        ("/api/v1/depth", depth, False),
        ("/api/v1/klines", klines, True),
        ("/api/v1/trades", trades, False),
        ("/api/v1/trades/history", trade_history, True),
        ("/api/v1/markPrices", mark_prices, False),
        ("/api/v1/openInterest", open_interest, False),
        ("/api/v1/fundingRates", funding_rates, False),
        ("/api/v1/securities", securities, False),
    ]
    return [
        exchange_route(sandbox, path, "GET", handler, historical=historical)
        for path, handler, historical in table
    ]
