"""What the live regions show, as rows of plain strings: orders, fills, positions, the
book's levels, trades, candles and account events.

Pure functions from the exchange client's typed objects to dicts the partials read; numbers
are formatted by `trading.formatting` (the one rule). `trading.live_regions` renders them.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from trading.backpack import Fill, Kline, Market, Order, Position, Side, Trade
from trading.backpack.account_events import AccountEvent, PositionEvent, account_event_from_stream
from trading.backpack.book import OrderBook
from trading.backpack.errors import MalformedResponseError
from trading.formatting import (
    DASH,
    USDC_PLACES,
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


@dataclass(frozen=True)
class BookRow:
    price: str
    quantity: str
    total: str
    depth_pct: str


def book_rows(
    levels: Sequence[tuple[Decimal, Decimal]], market: Market, max_total: Decimal
) -> list[BookRow]:
    rows = []
    running = Decimal(0)
    pp, qp = price_places(market), quantity_places(market)  # once, not per level
    for level_price, level_quantity in levels:
        running += level_quantity
        pct = (running / max_total * 100) if max_total > 0 else Decimal(0)
        rows.append(
            BookRow(
                fixed(level_price, pp), fixed(level_quantity, qp), fixed(running, qp), fixed(pct, 1)
            )
        )
    return rows


def book_from_depth(depth: Any) -> OrderBook:
    """A local order book loaded from a REST depth snapshot (first render)."""
    book = OrderBook(depth.symbol)
    book.load_snapshot(depth.bids, depth.asks, depth.last_update_id)
    return book


def trade_rows(market: Market, trades: Sequence[Trade]) -> list[Mapping[str, Any]]:
    """The recent trades as the table shows them, newest first (at most MAX_TRADES).

    A trade whose buyer was the maker was a sell by the taker (shown in the ask colour).
    """
    pp, qp = price_places(market), quantity_places(market)
    return [_trade_row(t, pp, qp) for t in list(trades)[:MAX_TRADES]]


@functools.lru_cache(maxsize=4096)
def _trade_row(t: Trade, pp: int, qp: int) -> Mapping[str, Any]:
    """One trade's row. A trade never changes, and the relay renders a market's forty newest
    up to ten times a second: each is formatted once (kept read-only, shared by renders)."""
    return MappingProxyType(
        {
            "price": fixed(t.price, pp),
            "quantity": fixed(t.quantity, qp),
            "time": utc_time(t.timestamp),
            "side": "ask" if t.is_buyer_maker else "bid",
            "id": "" if t.id is None else t.id,
        }
    )


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


Markets = Mapping[str, Market]


def price_text(value: Decimal | None, market: Market | None) -> str:
    """With the market's tick decimals; as the exchange sent it when the market is unknown."""
    return price(value, market) if market is not None else plain(value)


def quantity_text(value: Decimal | None, market: Market | None) -> str:
    return quantity(value, market) if market is not None else plain(value)


def _order_size(order: Order, market: Market | None) -> str:
    """The order's size: its quantity, or a trigger order's ``triggerQuantity`` (an amount,
    or a percent of the position when it fires) while it waits off the book."""
    if order.quantity is not None:
        return quantity_text(order.quantity, market)
    if order.trigger_quantity is not None:
        return quantity_text(order.trigger_quantity, market)
    if order.trigger_percent is not None:
        return f"{share_text(order.trigger_percent)} of position"
    return DASH


def _order_kind(order: Order, market: Market | None) -> tuple[str, str, str]:
    """(type, trigger, the whole description): "Limit", "" and "Limit GTC" for a plain
    order; "Stop limit", "trigger 170.00" and "Stop limit GTC, trigger 170.00" for a stop."""
    kind = order.order_type.value
    trigger = ""
    if order.trigger_price is not None:
        kind = f"Stop {kind.lower()}"
        trigger = f"trigger {price_text(order.trigger_price, market)}"
    tif = order.time_in_force.value if order.time_in_force else ""
    described = f"{kind} {tif}".strip() + (f", {trigger}" if trigger else "")
    return kind, trigger, described


