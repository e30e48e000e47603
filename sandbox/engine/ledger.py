"""Ledger records: spot balances, perpetual positions, deposits and withdrawals.

All amounts are Decimal and exact (products of on-grid prices and quantities), so every
asset is conserved: whatever leaves one account arrives in another (fees go to the
exchange's fee account).
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from typing import Any

from .markets import ZERO, Market
from .orders import Order, us_to_iso

_FMT = format
HISTORY_LIMIT = 20_000
"""Orders, fills, deposits, withdrawals, funding payments, settlements and positions kept
per subaccount (``python -m sandbox --history-limit``; see :func:`history_limit_set`)."""


def history_limit_set(rows: int) -> None:
    """Keep ``rows`` of each history per subaccount in the accounts made from now on (the
    sandbox sets it once at start-up, before any account exists)."""
    global HISTORY_LIMIT
    if rows < 1:
        raise ValueError("the history limit must be at least 1")
    HISTORY_LIMIT = rows


_DISPLAY = Decimal("1e-8")
_COST_QUANTUM = Decimal("1e-12")


class Balance:
    """One asset of one subaccount: ``available`` to use, ``locked`` in open orders,
    ``staked``."""

    __slots__ = ("available", "locked", "staked")

    def __init__(self) -> None:
        self.available = ZERO
        self.locked = ZERO
        self.staked = ZERO

    @property
    def total(self) -> Decimal:
        """available + locked + staked."""
        return self.available + self.locked + self.staked

    def to_wire(self) -> dict[str, str]:
        """The spec's ``Balance``: ``{"available", "locked", "staked"}`` as strings."""
        return {
            "available": _FMT(self.available, "f"),
            "locked": _FMT(self.locked, "f"),
            "staked": _FMT(self.staked, "f"),
        }


