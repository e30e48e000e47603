"""Read models the REST layer serves (mixed into :class:`~sandbox.engine.engine.Engine`).

Every query returns wire-ready dicts in the spec's shapes and changes nothing.  Unknown
subaccounts read as empty; unknown markets raise INVALID_MARKET.
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from itertools import islice
from typing import Any

from sandbox.numbers import NumberError, parse_int

from .errors import bad_request, not_found
from .ledger import (
    FILL_MARKET_TYPE,
    FILL_ORDER_ID,
    FILL_SYMBOL,
    FILL_TIME,
    SETTLEMENT_SOURCE,
    Account,
    fill_to_wire,
    settlement_to_wire,
)
from .marketdata import INTERVAL_SECONDS, TICKER_INTERVALS
from .markets import CONTEXT, ZERO
from .orders import ASK, BID, TRIGGER_PENDING
from .parsing import parse_bool, parse_decimal, parse_int_id

_FMT = format


MAX_OFFSET = 10_000_000


def _whole(value: Any, name: str) -> int:
    """An integer argument (ASCII-digit text or an int), by the sandbox's one number rule."""
    try:
        return parse_int(value, negative=True)
    except NumberError as exc:
        raise bad_request(f"Invalid {name}: {exc.reason}") from None


def _paging(limit: Any, offset: Any, maximum: int = 1000) -> tuple[int, int]:
    limit_value = _whole(limit, "limit")
    offset_value = _whole(offset, "offset")
    if not 1 <= limit_value <= maximum:
        raise bad_request(f"Limit must be between 1 and {maximum}")
    if not 0 <= offset_value <= MAX_OFFSET:
        raise bad_request(f"Offset must be between 0 and {MAX_OFFSET}")
    return limit_value, offset_value


def _millis(value: Any, name: str) -> int | None:
    """An optional millisecond timestamp as microseconds."""
    if value is None:
        return None
    return _whole(value, name) * 1000


class Page(list):
    """One page of a history: its rows, plus ``total`` (rows matching the filters),
    ``limit`` and ``offset``, from which the server writes the spec's page headers."""

    def __init__(self, rows: list[Any], total: int, limit: int, offset: int) -> None:
        super().__init__(rows)
        self.total = total
        self.limit = limit
        self.offset = offset


SETTLEMENT_FILTERS: dict[str, frozenset[str]] = {
    "BackstopLiquidation": frozenset(
        {"BackstopProviderLiquidation", "BackstopAdlLiquidation", "BackstopLiquidityFundProceeds"}
    ),
    "CulledBorrowInterest": frozenset({"CulledBorrowInterest"}),
    "CulledRealizePnl": frozenset(
        {
            "CulledRealizePnlAuto",
            "CulledRealizePnlAccountThreshold",
            "CulledRealizePnlSystemThreshold",
        }
    ),
    "CulledRealizePnlBookUtilization": frozenset({"CulledRealizePnlBookUtilisation"}),
    "FundingPayment": frozenset({"FundingPayment"}),
    "RealizePnl": frozenset({"RealizePnl"}),
    "TradingFees": frozenset({"TradingFees"}),
    "TradingFeesSystem": frozenset({"TradingFeesSystem"}),
}
"""The spec's ``SettlementSourceFilter`` values and the ``SettlementSource`` values each
one selects."""

POSITION_STATES = ("Open", "Closed")


def _direction(sort_direction: str) -> bool:
    if sort_direction not in ("Asc", "Desc"):
        raise bad_request("Invalid sortDirection: expected Asc or Desc")
    return sort_direction == "Desc"


