"""Every live region of the trading pages, rendered by one function each.

Numbers are formatted by `trading.formatting` (the one rule); this module only renders.

Views use these functions for the first render and the relay uses them for every update, so a
region looks the same however it arrives (see /work/notes/relay-contract.md). They are plain
synchronous functions: data in, HTML out; they never query the database or the exchange.

By default the root element carries ``hx-swap-oob="true"`` (what the relay and the htmx action
responses send); views pass ``oob=False`` when the fragment is part of a full page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.template.loader import render_to_string

from trading.backpack import Fill, Kline, Market, MarkPrice, Order, Position, Ticker, Trade
from trading.backpack.book import OrderBook
from trading.formatting import (
    DASH,
    as_decimal,
    fixed,
    percent,
    plain,
    price,
    price_places,
    quantity,
    quantity_places,
    usdc,
    utc_time,
)

MAX_TRADES = 40


def _oob(oob: bool | str) -> str:
    if oob is True:
        return "true"
    return oob or ""


# -- order book ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BookRow:
    price: str
    quantity: str
    total: str
    depth_pct: str


def _book_rows(
    levels: Sequence[tuple[Decimal, Decimal]], market: Market, max_total: Decimal
) -> list[BookRow]:
    rows = []
    running = Decimal(0)
    for level_price, level_quantity in levels:
        running += level_quantity
        pct = (running / max_total * 100) if max_total > 0 else Decimal(0)
        rows.append(
            BookRow(
                price(level_price, market),
                quantity(level_quantity, market),
                quantity(running, market),
                fixed(pct, 1),
            )
        )
    return rows


def book_from_depth(depth: Any) -> OrderBook:
    """A local order book loaded from a REST depth snapshot (first render)."""
    book = OrderBook(depth.symbol)
    book.load_snapshot(depth.bids, depth.asks, depth.last_update_id)
    return book


def book_html(market: Market, book: OrderBook, *, levels: int = 20, oob: bool = True) -> str:
    """The order book region ``book-{symbol}``: `levels` per side with cumulative depth bars.

    Asks are listed highest first so the best ask sits just above the spread line and the best
    bid just below it; each price carries ``data-price`` for the ticket's click-to-fill.
    """
    bids, asks = book.top(levels)
    cumulative_bids = sum((q for _, q in bids), Decimal(0))
    cumulative_asks = sum((q for _, q in asks), Decimal(0))
    max_total = max(cumulative_bids, cumulative_asks)
    ask_rows = list(reversed(_book_rows(asks, market, max_total)))
    bid_rows = _book_rows(bids, market, max_total)
    best_bid, best_ask, spread = book.best_bid(), book.best_ask(), book.spread()
    pp = price_places(market)
    spread_pct = None
    if spread is not None and best_bid and best_bid[0] > 0:
        spread_pct = spread / best_bid[0]
    context = {
        "market": market,
        "oob": _oob(oob),
        "ask_rows": ask_rows,
        "bid_rows": bid_rows,
        "best_bid": fixed(best_bid[0], pp) if best_bid else DASH,
        "best_ask": fixed(best_ask[0], pp) if best_ask else DASH,
        "spread": fixed(spread, pp) if spread is not None else DASH,
        "spread_pct": percent(spread_pct, 3) if spread_pct is not None else "",
        "empty": not bids and not asks,
    }
    return render_to_string("trading/partials/book.html", context)


# -- trades, stats, candles ------------------------------------------------------------------


def trades_html(market: Market, trades: Sequence[Trade], *, oob: bool = True) -> str:
    """The recent trades region ``trades-{symbol}``, newest first.

    A trade whose buyer was the maker was a sell by the taker (shown in the ask colour).
    """
    pp, qp = price_places(market), quantity_places(market)
    rows = [
        {
            "price": fixed(t.price, pp),
            "quantity": fixed(t.quantity, qp),
            "time": utc_time(t.timestamp),
            "side": "ask" if t.is_buyer_maker else "bid",
            "id": "" if t.id is None else t.id,
        }
        for t in list(trades)[:MAX_TRADES]
    ]
    return render_to_string(
        "trading/partials/trades.html", {"market": market, "rows": rows, "oob": _oob(oob)}
    )


def market_stats_html(
    market: Market,
    *,
    ticker: Ticker | None = None,
    mark: MarkPrice | None = None,
    book: OrderBook | None = None,
    oob: bool = True,
) -> str:
    """The statistics region ``stats-{symbol}``: best bid/ask (when a book is given), last
    price, 24 h change and volume; mark and index price, funding rate and next funding time for
    perpetuals."""
    pp = price_places(market)
    best_bid = book.best_bid() if book is not None else None
    best_ask = book.best_ask() if book is not None else None
    change = ticker.price_change_percent if ticker else None
    context = {
        "market": market,
        "oob": _oob(oob),
        "perp": market.is_perp,
        "best_bid": fixed(best_bid[0], pp) if best_bid else DASH,
        "best_ask": fixed(best_ask[0], pp) if best_ask else DASH,
        "last": fixed(ticker.last_price, pp) if ticker else DASH,
        "change": percent(change) if change is not None else DASH,
        "change_class": "" if not change else ("bid" if change > 0 else "ask"),
        "high": fixed(ticker.high, pp) if ticker else DASH,
        "low": fixed(ticker.low, pp) if ticker else DASH,
        "volume": fixed(ticker.volume, quantity_places(market)) if ticker else DASH,
        "quote_volume": usdc(ticker.quote_volume) if ticker else DASH,
        "mark": fixed(mark.mark_price, pp) if mark else DASH,
        "index": fixed(mark.index_price, pp) if mark and mark.index_price is not None else DASH,
        "funding": percent(mark.funding_rate, 4)
        if mark and mark.funding_rate is not None
        else DASH,
        "next_funding": utc_time(mark.next_funding_timestamp, with_date=True)
        if mark and mark.next_funding_timestamp
        else DASH,
    }
    return render_to_string("trading/partials/stats.html", context)


def kline_point(kline: Kline) -> dict[str, Any]:
    """A candle as the chart reads it: epoch seconds and decimals as plain strings."""
    return {
        "time": int(kline.start.timestamp()),
        "open": plain(kline.open) if kline.open is not None else None,
        "high": plain(kline.high) if kline.high is not None else None,
        "low": plain(kline.low) if kline.low is not None else None,
        "close": plain(kline.close) if kline.close is not None else None,
        "volume": plain(kline.volume),
    }


def kline_html(market: Market, kline: Kline, interval: str, *, oob: bool = True) -> str:
    """The hidden region ``kline-{symbol}`` carrying one candle as data-* attributes; the
    page's chart script picks it up after each swap and updates the series."""
    context = {
        "market": market,
        "oob": _oob(oob),
        "interval": interval,
        "point": kline_point(kline),
    }
    return render_to_string("trading/partials/kline.html", context)


