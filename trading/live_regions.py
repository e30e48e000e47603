"""Every live region of the trading pages, rendered from its partial by one function each.

Views use these functions for the first render and the relay for every update, so a region
looks the same however it arrives. They are plain synchronous functions: data in, HTML out;
they never query the database or the exchange. Rows come from `trading.rows`, numbers are
formatted by `trading.formatting`.

By default the root element carries ``hx-swap-oob="true"`` (what the relay and the htmx action
responses send); views pass ``oob=False`` when the fragment is part of a full page.

`account_live_regions` is the one renderer of a subaccount's regions (open orders, positions,
balances) from an `AccountState` (`trading.selectors.account`), for the market page's first
load and every relay push alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.template import engines
from django.template.loader import render_to_string

from trading.backpack import Kline, Market, MarkPrice, Order, Position, Ticker, Trade
from trading.backpack.book import OrderBook
from trading.balances.render import block_context
from trading.formatting import DASH, fixed, percent, price_places, quantity_places, usdc, utc_time
from trading.rows import (
    Markets,
    account_event_row,
    book_rows,
    exit_rows,
    kline_point,
    order_row,
    position_row,
    trade_rows,
)
from trading.selectors.access import AccessChange
from trading.selectors.account import AccountState


def _oob(oob: bool | str) -> str:
    if oob is True:
        return "true"
    return oob or ""


@dataclass(frozen=True)
class Region:
    """A live region: its partial and the context it is rendered with. Pages include it
    with ``{% live_region region %}`` (``trading/templatetags/regions.py``); the relay and
    htmx answers send `render()`: the same partial either way."""

    template: str
    context: dict[str, Any]
    engine: str = "django"  # "jinja2": the market regions the relay renders most (trading/jinja.py)

    def render(self) -> str:
        return engines[self.engine].get_template(self.template).render(self.context)


# -- market regions --------------------------------------------------------------------------


def book_region(market: Market, book: OrderBook, *, levels: int = 20, oob: bool = True) -> Region:
    """The order book region ``book-{symbol}``: `levels` per side with cumulative depth bars.

    Asks are listed highest first so the best ask sits just above the spread line and the best
    bid just below it; each price carries ``data-price`` for the ticket's click-to-fill.
    """
    bids, asks = book.top(levels)
    cumulative_bids = sum((q for _, q in bids), Decimal(0))
    cumulative_asks = sum((q for _, q in asks), Decimal(0))
    max_total = max(cumulative_bids, cumulative_asks)
    ask_rows = list(reversed(book_rows(asks, market, max_total)))
    bid_rows = book_rows(bids, market, max_total)
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
    return Region("trading/partials/book.html", context, engine="jinja2")


def book_html(market: Market, book: OrderBook, *, levels: int = 20, oob: bool = True) -> str:
    """`book_region`, rendered."""
    return book_region(market, book, levels=levels, oob=oob).render()


def trades_region(market: Market, trades: Sequence[Trade], *, oob: bool = True) -> Region:
    """The recent trades region ``trades-{symbol}``, newest first."""
    rows = trade_rows(market, trades)
    return Region(
        "trading/partials/trades.html",
        {"market": market, "rows": rows, "oob": _oob(oob)},
        engine="jinja2",
    )


def trades_html(market: Market, trades: Sequence[Trade], *, oob: bool = True) -> str:
    """`trades_region`, rendered."""
    return trades_region(market, trades, oob=oob).render()


def market_stats_region(
    market: Market,
    *,
    ticker: Ticker | None = None,
    mark: MarkPrice | None = None,
    book: OrderBook | None = None,
    oob: bool = True,
) -> Region:
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
    return Region("trading/partials/stats.html", context, engine="jinja2")


def market_stats_html(
    market: Market,
    *,
    ticker: Ticker | None = None,
    mark: MarkPrice | None = None,
    book: OrderBook | None = None,
    oob: bool = True,
) -> str:
    """`market_stats_region`, rendered."""
    return market_stats_region(market, ticker=ticker, mark=mark, book=book, oob=oob).render()


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


def open_orders_region(
    subaccount: Any,
    orders: Sequence[Order],
    *,
    can_trade: bool,
    error: str = "",
    symbol: str = "",
    markets: Markets | None = None,
    oob: bool = True,
    senders: Mapping[str, str] | None,
) -> Region:
    """The open orders region ``open-orders-{pk}`` of one subaccount; cancel buttons (and
    cancel-all) only when `can_trade`. `symbol` limits the rows to one market (market page);
    `error` replaces the table with the reason the orders could not be read. `markets` (by
    symbol) gives each row its tick and step decimals; `senders` (by order id) who sent it
    (`selectors.order_senders`). Every caller passes `senders` (None only with no orders):
    a row without its sender shows "–", which says the order was sent outside the desk."""
    markets = markets or {}
    senders = senders or {}
    shown = [o for o in orders if not symbol or o.symbol == symbol]
    context = {
        "subaccount": subaccount,
        "rows": [order_row(o, markets.get(o.symbol), by=senders.get(o.id, "")) for o in shown],
        "can_trade": can_trade,
        "error": error,
        "symbol": symbol,
        "oob": _oob(oob),
    }
    return Region("trading/partials/open_orders.html", context)


def open_orders_html(
    subaccount: Any,
    orders: Sequence[Order],
    *,
    can_trade: bool,
    error: str = "",
    symbol: str = "",
    markets: Markets | None = None,
    oob: bool = True,
    senders: Mapping[str, str] | None,
) -> str:
    """`open_orders_region`, rendered."""
    return open_orders_region(
        subaccount,
        orders,
        can_trade=can_trade,
        error=error,
        symbol=symbol,
        markets=markets,
        oob=oob,
        senders=senders,
    ).render()


def positions_region(
    subaccount: Any,
    positions: Sequence[Position],
    *,
    can_trade: bool,
    liquidations: Mapping[str, Decimal | None] | None = None,
    error: str = "",
    markets: Markets | None = None,
    orders: Sequence[Order] | None = None,
    oob: bool = True,
) -> Region:
    """The positions region ``positions-{pk}`` of one subaccount; a close button (a
    reduce-only market order) and the take-profit / stop-loss controls (set, move, remove)
    on each row only when `can_trade`. `liquidations` maps symbol to the desk's own
    liquidation estimate (see `selectors.liquidation_price`); `markets` (by symbol) gives each
    row its tick and step decimals; `orders` are the subaccount's open orders, where each
    position's exits are found (`trading.rows.exit_rows`)."""
    liquidations = liquidations or {}
    markets = markets or {}
    rows = []
    for p in positions:
        if p.net_quantity == 0:
            continue
        market = markets.get(p.symbol)
        row = position_row(p, market, liquidation=liquidations.get(p.symbol))
        row["exits"] = exit_rows(p, orders or (), market)
        rows.append(row)
    context = {
        "subaccount": subaccount,
        "rows": rows,
        "can_trade": can_trade,
        "error": error,
        "oob": _oob(oob),
    }
    return Region("trading/partials/positions.html", context)