class Position:
    """A perpetual position: signed ``net_quantity`` (long > 0) and signed ``net_cost``
    (entry notional), realized PnL, fees and funding since it opened.

    A position lives from the fill that opens it to the fill that brings it back to zero
    (a fill that reverses it closes it and opens a new one); it stays in the account's
    position history afterwards, with the volume and notional it opened and closed.
    """

    __slots__ = (
        "position_id",
        "subaccount_id",
        "market",
        "net_quantity",
        "net_cost",
        "pnl_realized",
        "fees_paid",
        "cumulative_funding",
        "opened_us",
        "closed_us",
        "opened_volume",
        "opened_notional",
        "closed_volume",
        "closed_notional",
    )

    def __init__(
        self, position_id: int, subaccount_id: int, market: Market, opened_us: int = 0
    ) -> None:
        self.position_id = position_id
        self.subaccount_id = subaccount_id
        self.market = market
        self.net_quantity = ZERO
        self.net_cost = ZERO
        self.pnl_realized = ZERO
        self.fees_paid = ZERO
        self.cumulative_funding = ZERO
        self.opened_us = opened_us
        self.closed_us: int | None = None
        self.opened_volume = ZERO
        self.opened_notional = ZERO
        self.closed_volume = ZERO
        self.closed_notional = ZERO

    @property
    def entry_price(self) -> Decimal:
        """Average entry price (zero when flat)."""
        if not self.net_quantity:
            return ZERO
        return self.net_cost / self.net_quantity

    @property
    def break_even_price(self) -> Decimal:
        """Price at which closing returns exactly the fees and funding paid."""
        if not self.net_quantity:
            return ZERO
        return (self.net_cost + self.fees_paid - self.cumulative_funding) / self.net_quantity

    def unrealized(self, mark: Decimal) -> Decimal:
        """Unrealized PnL at ``mark``."""
        return self.net_quantity * mark - self.net_cost

    def apply_fill(self, signed_quantity: Decimal, price: Decimal) -> Decimal:
        """Add a fill (positive buys, negative sells); returns the PnL it realized.

        The entry cost taken off a partly closed position is rounded once (to 1e-12) and
        used for both the PnL and the remaining cost, so USDC plus net cost is conserved
        exactly across all accounts.
        """
        net = self.net_quantity
        realized = ZERO
        opening = signed_quantity
        if net and (net > 0) != (signed_quantity > 0):
            size = abs(net)
            closing = min(size, abs(signed_quantity))
            if closing == size:
                removed = self.net_cost
            else:
                removed = (self.net_cost * closing / size).quantize(_COST_QUANTUM)
            value = price * closing
            if net > 0:
                realized = value - removed
                self.net_quantity = net - closing
                opening = signed_quantity + closing
            else:
                realized = -removed - value
                self.net_quantity = net + closing
                opening = signed_quantity - closing
            self.net_cost -= removed
            self.closed_volume += closing
            self.closed_notional += value
        if opening:
            value = opening * price
            self.net_quantity += opening
            self.net_cost += value
            if opening > 0:
                self.opened_volume += opening
                self.opened_notional += value
            else:
                self.opened_volume -= opening
                self.opened_notional -= value
        self.pnl_realized += realized
        return realized

    def to_wire(
        self, mark: Decimal, open_bids: Decimal, open_asks: Decimal, user_id: int = 1
    ) -> dict[str, Any]:
        """The spec's ``FuturePositionWithMargin``."""
        market = self.market
        exposure = max(abs(self.net_quantity + open_bids), abs(self.net_quantity - open_asks))
        imf = market.imf
        mmf = market.mmf
        return {
            "breakEvenPrice": _FMT(self.break_even_price.quantize(_DISPLAY), "f"),
            "entryPrice": _FMT(self.entry_price.quantize(_DISPLAY), "f"),
            "estLiquidationPrice": "0",
            "imf": _FMT(imf, "f"),
            "imfFunction": {"type": "sqrt", "base": _FMT(imf, "f"), "factor": "0"},
            "markPrice": _FMT(mark, "f"),
            "mmf": _FMT(mmf, "f"),
            "mmfFunction": {"type": "sqrt", "base": _FMT(mmf, "f"), "factor": "0"},
            "netCost": _FMT(self.net_cost, "f"),
            "netQuantity": _FMT(self.net_quantity, "f"),
            "netExposureQuantity": _FMT(exposure, "f"),
            "netExposureNotional": _FMT(exposure * mark, "f"),
            "pnlRealized": _FMT(self.pnl_realized, "f"),
            "pnlUnrealized": _FMT(self.unrealized(mark), "f"),
            "cumulativeFundingPayment": _FMT(self.cumulative_funding, "f"),
            "cumulativeInterest": "0",
            "subaccountId": self.subaccount_id,
            "symbol": market.symbol,
            "userId": user_id,
            "positionId": str(self.position_id),
        }

    def history_wire(self, mark: Decimal) -> dict[str, Any]:
        """One row of ``GET /wapi/v1/history/position``: the spec's ``PositionHistoryRow``.

        ``cumulativePnlRealized`` is the price PnL of the closing fills against the average
        entry cost (fees and funding are the separate ``fees`` and ``fundingQuantity``);
        ``entryPrice`` is the average opening price, ``closingPrice`` the average closing
        price.  A closed row is valued at its closing price, with nothing unrealized.
        """
        market = self.market
        closed = self.closed_us is not None
        net = self.net_quantity
        entry = self.opened_notional / self.opened_volume if self.opened_volume else ZERO
        if closed and self.closed_volume:
            mark = self.closed_notional / self.closed_volume
        row: dict[str, Any] = {
            "id": str(self.position_id),
            "symbol": market.symbol,
            "netQuantity": _FMT(net, "f"),
            "netExposureQuantity": _FMT(abs(net), "f"),
            "netExposureNotional": _FMT(abs(net) * mark, "f"),
            "netCost": _FMT(self.net_cost, "f"),
            "markPrice": _FMT(mark.quantize(_DISPLAY) if closed else mark, "f"),
            "entryPrice": _FMT(entry.quantize(_DISPLAY), "f"),
            "cumulativePnlRealized": _FMT(self.pnl_realized, "f"),
            "unrealizedPnl": _FMT(ZERO if closed else self.unrealized(mark), "f"),
            "fundingQuantity": _FMT(self.cumulative_funding, "f"),
            "interest": "0",
            "liquidated": "0",
            "imf": _FMT(market.imf, "f"),
            "fees": _FMT(self.fees_paid, "f"),
            "state": "Closed" if closed else "Open",
            "closedVolume": _FMT(self.closed_volume, "f"),
            "liquidationFees": "0",
            "openedAt": us_to_iso(self.opened_us),
        }
        if self.closed_volume:
            closing = self.closed_notional / self.closed_volume
            row["closingPrice"] = _FMT(closing.quantize(_DISPLAY), "f")
        if closed:
            row["closedAt"] = us_to_iso(self.closed_us)
        return row

    def snapshot(self) -> tuple:
        """(market, id, net quantity, net cost, realized PnL, fees, funding) now."""
        return (
            self.market,
            self.position_id,
            self.net_quantity,
            self.net_cost,
            self.pnl_realized,
            self.fees_paid,
            self.cumulative_funding,
        )

    def update_event(
        self, kind: str | None, now_us: int, mark: Decimal, open_bids: Decimal, open_asks: Decimal
    ) -> dict[str, Any]:
        """The ``account.positionUpdate`` payload (``kind`` None for the snapshot sent on
        subscription)."""
        return position_payload(kind, now_us, mark, open_bids, open_asks, *self.snapshot())


