"""Every live region of the trading pages, rendered by one function each.

Views use these functions for the first render and the relay uses them for every update, so a
region looks the same however it arrives (see /work/notes/relay-contract.md). They are plain
synchronous functions: data in, HTML out; they never query the database or the exchange.

By default the root element carries ``hx-swap-oob="true"`` (what the relay and the htmx action
responses send); views pass ``oob=False`` when the fragment is part of a full page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.template.loader import render_to_string

from trading.backpack import Kline, Market, MarkPrice, Order, Position, Ticker, Trade
from trading.backpack.book import OrderBook

DASH = "–"
MAX_TRADES = 40


# -- number formatting ----------------------------------------------------------------------


def places_of(step: Decimal | None) -> int:
    """How many decimals a tick or step size has (0.01 -> 2, 1 -> 0, 10 -> 0)."""
    if step is None or not step.is_finite() or step <= 0:
        return 2
    exponent = step.normalize().as_tuple().exponent
    return max(0, -int(exponent))


def fmt(value: Decimal | None, places: int) -> str:
    """A Decimal as plain text with exactly `places` decimals (never exponent notation)."""
    if value is None:
        return DASH
    try:
        return format(value.quantize(Decimal(1).scaleb(-places)), "f")
    except InvalidOperation:
        return format(value, "f")


def fmt_plain(value: Decimal | None) -> str:
    """A Decimal as plain text without trailing zeros after the point."""
    if value is None:
        return DASH
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def fmt_percent(fraction: Decimal | None, places: int = 2) -> str:
    """0.0123 -> '+1.23%'."""
    if fraction is None:
        return DASH
    value = fraction * 100
    sign = "+" if value > 0 else ""
    return f"{sign}{fmt(value, places)}%"


def fmt_time(value: datetime | int | None, *, with_date: bool = False) -> str:
    """A UTC time (datetime, epoch ms or µs) as HH:MM:SS (optionally with the date)."""
    if value is None:
        return DASH
    if isinstance(value, int):
        seconds = value / 1_000_000 if value > 10**14 else value / 1000
        value = datetime.fromtimestamp(seconds, UTC)
    pattern = "%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S"
    return value.astimezone(UTC).strftime(pattern)


def price_places(market: Market) -> int:
    return places_of(market.tick_size)


def quantity_places(market: Market) -> int:
    return places_of(market.step_size)


def is_perp(market: Market) -> bool:
    """True for perpetual futures markets."""
    return str(market.market_type.value).upper() in ("PERP", "IPERP")


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
    pp, qp = price_places(market), quantity_places(market)
    for price, quantity in levels:
        running += quantity
        pct = (running / max_total * 100) if max_total > 0 else Decimal(0)
        rows.append(BookRow(fmt(price, pp), fmt(quantity, qp), fmt(running, qp), fmt(pct, 1)))
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
        "best_bid": fmt(best_bid[0], pp) if best_bid else DASH,
        "best_ask": fmt(best_ask[0], pp) if best_ask else DASH,
        "spread": fmt(spread, pp) if spread is not None else DASH,
        "spread_pct": fmt_percent(spread_pct, 3) if spread_pct is not None else "",
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
            "price": fmt(t.price, pp),
            "quantity": fmt(t.quantity, qp),
            "time": fmt_time(t.timestamp),
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
        "perp": is_perp(market),
        "best_bid": fmt(best_bid[0], pp) if best_bid else DASH,
        "best_ask": fmt(best_ask[0], pp) if best_ask else DASH,
        "last": fmt(ticker.last_price, pp) if ticker else DASH,
        "change": fmt_percent(change) if change is not None else DASH,
        "change_class": "" if not change else ("bid" if change > 0 else "ask"),
        "high": fmt(ticker.high, pp) if ticker else DASH,
        "low": fmt(ticker.low, pp) if ticker else DASH,
        "volume": fmt(ticker.volume, quantity_places(market)) if ticker else DASH,
        "quote_volume": fmt(ticker.quote_volume, 2) if ticker else DASH,
        "mark": fmt(mark.mark_price, pp) if mark else DASH,
        "index": fmt(mark.index_price, pp) if mark and mark.index_price is not None else DASH,
        "funding": fmt_percent(mark.funding_rate, 4)
        if mark and mark.funding_rate is not None
        else DASH,
        "next_funding": fmt_time(mark.next_funding_timestamp, with_date=True)
        if mark and mark.next_funding_timestamp
        else DASH,
    }
    return render_to_string("trading/partials/stats.html", context)


def kline_point(kline: Kline) -> dict[str, Any]:
    """A candle as the chart reads it: epoch seconds and decimals as plain strings."""
    return {
        "time": int(kline.start.timestamp()),
        "open": fmt_plain(kline.open) if kline.open is not None else None,
        "high": fmt_plain(kline.high) if kline.high is not None else None,
        "low": fmt_plain(kline.low) if kline.low is not None else None,
        "close": fmt_plain(kline.close) if kline.close is not None else None,
        "volume": fmt_plain(kline.volume),
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


def order_row(order: Order) -> dict[str, Any]:
    """One open order as the tables show it (plain strings)."""
    filled = order.executed_quantity
    return {
        "id": order.id,
        "symbol": order.symbol,
        "side": order.side.value,
        "side_class": "bid" if order.side.value == "Bid" else "ask",
        "type": order.order_type.value,
        "price": fmt_plain(order.price) if order.price is not None else "market",
        "quantity": fmt_plain(order.quantity) if order.quantity is not None else DASH,
        "filled": fmt_plain(filled),
        "status": order.status.value,
        "tif": order.time_in_force.value if order.time_in_force else "",
        "flags": " ".join(
            flag
            for flag, on in (("post-only", order.post_only), ("reduce-only", order.reduce_only))
            if on
        ),
        "created": fmt_time(order.created_at, with_date=True) if order.created_at else DASH,
    }


def open_orders_html(
    subaccount: Any,
    orders: Sequence[Order],
    *,
    can_trade: bool,
    error: str = "",
    symbol: str = "",
    oob: bool = True,
) -> str:
    """The open orders region ``open-orders-{pk}`` of one subaccount; cancel buttons (and
    cancel-all) only when `can_trade`. `symbol` limits the rows to one market (market page);
    `error` replaces the table with the reason the orders could not be read."""
    shown = [o for o in orders if not symbol or o.symbol == symbol]
    context = {
        "subaccount": subaccount,
        "rows": [order_row(o) for o in shown],
        "can_trade": can_trade,
        "error": error,
        "symbol": symbol,
        "oob": _oob(oob),
    }
    return render_to_string("trading/partials/open_orders.html", context)


def position_row(position: Position, *, liquidation: Decimal | None = None) -> dict[str, Any]:
    """One position as the table shows it (plain strings)."""
    size = position.net_quantity
    pnl = position.pnl_unrealized
    exchange_liq = position.est_liquidation_price
    return {
        "symbol": position.symbol,
        "side": "Long" if size > 0 else "Short",
        "side_class": "bid" if size > 0 else "ask",
        "size": fmt_plain(abs(size)),
        "entry": fmt_plain(position.entry_price),
        "mark": fmt_plain(position.mark_price),
        "notional": fmt(position.net_exposure_notional, 2),
        "liquidation": fmt(liquidation, 2) if liquidation is not None else DASH,
        "exchange_liquidation": fmt_plain(exchange_liq) if exchange_liq else DASH,
        "pnl": fmt(pnl, 2),
        "pnl_class": "bid" if pnl > 0 else ("ask" if pnl < 0 else ""),
        "realized": fmt(position.pnl_realized, 2),
    }


def positions_html(
    subaccount: Any,
    positions: Sequence[Position],
    *,
    can_trade: bool,
    liquidations: Mapping[str, Decimal | None] | None = None,
    error: str = "",
    oob: bool = True,
) -> str:
    """The positions region ``positions-{pk}`` of one subaccount; a close button (a
    reduce-only market order) on each row only when `can_trade`. `liquidations` maps symbol to
    the desk's own liquidation estimate (see `selectors.liquidation_price`)."""
    liquidations = liquidations or {}
    rows = [
        position_row(p, liquidation=liquidations.get(p.symbol))
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
    try:
        return fmt_plain(Decimal(str(value)))
    except InvalidOperation:
        return str(value)


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
        "time": fmt_time(when) if isinstance(when, int | datetime) else fmt_time(None),
    }
    row["side_class"] = "bid" if row["side"] in ("Bid", "Long") else "ask"
    return render_to_string(
        "trading/partials/account_event.html", {"subaccount": subaccount, "row": row}
    )


def _position_event_html(subaccount: Any, event: Any, kind: str, when: Any) -> str:
    """A position update (``{"e":"positionOpened","s":..,"q":"-2","B":"95",...}``): the side
    follows the sign of the net quantity; the price shown is the entry price."""
    raw = _event_field(event, "q", "net_quantity")
    try:
        size = Decimal(str(raw)) if raw not in (None, "") else None
    except InvalidOperation:
        size = None
    side = "" if not size else ("Long" if size > 0 else "Short")
    row = {
        "kind": _EVENT_WORDS.get(kind, kind),
        "event_type": kind,
        "symbol": _event_field(event, "s", "symbol") or "",
        "side": side,
        "side_class": "bid" if side == "Long" else "ask",
        "quantity": fmt_plain(abs(size)) if size else "",
        "price": _dec_text(_event_field(event, "B", "entry_price")) if size else "",
        "order_id": "",
        "time": fmt_time(when) if isinstance(when, int | datetime) else fmt_time(None),
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
