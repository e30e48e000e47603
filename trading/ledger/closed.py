"""The closed-positions page's read model: each perpetual position the ledger saw open and
close, with its average entry and exit, size (the largest it reached), realized PnL (the
fold's, as in :mod:`trading.ledger.pnl`), fees, funding received while it was open, and how
long it lasted.

A fill that reverses a position closes it and opens the next with the rest; its fee is split
between the two in proportion to the quantity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from asgiref.sync import sync_to_async

from accounts.models import Subaccount
from accounts.team import team_time_zone
from trading.backpack import Market
from trading.ledger.pnl import ZERO
from trading.ledger.running import ledger_pnl_running
from trading.models.ledger import LedgerEntry
from trading.selectors import markets_known, subaccount_access_async

Kind = LedgerEntry.Kind
LIMIT = 500


@dataclass(frozen=True, slots=True)
class ClosedRow:
    subaccount: str
    symbol: str
    side: str  # "Long" or "Short"
    size: Decimal
    entry: Decimal
    exit: Decimal
    realized: Decimal
    fees: Decimal
    funding: Decimal
    opened_at: datetime
    closed_at: datetime
    market: Market | None = None  # its rules, for the decimals

    @property
    def duration(self) -> timedelta:
        return self.closed_at - self.opened_at

    @property
    def net(self) -> Decimal:
        return self.realized - self.fees + self.funding


@dataclass
class _Open:
    opened_at: datetime
    long: bool
    quantity: Decimal = ZERO  # absolute
    size: Decimal = ZERO
    entry_quantity: Decimal = ZERO
    entry_value: Decimal = ZERO
    exit_quantity: Decimal = ZERO
    exit_value: Decimal = ZERO
    fees: Decimal = ZERO
    funding: Decimal = ZERO

    def add(self, quantity: Decimal, price: Decimal, fee: Decimal) -> None:
        self.quantity += quantity
        self.size = max(self.size, self.quantity)
        self.entry_quantity += quantity
        self.entry_value += quantity * price
        self.fees += fee

    def reduce(self, quantity: Decimal, price: Decimal, fee: Decimal) -> None:
        self.quantity -= quantity
        self.exit_quantity += quantity
        self.exit_value += quantity * price
        self.fees += fee


def _rows(subaccount_id: int) -> list[tuple]:
    rows = LedgerEntry.objects.filter(
        subaccount_id=subaccount_id, kind__in=(Kind.FILL, Kind.FUNDING), symbol__endswith="_PERP"
    )
    fields = ("kind", "occurred_at", "symbol", "side", "quantity", "price", "fee", "fee_symbol")
    return list(rows.order_by("occurred_at", "id").values_list(*fields))


def _positions(rows: list[tuple]) -> list[tuple[str, _Open, datetime]]:
    """(symbol, position, closed at) of every position that closed, in closing order."""
    open_now: dict[str, _Open] = {}
    closed: list[tuple[str, _Open, datetime]] = []
    for kind, at, symbol, side, quantity, price, fee, fee_symbol in rows:
        current = open_now.get(symbol)
        if kind == Kind.FUNDING:
            if current is not None:
                current.funding += quantity
            continue
        fee_usdc = fee if fee_symbol == "USDC" else fee * price
        buying = side == "Bid"
        if current is None or current.long == buying:
            current = current or open_now.setdefault(symbol, _Open(at, buying))
            current.add(quantity, price, fee_usdc)
            continue
        closing = min(quantity, current.quantity)
        current.reduce(closing, price, fee_usdc * closing / quantity)
        if current.quantity == 0:
            closed.append((symbol, open_now.pop(symbol), at))
        rest = quantity - closing
        if rest > 0:
            opened = open_now[symbol] = _Open(at, buying)
            opened.add(rest, price, fee_usdc * rest / quantity)
    return closed


async def _closed_of(sub: Subaccount, markets: dict[str, Market]) -> list[ClosedRow]:
    positions = _positions(await sync_to_async(_rows)(sub.pk))
    zone = await sync_to_async(team_time_zone)()
    pnl = await ledger_pnl_running(subaccount=sub, marks={}, zone=zone)
    realized: dict[str, list[Decimal]] = {}
    for found in pnl.closed:
        realized.setdefault(found.symbol, []).append(found.realized)
    found_rows = []
    for symbol, p, closed_at in positions:
        queue = realized.get(symbol, [])
        found_rows.append(
            ClosedRow(
                sub.name,
                symbol,
                "Long" if p.long else "Short",
                p.size,
                p.entry_value / p.entry_quantity,
                p.exit_value / p.exit_quantity,
                queue.pop(0) if queue else ZERO,
                p.fees,
                p.funding,
                p.opened_at,
                closed_at,
                markets.get(symbol),
            )
        )
    return found_rows


async def closed_positions(*, user: Any) -> list[ClosedRow]:
    """Closed perpetual positions of the subaccounts ``user`` is a member of, newest first
    (the latest :data:`LIMIT`)."""
    rows: list[ClosedRow] = []
    markets = await markets_known()
    for access in await subaccount_access_async(user=user):
        rows.extend(await _closed_of(access.subaccount, markets))
    rows.sort(key=lambda r: r.closed_at, reverse=True)
    return rows[:LIMIT]


__all__ = ["ClosedRow", "closed_positions"]