def positions_html(
    subaccount: Any,
    positions: Sequence[Position],
    *,
    can_trade: bool,
    liquidations: Mapping[str, Decimal | None] | None = None,
    error: str = "",
    markets: Markets | None = None,
    orders: Sequence[Order] | None = None,
    oob: bool = True,
) -> str:
    """`positions_region`, rendered."""
    return positions_region(
        subaccount,
        positions,
        can_trade=can_trade,
        liquidations=liquidations,
        error=error,
        markets=markets,
        orders=orders,
        oob=oob,
    ).render()


@dataclass(frozen=True)
class AccountRegions:
    """One subaccount's regions: open orders, positions, and balances (None when they could
    not be read: the block already on the page stays)."""

    open_orders: Region
    positions: Region
    balances: Region | None = None

    def all(self) -> list[Region]:
        return [r for r in (self.open_orders, self.positions, self.balances) if r is not None]


def account_live_regions(
    state: AccountState, *, can_trade: bool, balances: bool = True, oob: bool = True
) -> AccountRegions:
    """The one renderer of a subaccount's live regions from its `AccountState`: the market
    page's first load and every relay push (one variant per role) go through here.
    `balances=False` leaves the balances block out (it does not depend on the role)."""
    sub = state.subaccount
    open_orders = open_orders_region(
        sub,
        state.orders,
        can_trade=can_trade,
        error=state.orders_error,
        markets=state.markets,
        oob=oob,
        senders=state.senders,
    )
    positions = positions_region(
        sub,
        state.positions,
        can_trade=can_trade,
        liquidations=state.liquidations,
        error=state.positions_error,
        markets=state.markets,
        orders=state.orders,
        oob=oob,
    )
    block = None
    if balances and state.balances is not None:
        block = balances_region(sub, state.balances, oob=oob)
    return AccountRegions(open_orders, positions, block)


