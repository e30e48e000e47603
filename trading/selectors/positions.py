"""Read models of positions: one subaccount's open positions with the desk's liquidation
estimate, and every position of the team."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from accounts.models import Subaccount
from trading.backpack import Collateral, Position
from trading.balances.fetch import collateral_read
from trading.exchange import client_for
from trading.failures import EXCHANGE_ERRORS
from trading.selectors.access import AccountBlock, guarded, subaccount_access_async
from trading.selectors.cache import cached
from trading.selectors.markets import markets_known
from trading.selectors.orders import open_orders_for

POSITIONS_CACHE_S = 2.0


def liquidation_price(position: Position, collateral: Collateral) -> Decimal | None:
    """The desk's liquidation estimate for `position`, other positions held still.

    The account is liquidated when its net equity falls to the maintenance margin. With the
    position's signed size q, its mark M, the account's net equity E and maintenance margin
    fraction mmf, moving the price to P changes equity to E + q (P - M) while the maintenance
    requirement becomes mmf |q| P. Setting them equal:

        P = (q M - E) / (q - mmf |q|)

    i.e. below the entry for a long (q > 0), above it for a short. No answer (None) when the
    equity never reaches the requirement (P <= 0) or the inputs are missing; the exchange's
    own figure (`est_liquidation_price`) is shown next to it.
    """
    q = position.net_quantity
    if q == 0:
        return None
    mmf = collateral.mmf if collateral.mmf is not None else Decimal(0)
    denominator = q - mmf * abs(q)
    if denominator == 0:
        return None
    price = (q * position.mark_price - collateral.net_equity) / denominator
    return price if price > 0 else None


async def positions_for(
    subaccount: Subaccount, *, shared: bool = False
) -> tuple[list[Position], dict[str, Any]]:
    """Open positions with the desk's liquidation estimates, keyed by symbol. ``shared``:
    the margin summary may be the one a balances read has in flight (started no earlier)."""
    client = client_for(subaccount)
    collateral = collateral_read(subaccount, client) if shared else client.collateral()
    positions, collateral = await asyncio.gather(client.positions(), collateral)
    open_positions = [p for p in positions if p.net_quantity != 0]
    estimates = {p.symbol: liquidation_price(p, collateral) for p in open_positions}
    return open_positions, estimates


async def positions_recent(subaccount: Subaccount) -> tuple[list[Position], dict[str, Any]]:
    """:func:`positions_for`, read at most once per 2 s per subaccount (the team overview's
    poll and the funding page read every subaccount's positions)."""
    return await cached(
        ("positions", subaccount.pk),
        POSITIONS_CACHE_S,
        lambda: positions_for(subaccount, shared=True),
    )


async def positions_for_team(*, user: Any) -> list[AccountBlock]:
    """Positions of every subaccount the user may see, read concurrently, with the open
    orders of each subaccount that has a position (where its take-profit / stop-loss are)."""
    accesses = await subaccount_access_async(user=user)
    blocks = [AccountBlock(access) for access in accesses]

    async def fill(block: AccountBlock) -> None:
        result = await guarded(block, positions_for(block.access.subaccount))
        if result is not None:
            block.positions, block.liquidations = result
        if block.positions:
            try:  # without them the positions still show, only their exits do not
                block.orders = await open_orders_for(block.access.subaccount)
            except EXCHANGE_ERRORS:
                block.orders = None

    _, markets = await asyncio.gather(asyncio.gather(*(fill(b) for b in blocks)), markets_known())
    for block in blocks:
        block.markets = markets
    return blocks
