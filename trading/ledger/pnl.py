"""PnL from ledger events: a pure fold, Decimal in, Decimal out (no I/O, no Django).

Positions are kept per market at average cost, as the exchange keeps them: a fill that
reduces a position realizes ``price x closed - removed cost``, where the cost taken off a
partly closed position is rounded once to 1e-12 and used for both the PnL and the cost that
remains (so realized plus remaining cost is exact); a fill that reverses a position closes
it and opens a new one with the rest. Each closed position's realized PnL is therefore the
exchange's ``cumulativePnlRealized`` of that position.

Spot fills hold the quantity actually received: a buy whose fee is taken in the base asset
adds ``quantity - fee`` at the fill price, and the fee counts ``fee x price`` USDC; a fee
in USDC counts as is. With that rule, for every interval::

    change in equity - net transfers == realized - fees + funding + change in unrealized

where equity is the USDC balance plus every holding at mark (the reconciliation checks it).

Attribution: a fill's realized PnL and fee belong to the member who sent its order (found by
``clientId``), or to nobody ("outside the desk"); funding belongs to the position, not to a
member.

Usage::

    fold = PnlFold(zone=ZoneInfo("UTC"))
    for event in events:                       # oldest first
        fold.add(event)
    fold.rows                                  # {(day, symbol, member): PnlRow}
    fold.unrealized(marks)                     # {symbol: Decimal}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import Decimal

ZERO = Decimal(0)
QUOTE = "USDC"
COST_QUANTUM = Decimal("1e-12")
OUTSIDE = ""
"""The member of fills whose orders the desk did not send."""


@dataclass(frozen=True, slots=True)
class FillEvent:
    """A fill as the fold needs it (``side`` "Bid" buys, "Ask" sells)."""

    at: datetime
    symbol: str
    side: str
    quantity: Decimal
    price: Decimal
    fee: Decimal
    fee_symbol: str
    member: str = OUTSIDE


@dataclass(frozen=True, slots=True)
class FundingEvent:
    """A funding payment in USDC (positive received)."""

    at: datetime
    symbol: str
    quantity: Decimal


@dataclass(slots=True)
class PnlRow:
    """What one (day, market, member) made: realized, fees (positive paid), funding."""

    realized: Decimal = ZERO
    fees: Decimal = ZERO
    funding: Decimal = ZERO

    @property
    def net(self) -> Decimal:
        """realized - fees + funding."""
        return self.realized - self.fees + self.funding


@dataclass(frozen=True, slots=True)
class ClosedPosition:
    """A position the fold saw open and close: its market and its realized price PnL."""

    symbol: str
    realized: Decimal
    opened_at: datetime
    closed_at: datetime


@dataclass(slots=True)
class Holding:
    """One market's open position at average cost (``quantity`` signed, long > 0)."""

    quantity: Decimal = ZERO
    cost: Decimal = ZERO
    realized: Decimal = ZERO
    opened_at: datetime | None = None

    def apply(self, signed: Decimal, price: Decimal) -> Decimal:
        """Add ``signed`` (never crossing zero) at ``price``; return the PnL realized."""
        net = self.quantity
        if net and (net > 0) != (signed > 0):
            size = abs(net)
            closing = abs(signed)
            if closing == size:
                removed = self.cost
            else:
                removed = (self.cost * closing / size).quantize(COST_QUANTUM)
            value = price * closing
            realized = value - removed if net > 0 else -removed - value
            self.quantity = net + signed
            self.cost -= removed
            self.realized += realized
            return realized
        self.quantity = net + signed
        self.cost += signed * price
        return ZERO

    def unrealized(self, mark: Decimal) -> Decimal:
        """The position valued at ``mark`` less its cost."""
        return self.quantity * mark - self.cost


def _base_of(symbol: str) -> str:
    return symbol.split("_", 1)[0]


def _is_perp(symbol: str) -> bool:
    return symbol.endswith("_PERP")


@dataclass(slots=True)
class PnlFold:
    """The running PnL of one subaccount: add events oldest first."""

    zone: tzinfo
    rows: dict[tuple[date, str, str], PnlRow] = field(default_factory=dict)
    holdings: dict[str, Holding] = field(default_factory=dict)
    closed: list[ClosedPosition] = field(default_factory=list)

    def _row(self, at: datetime, symbol: str, member: str) -> PnlRow:
        key = (at.astimezone(self.zone).date(), symbol, member)
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = PnlRow()
        return row

    def add(self, event: FillEvent | FundingEvent) -> None:
        """Fold one event in."""
        if isinstance(event, FundingEvent):
            self._row(event.at, event.symbol, OUTSIDE).funding += event.quantity
            return
        self.add_fill(event)

    def add_fill(self, fill: FillEvent) -> Decimal:
        """Fold one fill in; return the PnL it realized."""
        symbol, price = fill.symbol, fill.price
        quantity = fill.quantity
        fee_usdc = fill.fee
        if fill.fee_symbol != QUOTE:
            fee_usdc = fill.fee * price
            if not _is_perp(symbol) and fill.side == "Bid" and fill.fee_symbol == _base_of(symbol):
                quantity -= fill.fee  # the fee was taken from what the buy delivered
        signed = quantity if fill.side == "Bid" else -quantity
        holding = self.holdings.get(symbol)
        if holding is None:
            holding = self.holdings[symbol] = Holding(opened_at=fill.at)
        realized = ZERO
        net = holding.quantity
        if net and (net > 0) != (signed > 0) and abs(signed) > abs(net):
            realized += holding.apply(-net, price)
            self._close(symbol, holding, fill.at)
            holding = self.holdings[symbol] = Holding(opened_at=fill.at)
            signed += net
        if holding.opened_at is None:
            holding.opened_at = fill.at
        realized += holding.apply(signed, price)
        if not holding.quantity:
            self._close(symbol, holding, fill.at)
            del self.holdings[symbol]
        row = self._row(fill.at, symbol, fill.member)
        row.realized += realized
        row.fees += fee_usdc
        return realized

    def _close(self, symbol: str, holding: Holding, at: datetime) -> None:
        opened = holding.opened_at or at
        self.closed.append(ClosedPosition(symbol, holding.realized, opened, at))

    def unrealized(self, marks: Mapping[str, Decimal]) -> dict[str, Decimal]:
        """Unrealized PnL of each open holding at ``marks`` (a market without a mark
        counts at its average cost, i.e. zero)."""
        found: dict[str, Decimal] = {}
        for symbol, holding in self.holdings.items():
            mark = marks.get(symbol)
            found[symbol] = holding.unrealized(mark) if mark is not None else ZERO
        return found

    def totals(self) -> PnlRow:
        """Realized, fees and funding over every row."""
        total = PnlRow()
        for row in self.rows.values():
            total.realized += row.realized
            total.fees += row.fees
            total.funding += row.funding
        return total


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """One interval of one subaccount: what equity did against what the ledger explains.

    ``mismatch`` = (equity change - net transfers) - (realized - fees + funding + change in
    unrealized); zero when the ledger explains every cent."""

    start: datetime
    end: datetime
    equity_change: Decimal
    net_transfers: Decimal
    realized: Decimal
    fees: Decimal
    funding: Decimal
    unrealized_change: Decimal

    @property
    def explained(self) -> Decimal:
        return self.realized - self.fees + self.funding + self.unrealized_change

    @property
    def mismatch(self) -> Decimal:
        return self.equity_change - self.net_transfers - self.explained


__all__ = [
    "OUTSIDE",
    "ClosedPosition",
    "FillEvent",
    "FundingEvent",
    "Holding",
    "PnlFold",
    "PnlRow",
    "Reconciliation",
]