def position_payload(
    kind: str | None,
    now_us: int,
    mark: Decimal,
    open_bids: Decimal,
    open_asks: Decimal,
    market: Market,
    position_id: int,
    net: Decimal,
    cost: Decimal,
    realized: Decimal,
    fees: Decimal,
    funding: Decimal,
) -> dict[str, Any]:
    """The ``account.positionUpdate`` payload from a position's snapshot."""
    exposure = max(abs(net + open_bids), abs(net - open_asks))
    entry = cost / net if net else ZERO
    break_even = (cost + fees - funding) / net if net else ZERO
    data: dict[str, Any] = {}
    if kind is not None:
        data["e"] = kind
    data.update(
        {
            "E": now_us,
            "s": market.symbol,
            "b": _FMT(break_even.quantize(_DISPLAY), "f"),
            "B": _FMT(entry.quantize(_DISPLAY), "f"),
            "f": _FMT(market.imf, "f"),
            "M": _FMT(mark, "f"),
            "m": _FMT(market.mmf, "f"),
            "q": _FMT(net, "f"),
            "Q": _FMT(exposure, "f"),
            "n": _FMT(exposure * mark, "f"),
            "i": str(position_id),
            "p": _FMT(realized, "f"),
            "P": _FMT(net * mark - cost, "f"),
            "T": now_us,
        }
    )
    return data


