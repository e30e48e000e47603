"""The older home of the live regions, kept as one import for callers that use it.

Rendering lives in `trading.live_regions` (one function per region, and
`account_live_regions` for a subaccount's regions); the rows they show in `trading.rows`;
numbers are formatted by `trading.formatting`.
"""

from __future__ import annotations

from trading.live_regions import (
    AccountRegions,
    Region,
    account_event_html,
    account_live_regions,
    balances_html,
    book_html,
    kline_html,
    market_stats_html,
    open_orders_html,
    positions_html,
    trades_html,
)
from trading.rows import (
    MAX_TRADES,
    BookRow,
    Markets,
    account_event_row,
    book_from_depth,
    fill_row,
    kline_point,
    order_row,
    position_row,
    trade_rows,
)

__all__ = [
    "MAX_TRADES",
    "AccountRegions",
    "BookRow",
    "Markets",
    "account_event_html",
    "account_event_row",
    "account_live_regions",
    "Region",
    "balances_html",
    "book_from_depth",
    "book_html",
    "fill_row",
    "kline_html",
    "kline_point",
    "market_stats_html",
    "open_orders_html",
    "order_row",
    "position_row",
    "positions_html",
    "trade_rows",
    "trades_html",
]