class QueriesMixin:
    """Public and private read models."""

    def _view(self, subaccount_id: int) -> Account:
        if isinstance(subaccount_id, bool) or not isinstance(subaccount_id, int):
            raise not_found("Subaccount not found")
        account = self._accounts.get(subaccount_id)
        if account is None or subaccount_id == self._fee_subaccount_id:
            return Account(subaccount_id)
        return account

    def _context(self):
        return localcontext(CONTEXT)

    # ------------------------------------------------------------------- public
    def depth(self, symbol: str, limit: int | str = 1000) -> dict[str, Any]:
        """``GET /api/v1/depth``: the spec's ``Depth`` with ``lastUpdateId``; both sides
        in ascending price order, the ``limit`` best levels of each."""
        self.market(symbol)
        count, _ = _paging(limit, 0, 1000)
        book = self._books[symbol]
        bids = book.levels(BID, count)[::-1]
        asks = book.levels(ASK, count)
        return {
            "asks": [[_FMT(p, "f"), _FMT(q, "f")] for p, q in asks],
            "bids": [[_FMT(p, "f"), _FMT(q, "f")] for p, q in bids],
            "lastUpdateId": str(book.update_id),
            "timestamp": self.now_us(),
        }

    def ticker(self, symbol: str, interval: str = "1d") -> dict[str, Any]:
        """``GET /api/v1/ticker``: the spec's ``Ticker`` over the rolling interval."""
        self.market(symbol)
        if not isinstance(interval, str) or interval not in TICKER_INTERVALS:
            raise bad_request("Invalid interval: expected 1d or 1w")
        with self._context():
            return self._data[symbol].ticker(interval, self.now_us())

    def tickers(self, interval: str = "1d") -> list[dict[str, Any]]:
        """``GET /api/v1/tickers``."""
        return [self.ticker(symbol, interval) for symbol in self._markets]

    def klines(
        self,
        symbol: str,
        interval: str,
        start_time: int,
        end_time: int | None = None,
    ) -> list[dict[str, Any]]:
        """``GET /api/v1/klines``: the spec's ``Kline`` list; times in seconds."""
        self.market(symbol)
        if not isinstance(interval, str) or interval not in INTERVAL_SECONDS:
            raise bad_request(f"Invalid interval: expected one of {', '.join(INTERVAL_SECONDS)}")
        start = _whole(start_time, "startTime")
        end = _whole(end_time, "endTime") if end_time is not None else self.now_us() // 1_000_000
        if end < start:
            raise bad_request("endTime must not be before startTime")
        # endTime includes the candle that opens at it: ccxt asks with endTime = now (whole
        # seconds) and expects the current candle, even in its first second.
        return self._data[symbol].klines(interval, start, end + 1)

    def recent_trades(self, symbol: str, limit: int | str = 100) -> list[dict[str, Any]]:
        """``GET /api/v1/trades``: newest ``limit`` trades, oldest first."""
        self.market(symbol)
        count, _ = _paging(limit, 0)
        data = self._data[symbol]
        newest = list(islice(reversed(data.trades), count))
        return [data.trade_wire(trade) for trade in reversed(newest)]

    def trade_history(
        self, symbol: str, limit: int | str = 100, offset: int | str = 0
    ) -> list[dict[str, Any]]:
        """``GET /api/v1/trades/history``: trades newest first after skipping ``offset``."""
        self.market(symbol)
        count, skip = _paging(limit, offset)
        data = self._data[symbol]
        return [data.trade_wire(t) for t in islice(reversed(data.trades), skip, skip + count)]

    def mark_prices(
        self, symbol: str | None = None, market_type: str | None = None
    ) -> list[dict[str, Any]]:
        """``GET /api/v1/markPrices``: the spec's ``MarkPrice`` objects (markets that
        have a price)."""
        symbols = [self.market(symbol).symbol] if symbol is not None else list(self._markets)
        out = []
        for name in symbols:
            market = self._markets[name]
            if market_type is not None and market.market_type != market_type:
                continue
            mark = self.mark_price_of(name)
            if mark is None:
                continue
            row: dict[str, Any] = {"symbol": name, "markPrice": _FMT(mark, "f")}
            if market.is_perp:
                row["fundingRate"] = _FMT(self._funding_rate[name], "f")
                row["indexPrice"] = _FMT(self._index_price.get(name, mark), "f")
                row["nextFundingTimestamp"] = self._next_funding_ms[name]
            out.append(row)
        return out

    def open_interest(self, symbol: str | None = None) -> list[dict[str, Any]]:
        """``GET /api/v1/openInterest``: the spec's ``OpenInterest`` objects (perps)."""
        symbols = [self.market(symbol).symbol] if symbol is not None else list(self._markets)
        now_ms = self.now_us() // 1000
        return [
            {
                "symbol": name,
                "openInterest": _FMT(self._open_interest[name], "f"),
                "timestamp": now_ms,
            }
            for name in symbols
            if self._markets[name].is_perp
        ]

    def funding_rates(
        self, symbol: str, limit: int | str = 100, offset: int | str = 0
    ) -> list[dict[str, Any]]:
        """``GET /api/v1/fundingRates``: settled intervals, newest first."""
        market = self.market(symbol)
        if not market.is_perp:
            raise bad_request("Funding applies to perpetual markets only")
        count, skip = _paging(limit, offset)
        rows = self._funding_history[symbol][::-1]
        return [dict(row) for row in rows[skip : skip + count]]

    # ------------------------------------------------------------------ private
    def open_orders(
        self, subaccount_id: int, symbol: str | None = None, market_type: str | None = None
    ) -> list[dict[str, Any]]:
        """``GET /api/v1/orders``: open and trigger-pending orders, oldest first."""
        if symbol is not None:
            self.market(symbol)
        account = self._view(subaccount_id)
        return [
            order.to_wire()
            for order in sorted(account.open_orders.values(), key=lambda o: o.id)
            if (symbol is None or order.symbol == symbol)
            and (market_type is None or order.market.market_type == market_type)
        ]

    def get_order(
        self,
        subaccount_id: int,
        *,
        symbol: str,
        order_id: int | str | None = None,
        client_id: int | str | None = None,
    ) -> dict[str, Any]:
        """``GET /api/v1/order``: an open order by id or clientId; RESOURCE_NOT_FOUND
        otherwise."""
        self.market(symbol)
        return self._find_open(self._view(subaccount_id), symbol, order_id, client_id).to_wire()

    def order_history(
        self,
        subaccount_id: int,
        *,
        symbol: str | None = None,
        order_id: int | str | None = None,
        market_type: str | None = None,
        limit: int | str = 100,
        offset: int | str = 0,
        sort_direction: str = "Desc",
    ) -> list[dict[str, Any]]:
        """``GET /wapi/v1/history/orders``: every order ever accepted (the spec's
        ``Order``), newest first unless ``sort_direction`` is ``Asc``."""
        if symbol is not None:
            self.market(symbol)
        count, skip = _paging(limit, offset)
        wanted = parse_int_id(order_id, "orderId") if order_id is not None else None
        orders = self._view(subaccount_id).orders
        chosen = [
            order
            for order in (reversed(orders) if _direction(sort_direction) else orders)
            if (symbol is None or order.symbol == symbol)
            and (wanted is None or order.id == wanted)
            and (market_type is None or order.market.market_type == market_type)
        ]
        rows = [order.to_history_wire() for order in chosen[skip : skip + count]]
        return Page(rows, len(chosen), count, skip)

    def fill_history(
        self,
        subaccount_id: int,
        *,
        symbol: str | None = None,
        order_id: int | str | None = None,
        from_ms: int | None = None,
        to_ms: int | None = None,
        market_type: str | None = None,
        limit: int | str = 100,
        offset: int | str = 0,
        sort_direction: str = "Desc",
    ) -> list[dict[str, Any]]:
        """``GET /wapi/v1/history/fills``: the spec's ``OrderFill`` list."""
        if symbol is not None:
            self.market(symbol)
        count, skip = _paging(limit, offset)
        wanted = parse_int_id(order_id, "orderId") if order_id is not None else None
        low = _millis(from_ms, "from")
        high = _millis(to_ms, "to")
        fills = self._view(subaccount_id).fills
        chosen = [
            fill
            for fill in (reversed(fills) if _direction(sort_direction) else fills)
            if (symbol is None or fill[FILL_SYMBOL] == symbol)
            and (wanted is None or fill[FILL_ORDER_ID] == wanted)
            and (market_type is None or fill[FILL_MARKET_TYPE] == market_type)
            and (low is None or fill[FILL_TIME] >= low)
            and (high is None or fill[FILL_TIME] <= high)
        ]
        rows = [fill_to_wire(fill) for fill in chosen[skip : skip + count]]
        return Page(rows, len(chosen), count, skip)

    def deposits(
        self,
        subaccount_id: int,
        *,
        limit: int | str = 100,
        offset: int | str = 0,
        from_ms: int | None = None,
        to_ms: int | None = None,
    ) -> list[dict[str, Any]]:
        """``GET /wapi/v1/capital/deposits``: the spec's ``Deposit`` list, newest first."""
        return self._transfers(self._view(subaccount_id).deposits, limit, offset, from_ms, to_ms)

    def withdrawals(
        self,
        subaccount_id: int,
        *,
        limit: int | str = 100,
        offset: int | str = 0,
        from_ms: int | None = None,
        to_ms: int | None = None,
        withdrawal_id: int | str | None = None,
        client_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """``GET /wapi/v1/capital/withdrawals``: the spec's ``Withdrawal`` list, newest
        first."""
        records = self._view(subaccount_id).withdrawals
        if withdrawal_id is not None:
            wanted = parse_int_id(withdrawal_id, "id")
            records = [r for r in records if r["id"] == wanted]
        if client_id is not None:
            records = [r for r in records if r.get("clientId") == str(client_id)]
        return self._transfers(records, limit, offset, from_ms, to_ms)

    def _transfers(self, records, limit, offset, from_ms, to_ms) -> list[dict[str, Any]]:
        count, skip = _paging(limit, offset)
        low = _millis(from_ms, "from")
        high = _millis(to_ms, "to")
        chosen = [
            r
            for r in reversed(records)
            if (low is None or r["_us"] >= low) and (high is None or r["_us"] <= high)
        ]
        return [
            {k: v for k, v in r.items() if not k.startswith("_")}
            for r in chosen[skip : skip + count]
        ]

    def funding_payments(
        self,
        subaccount_id: int,
        *,
        symbol: str | None = None,
        limit: int | str = 100,
        offset: int | str = 0,
        sort_direction: str = "Desc",
    ) -> list[dict[str, Any]]:
        """``GET /wapi/v1/history/funding``: the spec's ``FundingPayment`` list, one row
        per position per funding interval, newest first unless ``sort_direction`` is
        ``Asc``."""
        if symbol is not None:
            self.market(symbol)
        count, skip = _paging(limit, offset)
        rows = self._view(subaccount_id).funding_payments
        chosen = [
            row
            for row in (reversed(rows) if _direction(sort_direction) else rows)
            if symbol is None or row["symbol"] == symbol
        ]
        rows = [dict(row) for row in chosen[skip : skip + count]]
        return Page(rows, len(chosen), count, skip)

    def settlement_history(
        self,
        subaccount_id: int,
        *,
        source: str | None = None,
        limit: int | str = 100,
        offset: int | str = 0,
        sort_direction: str = "Desc",
    ) -> list[dict[str, Any]]:
        """``GET /wapi/v1/history/settlement``: the spec's ``Settlement`` list (realized
        PnL, perpetual fees, funding; see :data:`~.ledger.Settlement`), newest first unless
        ``sort_direction`` is ``Asc``; ``source`` is a ``SettlementSourceFilter`` value."""
        count, skip = _paging(limit, offset)
        descending = _direction(sort_direction)
        wanted = None
        if source is not None:
            wanted = SETTLEMENT_FILTERS.get(source) if isinstance(source, str) else None
            if wanted is None:
                raise bad_request(
                    f"Invalid source: expected one of {', '.join(SETTLEMENT_FILTERS)}"
                )
        rows = self._view(subaccount_id).settlements
        chosen = [
            row
            for row in (reversed(rows) if descending else rows)
            if wanted is None or row[SETTLEMENT_SOURCE] in wanted
        ]
        with self._context():
            rows = [settlement_to_wire(row) for row in chosen[skip : skip + count]]
        return Page(rows, len(chosen), count, skip)

    def position_history(
        self,
        subaccount_id: int,
        *,
        symbol: str | None = None,
        state: str | None = None,
        market_type: str | None = None,
        limit: int | str = 100,
        offset: int | str = 0,
        sort_direction: str = "Desc",
    ) -> list[dict[str, Any]]:
        """``GET /wapi/v1/history/position``: the spec's ``PositionHistoryRow`` for every
        position the subaccount has held (open ones valued at mark), newest first unless
        ``sort_direction`` is ``Asc``."""
        if symbol is not None:
            self.market(symbol)
        if state is not None and state not in POSITION_STATES:
            raise bad_request("Invalid state: expected Open or Closed")
        count, skip = _paging(limit, offset)
        descending = _direction(sort_direction)
        positions = self._view(subaccount_id).position_history
        chosen = [
            position
            for position in (reversed(positions) if descending else positions)
            if (symbol is None or position.market.symbol == symbol)
            and (state is None or (position.closed_us is None) == (state == "Open"))
            and (market_type is None or position.market.market_type == market_type)
        ]
        with self._context():
            return [
                position.history_wire(self._position_mark(position.market.symbol, position))
                for position in chosen[skip : skip + count]
            ]

    def positions(self, subaccount_id: int, symbol: str | None = None) -> list[dict[str, Any]]:
        """``GET /api/v1/position``: open positions (``FuturePositionWithMargin``)."""
        if symbol is not None:
            self.market(symbol)
        account = self._view(subaccount_id)
        out = []
        with self._context():
            equity = self._margin_state(account)[0] if account.positions else ZERO
            for name, position in sorted(account.positions.items()):
                if symbol is not None and name != symbol:
                    continue
                mark = self._position_mark(name, position)
                wire = position.to_wire(
                    mark,
                    account.open_bid_quantity.get(name, ZERO),
                    account.open_ask_quantity.get(name, ZERO),
                )
                liquidation = self._liquidation_price(position, equity - position.unrealized(mark))
                wire["estLiquidationPrice"] = format(liquidation, "f")
                out.append(wire)
        return out

    def _liquidation_price(self, position, other_equity: Decimal) -> Decimal:
        """Mark price at which equity falls to this position's maintenance margin, the
        rest of the account unchanged: solve ``other + q*p - cost = |q|*p*mmf``."""
        quantity = position.net_quantity
        mmf = position.market.mmf
        divisor = quantity - abs(quantity) * mmf
        if not divisor:
            return ZERO
        price = (position.net_cost - other_equity) / divisor
        return max(price, ZERO).quantize(position.market.tick_size)

    def position_events(self, subaccount_id: int) -> list[dict[str, Any]]:
        """The ``account.positionUpdate`` snapshot sent on subscription (no ``e`` key)."""
        account = self._view(subaccount_id)
        now = self.now_us()
        with self._context():
            return [
                position.update_event(
                    None,
                    now,
                    self._reference_mark(name, position.entry_price),
                    account.open_bid_quantity.get(name, ZERO),
                    account.open_ask_quantity.get(name, ZERO),
                )
                for name, position in sorted(account.positions.items())
            ]

    def balances(self, subaccount_id: int) -> dict[str, dict[str, str]]:
        """``GET /api/v1/capital``: ``{asset: {"available", "locked", "staked"}}`` (assets
        the subaccount has ever held)."""
        account = self._view(subaccount_id)
        return {symbol: balance.to_wire() for symbol, balance in sorted(account.balances.items())}

    def collateral(self, subaccount_id: int) -> dict[str, Any]:
        """``GET /api/v1/capital/collateral``: the spec's ``MarginAccountSummary``."""
        with self._context():
            return self._collateral_wire(self._view(subaccount_id))

    def available_margin(self, subaccount_id: int) -> Decimal:
        """``netEquityAvailable`` as orders and withdrawals are checked against it (the fast
        path), to compare with :meth:`collateral`'s figure."""
        return self._available_margin(self._view(subaccount_id))

    def account(self, subaccount_id: int) -> dict[str, Any]:
        """``GET /api/v1/account``: the spec's ``AccountSummary`` (fees in bps, counts)."""
        account = self._view(subaccount_id)
        spot = next((m for m in self._markets.values() if not m.is_perp), None)
        perp = next((m for m in self._markets.values() if m.is_perp), None)

        def bps(rate: Decimal | None) -> str:
            return _FMT((rate or ZERO) * 10000, "f")

        triggers = sum(1 for o in account.open_orders.values() if o.status == TRIGGER_PENDING)
        leverage = (1 / perp.imf).quantize(Decimal(1)) if perp is not None and perp.imf else 1
        return {
            "autoBorrowSettlements": False,
            "autoLend": False,
            "autoRealizePnl": True,
            "autoRepayBorrows": False,
            "borrowLimit": "0",
            "futuresMakerFee": bps(perp.maker_fee if perp else None),
            "futuresTakerFee": bps(perp.taker_fee if perp else None),
            "leverageLimit": _FMT(Decimal(leverage), "f"),
            "limitOrders": len(account.open_orders) - triggers,
            "liquidating": False,
            "positionLimit": "0",
            "spotMakerFee": bps(spot.maker_fee if spot else None),
            "spotTakerFee": bps(spot.taker_fee if spot else None),
            "triggerOrders": triggers,
        }

    def max_order_quantity(
        self,
        subaccount_id: int,
        *,
        symbol: str,
        side: str,
        price: Decimal | str | None = None,
        reduce_only: bool | str = False,
    ) -> dict[str, Any]:
        """``GET /api/v1/account/limits/order``: the spec's ``MaxOrderQuantity``."""
        market = self.market(symbol)
        if side not in (BID, ASK):
            raise bad_request("Invalid side: expected one of Bid, Ask")
        reduce = parse_bool(reduce_only, "reduceOnly")
        account = self._view(subaccount_id)
        step = market.step_size
        with self._context():
            at = parse_decimal(price, "price") if price is not None else None
            book = self._books[symbol]
            if at is None:
                at = (book.best_ask() if side == BID else book.best_bid()) or self.mark_price_of(
                    symbol
                )
            reducible = self._reducible(account, symbol, side) if market.is_perp else ZERO
            if reduce:
                if not market.is_perp:
                    raise bad_request("Reduce only orders are only supported on perpetual markets")
                quantity = reducible
            elif not market.is_perp:
                if side == BID:
                    balance = account.balances.get(market.quote_symbol)
                    funds = balance.available if balance else ZERO
                    quantity = funds / at if at else ZERO
                else:
                    balance = account.balances.get(market.base_symbol)
                    quantity = balance.available if balance else ZERO
            else:
                available = self._equity_available(account)
                fee = max(market.taker_fee, market.maker_fee, ZERO)
                per_unit = at * (market.imf + fee) if at else ZERO
                quantity = (available / per_unit if per_unit else ZERO) + reducible
            quantity = (quantity // step) * step if quantity > 0 else ZERO
            if market.max_quantity is not None:
                quantity = min(quantity, market.max_quantity)
        wire: dict[str, Any] = {
            "maxOrderQuantity": _FMT(quantity, "f"),
            "side": side,
            "symbol": symbol,
            "reduceOnly": reduce,
            "autoBorrow": False,
            "autoBorrowRepay": False,
            "autoLendRedeem": False,
        }
        if at is not None:
            wire["price"] = _FMT(at, "f")
        return wire

    def max_withdrawal_quantity(self, subaccount_id: int, *, symbol: str) -> dict[str, Any]:
        """``GET /api/v1/account/limits/withdrawal``: the spec's ``MaxWithdrawalQuantity``
        (before the withdrawal fee)."""
        asset = self._asset(symbol)
        with self._context():
            quantity = self._max_withdrawal(self._view(subaccount_id), asset.symbol)
        return {
            "maxWithdrawalQuantity": _FMT(quantity, "f"),
            "symbol": asset.symbol,
            "autoBorrow": False,
            "autoLendRedeem": False,
        }

    def order(self, subaccount_id: int, order_id: int | str) -> dict[str, Any]:
        """Any order of the subaccount (open or finished) in the ``Order`` history shape;
        RESOURCE_NOT_FOUND if it has none with that id."""
        wanted = parse_int_id(order_id, "orderId")
        for order in reversed(self._view(subaccount_id).orders):
            if order.id == wanted:
                return order.to_history_wire()
        raise not_found()


__all__ = ["Page", "QueriesMixin"]
