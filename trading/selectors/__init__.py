"""Read models of the trading pages, one module per read model:

- `access`: who may see and trade which subaccount; the per-subaccount block of team pages
- `markets`: markets and their rules, a market's first snapshot, candles, best prices
- `funds`: what the order ticket needs of an account (taker fee, equity, spendable)
- `orders`: open orders (one subaccount or the team), order and fill history, CSV exports
- `positions`: open positions with the desk's liquidation estimate
- `cache`: the short in-process cache these reads share

Exchange reads are async (call them from async views); each returns data or raises a
`BackpackError`, which `trading.failures.failure_text` turns into the words shown in the
page's region. Database reads are sync and wrapped for async callers.

The names below are the package's public face (many pages import them from here).
"""

from __future__ import annotations

from trading.failures import EXCHANGE_ERRORS, exchange_error_text, failure_text
from trading.selectors.access import (
    AccountBlock,
    SubaccountAccess,
    subaccount_access,
    subaccount_access_async,
)
from trading.selectors.cache import cache_clear
from trading.selectors.funds import FEE_CACHE_S, TicketFunds, taker_fee_bps, ticket_funds
from trading.selectors.markets import (
    KLINE_CACHE_S,
    KLINE_COUNT,
    KLINE_INTERVALS,
    PRICES_CACHE_S,
    MarketRow,
    Markets,
    MarketSnapshot,
    best_prices,
    klines_recent,
    market_get,
    market_snapshot,
    markets_known,
    markets_overview,
)
from trading.selectors.orders import (
    CSV_MAX_ROWS,
    HISTORY_PAGE_SIZE,
    OPEN_ORDERS_CACHE_S,
    HistoryPage,
    fills_all,
    fills_page,
    open_orders_for,
    open_orders_for_team,
    order_senders,
    orders_all,
    orders_page,
)
from trading.selectors.positions import (
    POSITIONS_CACHE_S,
    liquidation_price,
    positions_for,
    positions_for_team,
    positions_recent,
)

__all__ = [
    "CSV_MAX_ROWS",
    "EXCHANGE_ERRORS",
    "FEE_CACHE_S",
    "HISTORY_PAGE_SIZE",
    "KLINE_CACHE_S",
    "KLINE_COUNT",
    "KLINE_INTERVALS",
    "OPEN_ORDERS_CACHE_S",
    "POSITIONS_CACHE_S",
    "PRICES_CACHE_S",
    "AccountBlock",
    "HistoryPage",
    "MarketRow",
    "MarketSnapshot",
    "Markets",
    "SubaccountAccess",
    "TicketFunds",
    "best_prices",
    "cache_clear",
    "exchange_error_text",
    "failure_text",
    "fills_all",
    "fills_page",
    "klines_recent",
    "liquidation_price",
    "market_get",
    "market_snapshot",
    "markets_known",
    "markets_overview",
    "open_orders_for",
    "open_orders_for_team",
    "order_senders",
    "orders_all",
    "orders_page",
    "positions_for",
    "positions_for_team",
    "positions_recent",
    "subaccount_access",
    "subaccount_access_async",
    "taker_fee_bps",
    "ticket_funds",
]