# -- account regions -------------------------------------------------------------------------


Markets = Mapping[str, Market]


def _price(value: Decimal | None, market: Market | None) -> str:
    """With the market's tick decimals; as the exchange sent it when the market is unknown."""
    return price(value, market) if market is not None else plain(value)


def _quantity(value: Decimal | None, market: Market | None) -> str:
    return quantity(value, market) if market is not None else plain(value)


def order_row(order: Order, market: Market | None = None) -> dict[str, Any]:
    """One order as the tables show it (plain strings): price and quantities by `market`'s
    tick and step."""
    filled = order.executed_quantity
    return {
        "id": order.id,
        "symbol": order.symbol,
        "side": order.side.value,
        "side_class": "bid" if order.side.value == "Bid" else "ask",
        "type": order.order_type.value,
        "price": _price(order.price, market) if order.price is not None else "market",
        "quantity": _quantity(order.quantity, market),
        "filled": _quantity(filled, market),
        "status": order.status.value,
        "tif": order.time_in_force.value if order.time_in_force else "",
        "flags": " ".join(
            flag
            for flag, on in (("post-only", order.post_only), ("reduce-only", order.reduce_only))
            if on
        ),
        "created": utc_time(order.created_at, with_date=True) if order.created_at else DASH,
    }


def fill_row(fill: Fill, market: Market | None = None) -> dict[str, Any]:
    """One fill as the history table shows it: price and quantity by `market`'s tick and
    step, the fee as charged."""
    return {
        "time": utc_time(fill.timestamp, with_date=True),
        "symbol": fill.symbol,
        "side": fill.side.value,
        "side_class": "bid" if fill.side.value == "Bid" else "ask",
        "price": _price(fill.price, market),
        "quantity": _quantity(fill.quantity, market),
        "fee": f"{plain(fill.fee)} {fill.fee_symbol}",
        "maker": "maker" if fill.is_maker else "taker",
        "order_id": fill.order_id,
    }