class Account:
    """One subaccount: balances, positions, open orders and its history."""

    __slots__ = (
        "subaccount_id",
        "balances",
        "positions",
        "open_orders",
        "reduce_only_orders",
        "orders",
        "fills",
        "deposits",
        "withdrawals",
        "funding_payments",
        "settlements",
        "position_history",
        "open_bid_quantity",
        "open_ask_quantity",
        "open_bid_notional",
        "open_ask_notional",
    )

    def __init__(self, subaccount_id: int) -> None:
        self.subaccount_id = subaccount_id
        self.balances: dict[str, Balance] = {}
        self.positions: dict[str, Position] = {}
        self.open_orders: dict[int, Order] = {}
        # resting reduce-only perp orders (trimmed when the position shrinks)
        self.reduce_only_orders: dict[int, Order] = {}
        # history is capped so a long-running sandbox keeps a bounded memory
        self.orders: deque[Order] = deque(maxlen=HISTORY_LIMIT)
        self.fills: deque[Fill] = deque(maxlen=HISTORY_LIMIT)
        self.deposits: deque[dict[str, Any]] = deque(maxlen=HISTORY_LIMIT)
        self.withdrawals: deque[dict[str, Any]] = deque(maxlen=HISTORY_LIMIT)
        self.funding_payments: deque[dict[str, Any]] = deque(maxlen=HISTORY_LIMIT)
        self.settlements: deque[Settlement] = deque(maxlen=HISTORY_LIMIT)
        # every position the account has held, oldest first (open ones too)
        self.position_history: deque[Position] = deque(maxlen=HISTORY_LIMIT)
        # per perpetual symbol: remaining quantity / notional of open non-reduce-only orders
        self.open_bid_quantity: dict[str, Decimal] = {}
        self.open_ask_quantity: dict[str, Decimal] = {}
        self.open_bid_notional: dict[str, Decimal] = {}
        self.open_ask_notional: dict[str, Decimal] = {}

    def balance(self, symbol: str) -> Balance:
        """This account's balance of ``symbol`` (created empty on first use)."""
        balance = self.balances.get(symbol)
        if balance is None:
            balance = self.balances[symbol] = Balance()
        return balance


Fill = tuple[int, int, Decimal, Decimal, bool, Decimal, str, int, str, str, int | None, str]
"""(orderId, tradeId, quantity, price, isMaker, fee, feeSymbol, engine time in us, symbol,
side, clientId, market type).

Only atomic values, no reference to the :class:`Order`: the garbage collector stops
tracking such a tuple after its first pass, so a long fill history costs full
collections nothing (a tuple holding the order stayed tracked for as long as it lived).
"""

FILL_ORDER_ID = 0
FILL_TIME = 7
FILL_SYMBOL = 8
FILL_MARKET_TYPE = 11


def fill_to_wire(fill: Fill) -> dict[str, Any]:
    """One row of ``GET /wapi/v1/history/fills``: the spec's ``OrderFill``."""
    order_id, trade_id, quantity, price, is_maker, fee, fee_symbol, now_us = fill[:8]
    symbol, side, client_id = fill[8:11]
    row: dict[str, Any] = {
        "fee": _FMT(fee, "f"),
        "feeSymbol": fee_symbol,
        "isMaker": is_maker,
        "orderId": str(order_id),
        "price": _FMT(price, "f"),
        "quantity": _FMT(quantity, "f"),
        "side": side,
        "symbol": symbol,
        "timestamp": us_to_iso(now_us),
        "tradeId": trade_id,
    }
    if client_id is not None:
        row["clientId"] = str(client_id)
    return row


Settlement = tuple[int, int, str, Decimal, int | None, int]
"""(engine sequence, engine time in us, source, signed USDC quantity, position id,
subaccount id): one USDC movement the exchange settled on the account.

Sources (the spec's ``SettlementSource``): ``RealizePnl`` (a fill that reduced a position,
the price PnL it realized), ``TradingFees`` (a perpetual fill's fee, negative when paid),
``FundingPayment`` (a funding interval's payment, as in ``/wapi/v1/history/funding``).
Spot fees are taken from the asset a spot fill delivers and are not settlements.
"""

SETTLEMENT_SOURCE = 2


def settlement_to_wire(settlement: Settlement) -> dict[str, Any]:
    """One row of ``GET /wapi/v1/history/settlement``: the spec's ``Settlement``."""
    sequence, now_us, source, quantity, position_id, subaccount_id = settlement
    row: dict[str, Any] = {
        "quantity": _FMT(quantity, "f"),
        "source": source,
        "subaccountId": subaccount_id,
        "timestamp": us_to_iso(now_us),
        "userId": 1,
        "engineSequence": sequence,
    }
    if position_id is not None:
        row["positionId"] = str(position_id)
    return row
