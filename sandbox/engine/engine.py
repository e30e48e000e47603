"""The exchange engine: accounts, books, matching, ledger, market data.  No I/O.

Usage (the server's side)::

    engine = Engine(markets, assets, clock=lambda: time.time_ns() // 1000)
    engine.listeners.append(forward)           # or: events = engine.drain_events()
    engine.deposit(1, "USDC", Decimal("1000"))
    order = engine.execute_order(1, {"symbol": "SOL_USDC", "side": "Bid",
                                     "orderType": "Limit", "price": "20", "quantity": "1"})
    # order is the spec's OrderType JSON: {"id": "112...", "status": "New", ...}

Commands take wire-shaped input (the JSON body / query values, decimals as strings or
Decimal) and return wire-ready dicts (decimals as plain strings, ids as strings).  A refused
command raises :class:`~sandbox.engine.errors.EngineError` and changes nothing.  Every
change produces :class:`~sandbox.engine.events.Event` objects: at the end of each command
they are passed to each callable in ``engine.listeners`` (an exception in a listener is
kept in ``engine.listener_errors``, never raised into the command) and queued for
:meth:`Engine.drain_events` (the queue is kept only while ``engine.keep_events`` is true,
the default; with no listener and ``keep_events`` false, no event is even built).

Times: the injected ``clock`` returns microseconds; stream events carry microseconds,
REST shapes milliseconds (or naive ISO datetimes where the spec says so).

The class is assembled from mixins: :mod:`.trading` (placement, matching, triggers),
:mod:`.margin` (collateral arithmetic), :mod:`.transfers` (deposits, withdrawals),
:mod:`.periodic` (funding, periodic market-data streams), :mod:`.queries` (read models),
:mod:`.strategies` (scheduled strategies, TWAP).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from decimal import Decimal, getcontext, localcontext, setcontext
from types import MappingProxyType
from typing import Any

from . import errors
from .book import OrderBook
from .errors import EngineError, bad_request, invalid_market, not_found
from .events import Event, Listener
from .ledger import Account
from .margin import MarginMixin
from .marketdata import MarketData
from .markets import CONTEXT, ZERO, Asset, Market
from .orders import TRIGGER_PENDING
from .parsing import parse_client_id, parse_decimal, parse_int_id, parse_order
from .periodic import PeriodicMixin
from .queries import QueriesMixin
from .strategies import FIRST_STRATEGY_ID, STRATEGIES_KEPT, StrategyMixin
from .strategy_types import Strategy
from .trading import TradingMixin
from .transfers import TransfersMixin

Clock = Callable[[], int]

FEE_SUBACCOUNT_ID = -1
"""The exchange's own account: every fee is credited here (so assets are conserved)."""

ORDER_BOOK_STATES = ("Open", "Closed", "CancelOnly", "LimitOnly", "PostOnly")

FIRST_ORDER_ID = 112_000_000_000_000_000
"""Order ids are large strictly increasing integers, like Backpack's."""

_CONTEXT = CONTEXT
_NO_LEVELS: Mapping[Decimal, Decimal] = MappingProxyType({})


def _levels(changed: dict[Decimal, Decimal]) -> list[list[str]]:
    if not changed:
        return []
    if len(changed) == 1:
        for price, total in changed.items():
            return [[format(price, "f"), format(total, "f")]]
    return [[format(p, "f"), format(q, "f")] for p, q in sorted(changed.items())]


def _depth_payload(
    symbol: str,
    now: int,
    first: int,
    last: int,
    bids: dict[Decimal, Decimal],
    asks: dict[Decimal, Decimal],
) -> dict[str, Any]:
    """The ``depth`` stream payload: changed levels, zero for removed ones."""
    return {
        "e": "depth",
        "E": now,
        "s": symbol,
        "a": _levels(asks),
        "b": _levels(bids),
        "U": first,
        "u": last,
        "T": now,
    }


def _book_ticker_payload(symbol: str, now: int, top: tuple, last: int) -> dict[str, Any]:
    """The ``bookTicker`` stream payload (a side is left out while it is empty)."""
    bid, bid_total, ask, ask_total = top
    data: dict[str, Any] = {"e": "bookTicker", "E": now, "s": symbol}
    if ask is not None:
        data["a"] = format(ask, "f")
        data["A"] = format(ask_total, "f")
    if bid is not None:
        data["b"] = format(bid, "f")
        data["B"] = format(bid_total, "f")
    data["u"] = str(last)
    data["T"] = now
    return data