def open_orders_html(
    subaccount: Any,
    orders: Sequence[Order],
    *,
    can_trade: bool,
    error: str = "",
    symbol: str = "",
    markets: Markets | None = None,
    oob: bool = True,
) -> str:
    """The open orders region ``open-orders-{pk}`` of one subaccount; cancel buttons (and
    cancel-all) only when `can_trade`. `symbol` limits the rows to one market (market page);
    `error` replaces the table with the reason the orders could not be read. `markets` (by
    symbol) gives each row its tick and step decimals."""
    markets = markets or {}
    shown = [o for o in orders if not symbol or o.symbol == symbol]
    context = {
        "subaccount": subaccount,
        "rows": [order_row(o, markets.get(o.symbol)) for o in shown],
        "can_trade": can_trade,
        "error": error,
        "symbol": symbol,
        "oob": _oob(oob),
    }
    return render_to_string("trading/partials/open_orders.html", context)


def position_row(
    position: Position, market: Market | None = None, *, liquidation: Decimal | None = None
) -> dict[str, Any]:
    """One position as the table shows it (plain strings): prices with `market`'s tick
    decimals, the size with its step decimals, notional and PnL in USDC."""
    size = position.net_quantity
    pnl = position.pnl_unrealized
    exchange_liq = position.est_liquidation_price
    return {
        "symbol": position.symbol,
        "side": "Long" if size > 0 else "Short",
        "side_class": "bid" if size > 0 else "ask",
        "size": _quantity(abs(size), market),
        "entry": _price(position.entry_price, market),
        "mark": _price(position.mark_price, market),
        "notional": usdc(position.net_exposure_notional),
        "liquidation": _price(liquidation, market),
        "exchange_liquidation": _price(exchange_liq, market) if exchange_liq else DASH,
        "pnl": usdc(pnl),
        "pnl_class": "bid" if pnl > 0 else ("ask" if pnl < 0 else ""),
        "realized": usdc(position.pnl_realized),
    }


def positions_html(
    subaccount: Any,
    positions: Sequence[Position],
    *,
    can_trade: bool,
    liquidations: Mapping[str, Decimal | None] | None = None,
    error: str = "",
    markets: Markets | None = None,
    oob: bool = True,
) -> str:
    """The positions region ``positions-{pk}`` of one subaccount; a close button (a
    reduce-only market order) on each row only when `can_trade`. `liquidations` maps symbol to
    the desk's own liquidation estimate (see `selectors.liquidation_price`); `markets` (by
    symbol) gives each row its tick and step decimals."""
    liquidations = liquidations or {}
    markets = markets or {}
    rows = [
        position_row(p, markets.get(p.symbol), liquidation=liquidations.get(p.symbol))
        for p in positions
        if p.net_quantity != 0
    ]
    context = {
        "subaccount": subaccount,
        "rows": rows,
        "can_trade": can_trade,
        "error": error,
        "oob": _oob(oob),
    }
    return render_to_string("trading/partials/positions.html", context)