def access_lost_html(subaccount_id: int, name: str) -> str:
    """What replaces a subaccount's regions on every live page once the user may no longer
    see it: a note ("You no longer have access to <name>.") in place of the element marked
    ``data-subaccount-region="<pk>"``, and its rows gone from the account events feed."""
    return render_to_string(
        "trading/partials/access_lost.html", {"subaccount_id": int(subaccount_id), "name": name}
    )


def access_refresh_html(target: str) -> str:
    """A piece that has the page element matching `target` fetched again from the page's own
    view, as the user's role now renders it: see `subaccount_refresh_html`,
    `subaccount_list_refresh_html` and `trading_controls_refresh_html`."""
    return render_to_string("trading/partials/access_refresh.html", {"target": target})


def subaccount_refresh_html(subaccount_id: int) -> str:
    """The user's role on the subaccount changed: each page's block of it (the element marked
    ``data-subaccount-region="<pk>"``) comes again with the buttons the role has (cancel,
    cancel-all, close, exits) or without them."""
    return access_refresh_html(f"[data-subaccount-region='{int(subaccount_id)}']")


def subaccount_list_refresh_html() -> str:
    """The user may see a subaccount more: each page's list of subaccount blocks (the element
    marked ``data-subaccount-regions``) comes again, the new one in it."""
    return access_refresh_html("[data-subaccount-regions]")


def trading_controls_refresh_html(scope: int | str) -> str:
    """The subaccounts the user may trade changed: the controls that send orders come again
    for the roles now. `scope` "any" is the market page's order ticket (it lists every
    subaccount the user trades); a subaccount's id, the controls of that subaccount's own
    pages (the ladder and TWAP forms, or for a viewer why not in their place: the element is
    on those pages in both roles, see `trading.views.trader.trader_page`)."""
    key = scope if scope == "any" else int(scope)
    return access_refresh_html(f"[data-trading-controls='{key}']")


def access_change_pieces(change: AccessChange, names: Mapping[int, str]) -> list[tuple[str, str]]:
    """What an open page gets when the user's memberships change, as (kind, html) pieces for
    the account socket: a lost subaccount's note (`names` has the lost ones' names), a
    refresh of each subaccount whose role changed, of the lists when one was gained, and of
    the trading controls when the subaccounts the user may trade changed. The kind is the
    same for the pieces that replace each other (the newest one is enough)."""
    pieces = [
        (f"access:{pk}", access_lost_html(pk, names.get(pk, "this subaccount")))
        for pk in sorted(change.lost)
    ]
    pieces += [(f"access:{pk}", subaccount_refresh_html(pk)) for pk in sorted(change.role_changed)]
    if change.gained:
        pieces.append(("access:list", subaccount_list_refresh_html()))
    for pk in sorted(change.trading_changed - change.lost):
        pieces.append((f"controls:{pk}", trading_controls_refresh_html(pk)))
    if change.trading_changed:
        pieces.append(("controls:any", trading_controls_refresh_html("any")))
    return pieces


def account_event_html(subaccount: Any, event: Any, markets: Any = None) -> str:
    """One row for the account events feed ``account-events`` (``hx-swap-oob="afterbegin"``
    puts it on top); `event` and `markets` as `trading.rows.account_event_row` reads them."""
    return render_to_string(
        "trading/partials/account_event.html",
        {"subaccount": subaccount, "row": account_event_row(event, markets)},
    )


def balances_region(subaccount: Any, view: Any, *, oob: bool | str = True) -> Region:
    """The balances block ``balances-{pk}`` of one subaccount: assets valued in USDC, the perp
    margin summary, equity sparklines, low-balance highlights, or the read error (never zeros).
    `view` is a ``trading.balances.readmodel.SubaccountBalances`` (``balances_view_for``)."""
    block = block_context(view)
    context = {"view": block, "sparklines": block["sparklines"], "oob": _oob(oob)}
    return Region("trading/partials/balances_subaccount.html", context)


def balances_html(subaccount: Any, view: Any, *, oob: bool | str = True) -> str:
    """`balances_region`, rendered."""
    return balances_region(subaccount, view, oob=oob).render()