def order_row(order: Order, market: Market | None = None, *, by: str = "") -> dict[str, Any]:
    """One order as the tables show it (plain strings): price and quantities by `market`'s
    tick and step; `by`: the member who sent it through the desk (a dash when unknown).
    `kind` is its type as a trader reads it (a stop names its trigger price)."""
    filled = order.executed_quantity
    kind, trigger, described = _order_kind(order, market)
    return {
        "id": order.id,
        "symbol": order.symbol,
        "side": order.side.value,
        "side_class": "bid" if order.side.value == "Bid" else "ask",
        "type": kind,
        "trigger": trigger,
        "kind": described,
        "price": price_text(order.price, market) if order.price is not None else "market",
        "quantity": _order_size(order, market),
        "filled": quantity_text(filled, market),
        "status": order.status.value,
        "tif": order.time_in_force.value if order.time_in_force else "",
        "flags": " ".join(
            flag
            for flag, on in (("post-only", order.post_only), ("reduce-only", order.reduce_only))
            if on
        ),
        "created": utc_time(order.created_at, with_date=True) if order.created_at else DASH,
        "by": by or DASH,
    }


def _fee_text(fee: Decimal | None, asset: str) -> str:
    """A fee on a page by its asset's rule: in USDC to the cent, as the PnL pages show fees
    ("0.20"); in another asset as charged, without trailing zeros (its size can be below any
    step). A CSV keeps every fee as charged (`trading.formatting`)."""
    if asset == "USDC":
        return fixed(fee, USDC_PLACES, grouped=True)
    return plain(fee)


def fill_row(fill: Fill, market: Market | None = None) -> dict[str, Any]:
    """One fill as the history table shows it: price and quantity by `market`'s tick and
    step, the fee by its asset's rule (`_fee_text`)."""
    return {
        "time": utc_time(fill.timestamp, with_date=True),
        "symbol": fill.symbol,
        "side": fill.side.value,
        "side_class": "bid" if fill.side.value == "Bid" else "ask",
        "price": price_text(fill.price, market),
        "quantity": quantity_text(fill.quantity, market),
        "fee": f"{_fee_text(fill.fee, fill.fee_symbol)} {fill.fee_symbol}",
        "maker": "maker" if fill.is_maker else "taker",
        "order_id": fill.order_id,
    }


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
        "size": quantity_text(abs(size), market),
        "entry": price_text(position.entry_price, market),
        "mark": price_text(position.mark_price, market),
        "notional": usdc(position.net_exposure_notional),
        "liquidation": price_text(liquidation, market),
        "exchange_liquidation": price_text(exchange_liq, market) if exchange_liq else DASH,
        "pnl": usdc(pnl),
        "pnl_class": "bid" if pnl > 0 else ("ask" if pnl < 0 else ""),
        "realized": usdc(position.pnl_realized),
    }


def share_text(trigger_percent: Decimal | None) -> str:
    """The share of the position an exit closes, a percent as the exchange holds it
    (``triggerQuantity`` "33.333333333%"), to the rule's two places: "33.33%"."""
    return percent(trigger_percent / 100 if trigger_percent is not None else None, signed=False)


def exit_words(order: Order, market: Market | None) -> str:
    """An exit as its answer states it: "at 165.00 for 50.00% of the position, closing at
    164.00" (prices on the market's tick)."""
    share = (
        f" for {share_text(order.trigger_percent)} of the position" if order.trigger_percent else ""
    )
    closing = (
        f", closing at {price_text(order.price, market)}"
        if order.price is not None
        else ", closing at market"
    )
    return f"at {price_text(order.trigger_price, market)}{share}{closing}"