def _system_clock() -> int:
    return time.time_ns() // 1000


class Engine(TradingMixin, MarginMixin, TransfersMixin, PeriodicMixin, QueriesMixin, StrategyMixin):
    """One exchange: numbered subaccounts, one order book per market, a ledger."""

    def __init__(
        self,
        markets: Iterable[Market],
        assets: Iterable[Asset] = (),
        *,
        clock: Clock | None = None,
        fee_subaccount_id: int = FEE_SUBACCOUNT_ID,
        collateral_symbol: str = "USDC",
    ) -> None:
        """Markets and assets as data; ``clock`` returns engine time in microseconds."""
        self.listeners: list[Listener] = []
        # (event, exception) of the latest listener failures, for the server to report
        self.listener_errors: deque[tuple[Event, Exception]] = deque(maxlen=100)
        self.keep_events = True
        self.collateral_symbol = collateral_symbol
        self._clock: Clock = clock or _system_clock
        self._now = self._clock()
        self._markets: dict[str, Market] = {}
        self._books: dict[str, OrderBook] = {}
        self._data: dict[str, MarketData] = {}
        self._triggers: dict[str, dict[int, Any]] = {}
        self._open_interest: dict[str, Decimal] = {}
        self._margin_rate: dict[str, Decimal] = {}
        self._mark: dict[str, Decimal] = {}
        self._index_price: dict[str, Decimal] = {}
        self._funding_rate: dict[str, Decimal] = {}
        self._next_funding_ms: dict[str, int] = {}
        self._funding_history: dict[str, list[dict[str, Any]]] = {}
        self._bbo: dict[str, tuple] = {}
        self._depth_stream: dict[str, str] = {}
        self._ticker_stream: dict[str, str] = {}
        self._trade_stream: dict[str, str] = {}
        for market in markets:
            if market.symbol in self._markets:
                raise ValueError(f"duplicate market {market.symbol}")
            self._markets[market.symbol] = market
            self._depth_stream[market.symbol] = f"depth.{market.symbol}"
            self._ticker_stream[market.symbol] = f"bookTicker.{market.symbol}"
            self._trade_stream[market.symbol] = f"trade.{market.symbol}"
            self._books[market.symbol] = OrderBook(market.symbol, 0)
            self._data[market.symbol] = MarketData(market.symbol)
            self._open_interest[market.symbol] = ZERO
            # initial margin per unit of exposure notional: imf plus fee headroom
            fee = max(market.taker_fee, market.maker_fee, ZERO)
            self._margin_rate[market.symbol] = market.imf + fee
            if market.is_perp:
                self._funding_rate[market.symbol] = ZERO
                interval = market.funding_interval
                now_ms = self._now // 1000
                self._next_funding_ms[market.symbol] = now_ms - now_ms % interval + interval
                self._funding_history[market.symbol] = []
        self._assets: dict[str, Asset] = {asset.symbol: asset for asset in assets}
        # collateral weights of the assets that count as collateral at all
        self._weights: dict[str, Decimal] = {
            a.symbol: a.collateral_weight for a in self._assets.values() if a.collateral_weight
        }
        if collateral_symbol not in self._assets:
            self._weights[collateral_symbol] = Decimal(1)
        self._fee_subaccount_id = fee_subaccount_id
        self._fee_account = Account(fee_subaccount_id)
        self._accounts: dict[int, Account] = {fee_subaccount_id: self._fee_account}
        self._last_order_id = FIRST_ORDER_ID
        self._last_position_id = 0
        self._last_sequence = 0  # settlements' engineSequence
        self._last_transfer_id = 0
        self._events: list[Event] = []
        self._batch: list[Event] = []
        self._touched: set[str] = set()
        # symbols whose pending triggers must be checked; a dict keeps the order fixed
        self._trigger_check: dict[str, None] = {}
        self._published_klines: dict[tuple[str, str], int] = {}
        self._running_strategies: dict[int, Strategy] = {}
        # every strategy, oldest first (capped, so a long-running sandbox stays bounded)
        self._strategy_log: deque[Strategy] = deque(maxlen=STRATEGIES_KEPT)
        self._last_strategy_id = FIRST_STRATEGY_ID
        self._emitting = True

    # ----------------------------------------------------------------- events, time
    def _begin(self) -> None:
        self._now = self._clock()
        # build events only when someone will see them
        self._emitting = self.keep_events or bool(self.listeners)

    def _finish(self) -> None:
        """End of a command: fire triggers, emit depth / bookTicker, deliver events."""
        try:
            if self._trigger_check:  # a symbol whose pending triggers must be checked
                self._run_triggers()
        finally:
            self._flush_books()
            batch = self._batch
            if batch:
                self._batch = []
                if self.keep_events:
                    self._events.extend(batch)
                for listener in self.listeners:
                    for event in batch:
                        try:
                            listener(event)
                        except Exception as error:  # noqa: BLE001 - see listener_errors
                            # the command is done: a failing listener must not make it
                            # look failed to its caller, nor starve the other listeners
                            self.listener_errors.append((event, error))

    def _flush_books(self) -> None:
        touched = self._touched
        if not touched:
            return
        now = self._now
        emitting = self._emitting
        append = self._batch.append
        for symbol in sorted(touched) if len(touched) > 1 else touched:
            book = self._books[symbol]
            first = book.first_pending_id  # book.take_changes(), inlined
            if first is None:
                continue
            last, bids, asks = book.update_id, book.changed_bids, book.changed_asks
            book.first_pending_id = None
            # a side's dict goes to the (lazily built) event: the book starts a new one,
            # and an unchanged side is handed out as a read-only empty mapping instead
            if bids:
                book.changed_bids = {}
            else:
                bids = _NO_LEVELS
            if asks:
                book.changed_asks = {}
            else:
                asks = _NO_LEVELS
            if not emitting:
                continue
            build = (_depth_payload, symbol, now, first, last, bids, asks)
            append(Event(self._depth_stream[symbol], None, symbol, None, build))
            bid_prices = book.bid_prices
            ask_prices = book.ask_prices
            bid = bid_prices[-1] if bid_prices else None
            ask = ask_prices[0] if ask_prices else None
            top = (
                bid,
                book.bid_totals[bid] if bid is not None else None,
                ask,
                book.ask_totals[ask] if ask is not None else None,
            )
            if top != self._bbo.get(symbol):
                self._bbo[symbol] = top
                build = (_book_ticker_payload, symbol, now, top, last)
                append(Event(self._ticker_stream[symbol], None, symbol, None, build))
        touched.clear()

    def drain_events(self) -> list[Event]:
        """Events produced since the last drain, oldest first."""
        events = self._events
        self._events = []
        return events

    def now_us(self) -> int:
        """Engine time in microseconds (the injected clock)."""
        return self._clock()

    # ------------------------------------------------------------ reference data
    def market(self, symbol: str) -> Market:
        """The market called ``symbol``; INVALID_MARKET if none."""
        market = self._markets.get(symbol) if isinstance(symbol, str) else None
        if market is None:
            raise invalid_market(symbol)
        return market

    def markets_wire(self, market_type: str | None = None) -> list[dict[str, Any]]:
        """``GET /api/v1/markets``: the spec's ``Market`` objects."""
        return [
            market.to_wire()
            for market in self._markets.values()
            if market_type is None or market.market_type == market_type
        ]

    def assets_wire(self) -> list[dict[str, Any]]:
        """``GET /api/v1/assets``: the spec's ``MarketAsset`` objects."""
        return [asset.to_wire() for asset in self._assets.values()]

    def collateral_parameters_wire(self) -> list[dict[str, Any]]:
        """``GET /api/v1/collateral``: the spec's ``CollateralSummary`` per asset that counts
        as collateral. The haircut is the asset's weight (an identity function); the IMF and
        MMF functions are flat and only reported (margin here uses each market's ``imf``)."""
        return [
            {
                "symbol": symbol,
                "imfFunction": {"type": "sqrt", "base": "0.02", "factor": "0"},
                "mmfFunction": {"type": "sqrt", "base": "0.01", "factor": "0"},
                "haircutFunction": {"weight": format(weight, "f"), "kind": {"type": "identity"}},
            }
            for symbol, weight in sorted(self._weights.items())
        ]

    def mark_price_of(self, symbol: str) -> Decimal | None:
        """The market's mark price: the one set by :meth:`set_mark_price`, else the last
        trade price, else None."""
        mark = self._mark.get(symbol)
        if mark is not None:
            return mark
        return self._data[symbol].last_price

    def history_load(
        self,
        symbol: str,
        candles: Iterable[tuple[int, list[Any]]],
        trades: Iterable[tuple[Decimal, Decimal, int, bool]],
    ) -> None:
        """Give a market a past before it trades: whole candles ``(start second, [o, h, l, c,
        volume, quoteVolume, trades])``, then public trades ``(price, quantity, time us,
        isBuyerMaker)`` with no orders behind them, both oldest first (see
        :mod:`sandbox.history`). No events; the last trade sets the last price."""
        data = self._data[self.market(symbol).symbol]
        with localcontext(_CONTEXT):
            for start, candle in candles:
                data.add_candle(start, candle)
            for price, quantity, at_us, buyer_is_maker in trades:
                data.record_trade(price, quantity, at_us, buyer_is_maker, 0, 0)
        data.dirty = False

    # ------------------------------------------------------------------ accounts
    def open_subaccount(self, subaccount_id: int) -> None:
        """Create subaccount ``subaccount_id`` (no-op if it exists)."""
        if isinstance(subaccount_id, bool) or not isinstance(subaccount_id, int):
            raise bad_request("Invalid subaccount id")
        if subaccount_id not in self._accounts:
            self._accounts[subaccount_id] = Account(subaccount_id)

    @property
    def subaccount_ids(self) -> list[int]:
        """Ids of the subaccounts, not counting the fee account."""
        return sorted(i for i in self._accounts if i != self._fee_subaccount_id)

    def _account(self, subaccount_id: int) -> Account:
        """The subaccount a command acts for (opened on first use)."""
        if type(subaccount_id) is not int or subaccount_id == self._fee_subaccount_id:
            raise not_found(errors.SUBACCOUNT_NOT_FOUND)
        account = self._accounts.get(subaccount_id)
        if account is None:
            account = self._accounts[subaccount_id] = Account(subaccount_id)
        return account

    def _asset(self, symbol: Any) -> Asset:
        if not isinstance(symbol, str):
            raise EngineError(400, "INVALID_ASSET", errors.ASSET_NOT_FOUND)
        asset = self._assets.get(symbol)
        if asset is None:
            known = {m.base_symbol for m in self._markets.values()}
            known.update(m.quote_symbol for m in self._markets.values())
            if symbol in known:
                return Asset(symbol)
            raise EngineError(400, "INVALID_ASSET", errors.ASSET_NOT_FOUND)
        return asset

    # ------------------------------------------------------------------- trading
    def execute_order(self, subaccount_id: int, payload: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /api/v1/order``: validate, match, rest.  ``payload`` is the spec's
        ``OrderExecutePayload`` (camelCase keys).  Returns the spec's ``OrderType`` object
        (status New / PartiallyFilled / Filled / Expired / TriggerPending)."""
        caller_context = getcontext()
        if caller_context is not _CONTEXT:
            setcontext(_CONTEXT)  # cheaper than localcontext(), which copies the context
        try:
            self._now = self._clock()  # self._begin(), inlined
            self._emitting = self.keep_events or bool(self.listeners)
            if type(payload) is not dict and not isinstance(payload, Mapping):
                raise bad_request("Invalid order payload")
            symbol = payload.get("symbol")
            market = self._markets.get(symbol) if type(symbol) is str else None
            if market is None:
                raise invalid_market(symbol)
            account = None  # an existing subaccount without the call; else self._account
            if type(subaccount_id) is int and subaccount_id != self._fee_subaccount_id:
                account = self._accounts.get(subaccount_id)
            if account is None:
                account = self._account(subaccount_id)
            order = parse_order(market, subaccount_id, payload)
            try:
                self._place(account, order)
            finally:
                self._finish()
            return order.to_wire()
        finally:
            if caller_context is not _CONTEXT:
                setcontext(caller_context)

    def execute_orders(
        self, subaccount_id: int, payloads: Iterable[Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        """``POST /api/v1/orders``: each payload in turn; each result is the order
        (``"operation": "Ok"``) or the error (``"operation": "Err"``, code, message)."""
        results: list[dict[str, Any]] = []
        for payload in payloads:
            try:
                results.append({"operation": "Ok", **self.execute_order(subaccount_id, payload)})
            except EngineError as error:
                results.append({"operation": "Err", **error.to_wire()})
        return results

    def _find_open(self, account: Account, symbol: str, order_id: Any, client_id: Any) -> Any:
        if order_id is None and client_id is None:
            raise bad_request("Specify orderId or clientId")
        if order_id is not None:
            wanted = parse_int_id(order_id, "orderId")
            order = account.open_orders.get(wanted)
            if order is None or order.symbol != symbol:
                raise not_found()
            if client_id is not None and order.client_id != parse_client_id(client_id):
                raise not_found()
            return order
        wanted_client = parse_client_id(client_id)
        for order in account.open_orders.values():
            if order.client_id == wanted_client and order.symbol == symbol:
                return order
        raise not_found()

    def cancel_order(
        self,
        subaccount_id: int,
        *,
        symbol: str,
        order_id: int | str | None = None,
        client_id: int | str | None = None,
    ) -> dict[str, Any]:
        """``DELETE /api/v1/order``: cancel one open (or trigger-pending) order; returns it
        with status Cancelled.  RESOURCE_NOT_FOUND if not open."""
        caller_context = getcontext()
        setcontext(_CONTEXT)
        try:
            self._begin()
            self.market(symbol)
            account = self._account(subaccount_id)
            order = self._find_open(account, symbol, order_id, client_id)
            try:
                self._cancel(account, order)
            finally:
                self._finish()
            return order.to_wire()
        finally:
            setcontext(caller_context)

    def cancel_open_orders(
        self, subaccount_id: int, *, symbol: str, order_type: str | None = None
    ) -> list[dict[str, Any]]:
        """``DELETE /api/v1/orders``: cancel every open order of the subaccount on
        ``symbol`` (``order_type``: ``RestingLimitOrder`` or ``ConditionalOrder`` to
        restrict)."""
        if order_type not in (None, "RestingLimitOrder", "ConditionalOrder"):
            raise bad_request("Invalid orderType")
        with localcontext(_CONTEXT):
            self._begin()
            self.market(symbol)
            account = self._account(subaccount_id)
            chosen = [
                order
                for order in account.open_orders.values()
                if order.symbol == symbol
                and (
                    order_type is None
                    or (order_type == "ConditionalOrder") == (order.status == TRIGGER_PENDING)
                )
            ]
            try:
                for order in chosen:
                    self._cancel(account, order)
            finally:
                self._finish()
            return [order.to_wire() for order in chosen]

    def set_order_book_state(self, symbol: str, state: str) -> None:
        """Switch a market's ``orderBookState``: ``Open``, ``Closed`` (no orders),
        ``CancelOnly``, ``LimitOnly`` (no market orders) or ``PostOnly`` (only post-only
        limit orders).  Resting orders stay; cancels always work."""
        market = self.market(symbol)
        if state not in ORDER_BOOK_STATES:
            raise bad_request(
                f"Invalid orderBookState: expected one of {', '.join(ORDER_BOOK_STATES)}"
            )
        # orders keep the Market they were placed with; the state is read from here
        self._markets[symbol] = replace(market, order_book_state=state)

    # ------------------------------------------------------------ prices, funding
    def set_mark_price(
        self, symbol: str, mark_price: Decimal | str, index_price: Decimal | str | None = None
    ) -> None:
        """Set a market's mark (and index) price; fires MarkPrice triggers.  Without it the
        mark price follows the last trade."""
        with localcontext(_CONTEXT):
            self._begin()
            market = self.market(symbol)
            mark = parse_decimal(mark_price, "markPrice")
            index = parse_decimal(index_price, "indexPrice") if index_price is not None else None
            self._mark[symbol] = mark
            if index is not None:
                self._index_price[symbol] = index
            self._batch.append(Event(f"markPrice.{symbol}", self._mark_event(market), symbol))
            self._trigger_check[symbol] = None
            self._finish()

    def _mark_event(self, market: Market) -> dict[str, Any]:
        symbol = market.symbol
        mark = self.mark_price_of(symbol) or ZERO
        data: dict[str, Any] = {"e": "markPrice", "E": self._now, "s": symbol}
        data["p"] = format(mark, "f")
        if market.is_perp:
            data["f"] = format(self._funding_rate[symbol], "f")
            data["i"] = format(self._index_price.get(symbol, mark), "f")
            data["n"] = self._next_funding_ms[symbol]
        data["T"] = self._now
        return data

    # ----------------------------------------------------------- typed accessors
    def balance(self, subaccount_id: int, symbol: str) -> tuple[Decimal, Decimal, Decimal]:
        """(available, locked, staked) of one asset, as Decimals."""
        account = self._accounts.get(subaccount_id)
        if account is None or symbol not in account.balances:
            return ZERO, ZERO, ZERO
        balance = account.balances[symbol]
        return balance.available, balance.locked, balance.staked

    def net_position(self, subaccount_id: int, symbol: str) -> Decimal:
        """Signed net quantity of a perpetual position (zero when flat)."""
        account = self._accounts.get(subaccount_id)
        position = account.positions.get(symbol) if account else None
        return position.net_quantity if position is not None else ZERO


__all__ = ["Clock", "Engine", "FEE_SUBACCOUNT_ID"]
