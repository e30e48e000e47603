"""The funding page's read model: funding paid and received per position (subaccount and
market) over the last 24 hours and 7 days from the ledger, and the next payment estimated
for each open position from the exchange's current funding rate.

Funding in the ledger is signed USDC, positive received. The estimate follows the exchange's
rule: a long pays ``size x mark x rate`` when the rate is positive, a short receives it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from accounts.models import Subaccount
from trading.backpack import MarkPrice, Position
from trading.exchange import exchange_session
from trading.ledger.pnl import ZERO
from trading.models.ledger import LedgerEntry
from trading.selectors import (
    EXCHANGE_ERRORS,
    exchange_error_text,
    positions_recent,
    subaccount_access_async,
)


@dataclass(frozen=True, slots=True)
class FundingLine:
    """One position (subaccount, market): paid (positive) and received over 24 h and 7 d,
    and, when open, the next payment's estimate (positive received) and when it is due."""

    subaccount: str
    symbol: str
    paid_24h: Decimal = ZERO
    received_24h: Decimal = ZERO
    paid_7d: Decimal = ZERO
    received_7d: Decimal = ZERO
    size: Decimal | None = None
    rate: Decimal | None = None
    next_estimate: Decimal | None = None
    next_at: datetime | None = None

    @property
    def net_7d(self) -> Decimal:
        return self.received_7d - self.paid_7d


@dataclass(frozen=True, slots=True)
class FundingReport:
    lines: tuple[FundingLine, ...]
    errors: tuple[tuple[str, str], ...]  # (subaccount, why its positions were not read)
    rates_error: str

    def total(self, field: str) -> Decimal:
        return sum((getattr(line, field) or ZERO for line in self.lines), ZERO)

    @property
    def totals(self) -> dict[str, Decimal]:
        fields = ("paid_24h", "received_24h", "paid_7d", "received_7d", "next_estimate")
        return {f: self.total(f) for f in fields}


def _payments(ids: list[int], since: datetime) -> list[tuple[int, str, datetime, Decimal]]:
    rows = LedgerEntry.objects.filter(
        subaccount_id__in=ids, kind=LedgerEntry.Kind.FUNDING, occurred_at__gte=since
    )
    return list(rows.values_list("subaccount_id", "symbol", "occurred_at", "quantity"))


async def _open_positions(sub: Subaccount) -> tuple[list[Position], str]:
    try:
        positions, _ = await positions_recent(sub)
    except EXCHANGE_ERRORS as error:
        return [], exchange_error_text(error)
    return positions, ""


async def _rates() -> tuple[dict[str, MarkPrice], str]:
    try:
        marks = await exchange_session().client().mark_prices()
    except EXCHANGE_ERRORS as error:
        return {}, exchange_error_text(error)
    return {m.symbol: m for m in marks}, ""


def _estimate(position: Position, mark: MarkPrice | None) -> tuple[Decimal | None, ...]:
    if mark is None or mark.funding_rate is None:
        return None, None
    rate = mark.funding_rate
    return rate, -position.net_quantity * position.mark_price * rate


async def funding_report(*, user: Any, now: datetime | None = None) -> FundingReport:
    """Funding of the subaccounts ``user`` is a member of, per position."""
    from asgiref.sync import sync_to_async

    now = now or datetime.now(UTC)
    accesses = await subaccount_access_async(user=user)
    subs = {a.subaccount.pk: a.subaccount for a in accesses}
    payments, opened, (rates, rates_error) = await asyncio.gather(
        sync_to_async(_payments)(list(subs), now - timedelta(days=7)),
        asyncio.gather(*(_open_positions(s) for s in subs.values())),
        _rates(),
    )
    sums: dict[tuple[int, str], dict[str, Decimal]] = {}
    for sub_id, symbol, at, amount in payments:
        found = sums.setdefault((sub_id, symbol), {})
        windows = ("7d", "24h") if at >= now - timedelta(days=1) else ("7d",)
        for window in windows:
            key = f"received_{window}" if amount > 0 else f"paid_{window}"
            found[key] = found.get(key, ZERO) + abs(amount)
    open_by: dict[tuple[int, str], Position] = {}
    errors = []
    for sub, (positions, error) in zip(subs.values(), opened, strict=True):
        if error:
            errors.append((sub.name, error))
        for position in positions:
            if position.symbol.endswith("_PERP"):
                open_by[(sub.pk, position.symbol)] = position
    lines = []
    for key in sorted(set(sums) | set(open_by), key=lambda k: (subs[k[0]].name, k[1])):
        position = open_by.get(key)
        mark = rates.get(key[1])
        rate, estimate = _estimate(position, mark) if position else (None, None)
        due = None
        if position and mark is not None and mark.next_funding_timestamp:
            due = datetime.fromtimestamp(mark.next_funding_timestamp / 1000, UTC)
        lines.append(
            FundingLine(
                subaccount=subs[key[0]].name,
                symbol=key[1],
                size=position.net_quantity if position else None,
                rate=rate,
                next_estimate=estimate,
                next_at=due,
                **sums.get(key, {}),
            )
        )
    return FundingReport(tuple(lines), tuple(errors), rates_error)


__all__ = ["FundingLine", "FundingReport", "funding_report"]