def exit_rows(
    position: Position, orders: Sequence[Order], market: Market | None = None
) -> list[dict[str, Any]]:
    """The position's take-profit / stop-loss orders (reduce-only, waiting for their trigger,
    on its closing side) as the card lists them: a trigger on the profitable side of the
    mark is the take-profit, the other the stop-loss; nearest the mark first."""
    long = position.net_quantity > 0
    closing = Side.ASK if long else Side.BID
    mark = position.mark_price
    rows = []
    for order in orders:
        if not (order.symbol == position.symbol and order.reduce_only):
            continue
        if not order.is_trigger_pending or order.trigger_price is None:
            continue
        if order.side != closing:
            continue
        above = order.trigger_price > mark
        take_profit = above if long else not above
        limit = order.take_profit_limit_price if take_profit else order.stop_loss_limit_price
        limit = limit if limit is not None else order.price
        rows.append(
            {
                "order_id": order.id,
                "kind": "take_profit" if take_profit else "stop_loss",
                "label": "Take profit" if take_profit else "Stop loss",
                "trigger": price_text(order.trigger_price, market),
                "trigger_plain": plain(order.trigger_price),
                "percent": share_text(order.trigger_percent) if order.trigger_percent else "",
                "quantity": quantity_text(order.trigger_quantity, market)
                if order.trigger_quantity and not order.trigger_percent
                else "",
                "limit": price_text(limit, market) if limit is not None else "",
                "distance": abs(order.trigger_price - mark),
            }
        )
    rows.sort(key=lambda r: r["distance"])
    return rows


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


def account_event_row(
    event: Mapping[str, Any] | AccountEvent, markets: Markets | None = None
) -> dict[str, Any]:
    """One row of the account events feed ``account-events``. `event` is an order or position
    update: the stream frame (``{"e":"orderFill","s":"SOL_USDC","S":"Bid","l":"0.5",
    "L":"150.1","i":"111",...}``, read by the client's `account_event_from_stream`) or the
    event it reads. Prices and quantities with the tick and step of the event's market in
    `markets` (as the exchange sent them when it is not there). A frame that does not read
    gives a row saying so, never an exception."""
    if isinstance(event, Mapping):
        try:
            event = account_event_from_stream(dict(event))
        except MalformedResponseError as error:
            return _unreadable_event_row(event, error)
    market = (markets or {}).get(event.symbol)
    if isinstance(event, PositionEvent):
        return _position_event_row(event, market)
    side = event.side.value if event.side is not None else ""
    return {
        "kind": _EVENT_WORDS.get(event.event_type, event.event_type),
        "event_type": event.event_type,
        "symbol": event.symbol,
        "side": side,
        "side_class": "bid" if side == "Bid" else "ask",
        "quantity": _either(event.fill_quantity, event.quantity, quantity_text, market),
        "price": _either(event.fill_price, event.price, price_text, market),
        "order_id": event.order_id,
        "time": utc_time(event.event_time),
    }


def _either(
    first: Decimal | None, second: Decimal | None, shown: Any, market: Market | None
) -> str:
    """`first` (a fill's) if the event has it, else `second` (the order's), as `shown` shows
    it with `market`; empty when neither is there."""
    value = first if first is not None else second
    return "" if value is None else shown(value, market)


def _position_event_row(event: PositionEvent, market: Market | None) -> dict[str, Any]:
    """A position update (``{"e":"positionOpened","s":..,"q":"-2","B":"95",...}``): the side
    follows the sign of the net quantity; the price shown is the entry price."""
    size = event.net_quantity
    side = "" if not size else ("Long" if size > 0 else "Short")
    return {
        "kind": _EVENT_WORDS.get(event.event_type, event.event_type),
        "event_type": event.event_type,
        "symbol": event.symbol,
        "side": side,
        "side_class": "bid" if side == "Long" else "ask",
        "quantity": quantity_text(abs(size), market) if size else "",
        "price": _either(event.entry_price, None, price_text, market) if size else "",
        "order_id": "",
        "time": utc_time(event.event_time),
    }


def _unreadable_event_row(
    frame: Mapping[str, Any], error: MalformedResponseError
) -> dict[str, Any]:
    """A frame the client could not read: shown as such (which field), with its market when
    that much is readable."""
    symbol = frame.get("s") if isinstance(frame, Mapping) else None
    what = f" (field '{error.field}')" if error.field else ""
    return {
        "kind": f"unreadable update{what}",
        "event_type": "unreadable",
        "symbol": symbol if isinstance(symbol, str) else "",
        "side": "",
        "side_class": "",
        "quantity": "",
        "price": "",
        "order_id": "",
        "time": utc_time(None),
    }