_EVENT_WORDS = {
    "orderAccepted": "accepted",
    "orderCancelled": "cancelled",
    "orderExpired": "expired",
    "orderFill": "filled",
    "orderModified": "modified",
    "triggerPlaced": "trigger placed",
    "triggerFailed": "trigger failed",
    "positionOpened": "position opened",
    "positionAdjusted": "position adjusted",
    "positionClosed": "position closed",
}


def _event_field(event: Any, wire: str, attribute: str) -> Any:
    if isinstance(event, Mapping):
        return event.get(wire)
    return getattr(event, attribute, None)


def _dec_text(value: Any) -> str:
    if value is None or value == "":
        return ""
    number = as_decimal(value)
    return str(value) if number is None else plain(number)


def account_event_html(subaccount: Any, event: Any) -> str:
    """One row for the account events feed ``account-events`` (``hx-swap-oob="afterbegin"``
    puts it on top). `event` is an order or position update, either the stream payload
    (``{"e":"orderFill","s":"SOL_USDC","S":"Bid","l":"0.5","L":"150.1","i":"111",...}``) or an
    object with the same meaning as attributes (event_type, symbol, side, fill_quantity,
    fill_price, quantity, price, order_id, event_time)."""
    kind = _event_field(event, "e", "event_type") or ""
    kind = getattr(kind, "value", kind)
    when = _event_field(event, "E", "event_time")
    if isinstance(when, str) and when.isdigit():
        when = int(when)
    if str(kind).startswith("position"):
        return _position_event_html(subaccount, event, str(kind), when)
    fill_qty = _event_field(event, "l", "fill_quantity")
    row = {
        "kind": _EVENT_WORDS.get(str(kind), str(kind) or "update"),
        "event_type": str(kind),
        "symbol": _event_field(event, "s", "symbol") or "",
        "side": getattr(_event_field(event, "S", "side"), "value", _event_field(event, "S", "side"))
        or "",
        "quantity": _dec_text(fill_qty) or _dec_text(_event_field(event, "q", "quantity")),
        "price": _dec_text(_event_field(event, "L", "fill_price"))
        or _dec_text(_event_field(event, "p", "price")),
        "order_id": _event_field(event, "i", "order_id") or "",
        "time": utc_time(when) if isinstance(when, int | datetime) else utc_time(None),
    }
    row["side_class"] = "bid" if row["side"] in ("Bid", "Long") else "ask"
    return render_to_string(
        "trading/partials/account_event.html", {"subaccount": subaccount, "row": row}
    )


def _position_event_html(subaccount: Any, event: Any, kind: str, when: Any) -> str:
    """A position update (``{"e":"positionOpened","s":..,"q":"-2","B":"95",...}``): the side
    follows the sign of the net quantity; the price shown is the entry price."""
    raw = _event_field(event, "q", "net_quantity")
    size = as_decimal(raw)
    side = "" if not size else ("Long" if size > 0 else "Short")
    row = {
        "kind": _EVENT_WORDS.get(kind, kind),
        "event_type": kind,
        "symbol": _event_field(event, "s", "symbol") or "",
        "side": side,
        "side_class": "bid" if side == "Long" else "ask",
        "quantity": plain(abs(size)) if size else "",
        "price": _dec_text(_event_field(event, "B", "entry_price")) if size else "",
        "order_id": "",
        "time": utc_time(when) if isinstance(when, int | datetime) else utc_time(None),
    }
    return render_to_string(
        "trading/partials/account_event.html", {"subaccount": subaccount, "row": row}
    )


# -- team balances (owned by the balances helper) -------------------------------------------


def balances_html(subaccount: Any, view: Any, *, oob: bool | str = True) -> str:
    """The balances block ``balances-{pk}`` of one subaccount: assets valued in USDC, the perp
    margin summary, equity sparklines, low-balance highlights, or the read error (never zeros).
    `view` is a ``trading.balances.readmodel.SubaccountBalances`` (``balances_view_for``)."""
    from trading.balances.render import block_context

    block = block_context(view)
    context = {"view": block, "sparklines": block["sparklines"], "oob": _oob(oob)}
    return render_to_string("trading/partials/balances_subaccount.html", context)
