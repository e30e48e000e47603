"""Read models of the trading pages: markets, books, open orders, history, positions.

Exchange reads are async (call them from async views); each returns data or raises a
`BackpackError`, which `exchange_error_text` turns into the words shown in the page's region.
Database reads (who may see / trade which subaccount) are sync and wrapped for async callers.
Short in-process caches keep the order ticket's as-you-type checks and the candle chart from
spending the exchange's rate budget (klines draw on the 30/minute historical budget).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings

from accounts.crypto import SecretUnavailableError
from accounts.models import Role, Subaccount
from accounts.permissions import role_allows
from accounts.selectors import subaccount_list
from trading.backpack import (
    Collateral,
    Depth,
    Fill,
    Kline,
    Market,
    MarkPrice,
    Order,
    Position,
    Ticker,
    Trade,
)
from trading.backpack.errors import BackpackError, ExchangeUnavailableError
from trading.backpack.recent_trades import newest_first
from trading.balances.fetch import account_read
from trading.exchange import client_for, exchange_session
from trading.forms import BestPrices

T = TypeVar("T")

# What a read or an action on the exchange may raise: the client's errors, and a subaccount
# secret that cannot be opened (raised at signing time).
EXCHANGE_ERRORS = (BackpackError, SecretUnavailableError)

KLINE_INTERVALS = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "4h": 14400, "1d": 86400}
KLINE_COUNT = 300
KLINE_CACHE_S = 20.0
PRICES_CACHE_S = 1.0
FEE_CACHE_S = 300.0
HISTORY_PAGE_SIZE = 50
CSV_MAX_ROWS = 10_000

_cache: dict[tuple[Any, ...], tuple[float, Any]] = {}


async def _cached(key: tuple[Any, ...], ttl: float, load: Callable[[], Awaitable[T]]) -> T:
    """`load()` at most once per `ttl` seconds per key (and per exchange URL)."""
    full_key = (settings.BACKPACK_API_URL, *key)
    now = time.monotonic()
    hit = _cache.get(full_key)
    if hit is not None and hit[0] > now:
        return hit[1]
    value = await load()
    _cache[full_key] = (now + ttl, value)
    return value


def cache_clear() -> None:
    """Forget every cached read (tests; after an order the ticket's prices refresh anyway)."""
    _cache.clear()


def exchange_error_text(error: BaseException) -> str:
    """What a page shows when a read or an action failed, in a trader's words."""
    if isinstance(error, ExchangeUnavailableError):
        return f"exchange unreachable: {error.message} {error.action}"
    if isinstance(error, BackpackError):
        return f"{error.message} {error.action}".strip()
    if isinstance(error, SecretUnavailableError):
        return str(error)
    return f"Unexpected error: {type(error).__name__}: {error}"


# -- who may see and trade what ----------------------------------------------------------------


@dataclass(frozen=True)
class SubaccountAccess:
    """A subaccount the user may see, with the user's role on it."""

    subaccount: Subaccount
    role: Role

    @property
    def can_trade(self) -> bool:
        return role_allows(self.role, Role.TRADER)


def subaccount_access(*, user: Any) -> list[SubaccountAccess]:
    """Every active subaccount the user may see, with their role (membership-filtered)."""
    return [
        SubaccountAccess(row.subaccount, row.role)
        for row in subaccount_list(user=user)
        if row.subaccount.is_active
    ]


subaccount_access_async = sync_to_async(subaccount_access)


# -- market data -----------------------------------------------------------------------------


async def market_get(symbol: str) -> Market:
    """The market's rules (cached by the session); `InvalidOrderError` if it does not exist."""
    return await exchange_session().markets.get(symbol)


Markets = dict[str, Market]


async def markets_known() -> Markets:
    """Every market's rules by symbol (cached by the session), for showing prices and
    quantities with their tick and step decimals; empty when the exchange cannot say."""
    try:
        return await exchange_session().markets.all()
    except EXCHANGE_ERRORS:
        return {}


@dataclass(frozen=True)
class MarketRow:
    market: Market
    ticker: Ticker | None


async def markets_overview() -> list[MarketRow]:
    """Every visible market with its 24 h ticker (spot first, then perpetuals)."""
    session = exchange_session()
    markets, tickers = await asyncio.gather(session.markets.all(), session.client().tickers())
    by_symbol = {t.symbol: t for t in tickers}
    rows = [MarketRow(m, by_symbol.get(m.symbol)) for m in markets.values() if m.visible]
    return sorted(rows, key=lambda r: (r.market.is_perp, r.market.symbol))


@dataclass
class MarketSnapshot:
    """What the market page shows first; each part is None when its read failed."""

    market: Market
    depth: Depth | None = None
    trades: list[Trade] | None = None
    ticker: Ticker | None = None
    mark: MarkPrice | None = None
    error: str = ""


async def market_snapshot(market: Market) -> MarketSnapshot:
    """Depth, recent trades, ticker (and mark price for perpetuals), read concurrently."""
    client = exchange_session().client()
    symbol = market.symbol
    reads: list[Awaitable[Any]] = [
        client.depth(symbol, limit=50),
        client.trades(symbol, limit=40),
        client.ticker(symbol),
    ]
    if market.is_perp:
        reads.append(client.mark_prices(symbol))
    results = await asyncio.gather(*reads, return_exceptions=True)
    snapshot = MarketSnapshot(market)
    errors = [r for r in results if isinstance(r, BaseException)]
    for result in errors:
        if not isinstance(result, EXCHANGE_ERRORS):
            raise result
    if errors:
        snapshot.error = exchange_error_text(errors[0])
    depth, trades, ticker = results[:3]
    snapshot.depth = None if isinstance(depth, BaseException) else depth
    if not isinstance(trades, BaseException):
        snapshot.trades = newest_first(trades)
    snapshot.ticker = None if isinstance(ticker, BaseException) else ticker
    if len(results) > 3 and not isinstance(results[3], BaseException):
        snapshot.mark = next((m for m in results[3] if m.symbol == symbol), None)
    return snapshot


async def klines_recent(symbol: str, interval: str) -> list[Kline]:
    """The last ~300 candles of `interval` (one of KLINE_INTERVALS), cached for 20 s."""
    seconds = KLINE_INTERVALS[interval]

    async def load() -> list[Kline]:
        start = int(time.time()) - seconds * KLINE_COUNT
        klines = await exchange_session().client().klines(symbol, interval, start)
        return sorted(klines, key=lambda k: k.start)

    return await _cached(("klines", symbol, interval), KLINE_CACHE_S, load)


async def best_prices(symbol: str) -> BestPrices:
    """Best bid and ask now (REST depth, cached for a second)."""

    async def load() -> BestPrices:
        depth = await exchange_session().client().depth(symbol, limit=5)
        bid = max((p for p, _ in depth.bids), default=None)
        ask = min((p for p, _ in depth.asks), default=None)
        return BestPrices(bid=bid, ask=ask)

    return await _cached(("prices", symbol), PRICES_CACHE_S, load)


async def taker_fee_bps(subaccount: Subaccount, market: Market) -> Decimal | None:
    """The subaccount's taker fee in basis points for this kind of market, None if unknown."""

    async def load() -> Any:
        return await client_for(subaccount).account()

    try:
        account = await _cached(("account", subaccount.pk), FEE_CACHE_S, load)
    except EXCHANGE_ERRORS:
        return None
    return account.futures_taker_fee if market.is_perp else account.spot_taker_fee


@dataclass(frozen=True)
class TicketFunds:
    """What the ticket needs of a subaccount's account now: its net equity (for the
    fat-finger guard) and what each side may spend, or None where the read failed."""

    equity: Decimal | None
    spendable: dict[str, Decimal]  # asset -> available (spot balances)
    collateral_available: Decimal | None  # perpetual markets spend collateral
    error: str = ""

    def available(self, market: Market, *, buying: bool) -> tuple[Decimal | None, str]:
        """What an order on `market` may spend, in which asset (perp: collateral)."""
        if market.is_perp:
            return self.collateral_available, market.quote_symbol
        asset = market.quote_symbol if buying else market.base_symbol
        if self.error:
            return None, asset
        return self.spendable.get(asset, Decimal(0)), asset


async def ticket_funds(subaccount: Subaccount) -> TicketFunds:
    """Equity and spendable balances of `subaccount` (shared with the balances reads of the
    last ~2 s, so typing in the ticket costs no extra exchange reads)."""
    read = await account_read(subaccount)
    collateral = read.collateral
    return TicketFunds(
        equity=collateral.net_equity if collateral is not None else None,
        spendable={a: b.available for a, b in (read.balances or {}).items()},
        collateral_available=collateral.net_equity_available if collateral else None,
        error=read.error or "",
    )


# -- account reads -----------------------------------------------------------------------------


@dataclass
class AccountBlock:
    """One subaccount's rows on a team page, or the reason they could not be read."""

    access: SubaccountAccess
    orders: list[Order] | None = None
    positions: list[Position] | None = None
    liquidations: dict[str, Decimal | None] | None = None
    error: str = ""
    markets: dict[str, Market] = field(default_factory=dict)  # by symbol, for the decimals


async def open_orders_for(subaccount: Subaccount, symbol: str | None = None) -> list[Order]:
    """The subaccount's open orders (all markets, or one), newest first."""
    orders = await client_for(subaccount).open_orders(symbol)
    epoch = datetime.min.replace(tzinfo=UTC)
    return sorted(orders, key=lambda o: o.created_at or epoch, reverse=True)


async def _guarded(block: AccountBlock, read: Awaitable[T]) -> T | None:
    try:
        return await read
    except EXCHANGE_ERRORS as error:
        block.error = exchange_error_text(error)
        return None


OPEN_ORDERS_CACHE_S = 2.0


async def open_orders_for_team(
    *, user: Any, symbol: str | None = None, recent: bool = False
) -> list[AccountBlock]:
    """Open orders of every subaccount the user may see, read concurrently; a subaccount
    whose read failed carries the reason instead of rows. ``recent``: a read of the last
    2 s will do (the overview's poll), never for a page that acts on the orders."""
    accesses = await subaccount_access_async(user=user)
    blocks = [AccountBlock(access) for access in accesses]

    def read(subaccount: Subaccount) -> Awaitable[list[Order]]:
        if not recent:
            return open_orders_for(subaccount, symbol)
        return _cached(
            ("open_orders", subaccount.pk, symbol),
            OPEN_ORDERS_CACHE_S,
            lambda: open_orders_for(subaccount, symbol),
        )

    async def fill(block: AccountBlock) -> None:
        block.orders = await _guarded(block, read(block.access.subaccount))

    _, markets = await asyncio.gather(asyncio.gather(*(fill(b) for b in blocks)), markets_known())
    for block in blocks:
        block.markets = markets
    return blocks


def liquidation_price(position: Position, collateral: Collateral) -> Decimal | None:
    """The desk's liquidation estimate for `position`, other positions held still.

    The account is liquidated when its net equity falls to the maintenance margin. With the
    position's signed size q, its mark M, the account's net equity E and maintenance margin
    fraction mmf, moving the price to P changes equity to E + q (P - M) while the maintenance
    requirement becomes mmf |q| P. Setting them equal:

        P = (q M - E) / (q - mmf |q|)

    i.e. below the entry for a long (q > 0), above it for a short. No answer (None) when the
    equity never reaches the requirement (P <= 0) or the inputs are missing; the exchange's
    own figure (`est_liquidation_price`) is shown next to it.
    """
    q = position.net_quantity
    if q == 0:
        return None
    mmf = collateral.mmf if collateral.mmf is not None else Decimal(0)
    denominator = q - mmf * abs(q)
    if denominator == 0:
        return None
    price = (q * position.mark_price - collateral.net_equity) / denominator
    return price if price > 0 else None


async def positions_for(subaccount: Subaccount) -> tuple[list[Position], dict[str, Any]]:
    """Open positions with the desk's liquidation estimates, keyed by symbol."""
    client = client_for(subaccount)
    positions, collateral = await asyncio.gather(client.positions(), client.collateral())
    open_positions = [p for p in positions if p.net_quantity != 0]
    estimates = {p.symbol: liquidation_price(p, collateral) for p in open_positions}
    return open_positions, estimates


POSITIONS_CACHE_S = 2.0


async def positions_recent(subaccount: Subaccount) -> tuple[list[Position], dict[str, Any]]:
    """:func:`positions_for`, read at most once per 2 s per subaccount (the team overview's
    poll and the funding page read every subaccount's positions)."""
    return await _cached(
        ("positions", subaccount.pk), POSITIONS_CACHE_S, lambda: positions_for(subaccount)
    )


async def positions_for_team(*, user: Any) -> list[AccountBlock]:
    """Positions of every subaccount the user may see, read concurrently."""
    accesses = await subaccount_access_async(user=user)
    blocks = [AccountBlock(access) for access in accesses]

    async def fill(block: AccountBlock) -> None:
        result = await _guarded(block, positions_for(block.access.subaccount))
        if result is not None:
            block.positions, block.liquidations = result

    _, markets = await asyncio.gather(asyncio.gather(*(fill(b) for b in blocks)), markets_known())
    for block in blocks:
        block.markets = markets
    return blocks


@dataclass
class HistoryPage:
    """One page of fills or orders, newest first."""

    rows: list[Any]
    page: int
    has_next: bool


async def fills_page(subaccount: Subaccount, *, symbol: str | None, page: int) -> HistoryPage:
    """Page `page` (from 1) of the subaccount's fills, HISTORY_PAGE_SIZE rows."""
    offset = (page - 1) * HISTORY_PAGE_SIZE
    fills = await client_for(subaccount).fill_history(
        symbol=symbol or None, limit=HISTORY_PAGE_SIZE + 1, offset=offset
    )
    fills.sort(key=lambda f: f.timestamp, reverse=True)
    return HistoryPage(fills[:HISTORY_PAGE_SIZE], page, len(fills) > HISTORY_PAGE_SIZE)


async def orders_page(subaccount: Subaccount, *, symbol: str | None, page: int) -> HistoryPage:
    """Page `page` (from 1) of the subaccount's order history."""
    offset = (page - 1) * HISTORY_PAGE_SIZE
    orders = await client_for(subaccount).order_history(
        symbol=symbol or None, limit=HISTORY_PAGE_SIZE + 1, offset=offset
    )
    epoch = datetime.min.replace(tzinfo=UTC)
    orders.sort(key=lambda o: o.created_at or epoch, reverse=True)
    return HistoryPage(orders[:HISTORY_PAGE_SIZE], page, len(orders) > HISTORY_PAGE_SIZE)


async def fills_all(
    subaccount: Subaccount, *, symbol: str | None, days: int = 30, batch: int = 1000
) -> list[Fill]:
    """Every fill of the last `days` days (for the CSV export), at most CSV_MAX_ROWS."""
    client = client_for(subaccount)
    since = int((datetime.now(UTC) - timedelta(days=days)).timestamp() * 1000)
    out: list[Fill] = []
    offset = 0
    while len(out) < CSV_MAX_ROWS:
        chunk = await client.fill_history(
            symbol=symbol or None, from_ms=since, limit=batch, offset=offset
        )
        out.extend(chunk)
        if len(chunk) < batch:
            break
        offset += batch
    out.sort(key=lambda f: f.timestamp, reverse=True)
    return out[:CSV_MAX_ROWS]


async def orders_all(
    subaccount: Subaccount, *, symbol: str | None, batch: int = 1000
) -> list[Order]:
    """The subaccount's order history (for the CSV export), newest first, at most
    CSV_MAX_ROWS."""
    client = client_for(subaccount)
    out: list[Order] = []
    offset = 0
    while len(out) < CSV_MAX_ROWS:
        chunk = await client.order_history(symbol=symbol or None, limit=batch, offset=offset)
        out.extend(chunk)
        if len(chunk) < batch:
            break
        offset += batch
    epoch = datetime.min.replace(tzinfo=UTC)
    out.sort(key=lambda o: o.created_at or epoch, reverse=True)
    return out[:CSV_MAX_ROWS]
