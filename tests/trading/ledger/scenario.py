"""Moves on the sandbox for ledger tests: trades between two subaccounts, funding, marks,
and the exchange's own equity of a subaccount."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

from trading.backpack import BackpackClient
from trading.ledger.selectors import EquityPoint

PERP = "SOL_USDC_PERP"


async def trade(
    taker: BackpackClient,
    maker: BackpackClient,
    side: str,
    quantity: object,
    price: object,
    *,
    client_id: int | None = None,
) -> None:
    """``taker`` takes ``quantity`` on ``side`` at ``price`` from ``maker``'s resting order
    (the taker's order sent with ``client_id``)."""
    other = "Ask" if side == "Bid" else "Bid"
    await maker.place_order(PERP, other, "Limit", quantity=str(quantity), price=str(price))
    await taker.place_order(PERP, side, "Market", quantity=str(quantity), client_id=client_id)


async def equity_point(client: BackpackClient) -> EquityPoint:
    """The subaccount's equity as the exchange computes it, with the marks of its
    positions, stamped just after it was read (the exchange's times are in ms)."""
    collateral, positions = await asyncio.gather(client.collateral(), client.positions())
    marks = {p.symbol: p.mark_price for p in positions}
    at = datetime.now(UTC)
    await asyncio.sleep(0.005)
    return EquityPoint(at=at, equity=collateral.net_equity, marks=marks)


async def window_closed() -> None:
    """Deposits and withdrawals are read up to a second before exchange time: wait it out."""
    await asyncio.sleep(1.1)


__all__ = ["PERP", "Decimal", "equity_point", "trade", "window_closed"]
