"""What the order ticket needs of a subaccount's account now: its taker fee, its equity
(for the fat-finger guard) and what each side may spend."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from accounts.models import Subaccount
from trading.backpack import Market
from trading.balances.fetch import account_read
from trading.exchange import client_for
from trading.failures import EXCHANGE_ERRORS
from trading.selectors.cache import cached

FEE_CACHE_S = 300.0


async def taker_fee_bps(subaccount: Subaccount, market: Market) -> Decimal | None:
    """The subaccount's taker fee in basis points for this kind of market, None if unknown."""

    async def load() -> Any:
        return await client_for(subaccount).account()

    try:
        account = await cached(("account", subaccount.pk), FEE_CACHE_S, load)
    except EXCHANGE_ERRORS:
        return None
    return account.futures_taker_fee if market.is_perp else account.spot_taker_fee


@dataclass(frozen=True)
class TicketFunds:
    """What the ticket needs of a subaccount's account now: its net equity (for the
    fat-finger guard) and what each side may spend, or None where the read failed."""

    equity: Decimal | None
    spendable: dict[str, Decimal]  # asset -> available (spot balances)
    collateral_available: Decimal | None  # perpetual markets spend collateral
    error: str = ""

    def available(self, market: Market, *, buying: bool) -> tuple[Decimal | None, str]:
        """What an order on `market` may spend, in which asset (perp: collateral)."""
        if market.is_perp:
            return self.collateral_available, market.quote_symbol
        asset = market.quote_symbol if buying else market.base_symbol
        if self.error:
            return None, asset
        return self.spendable.get(asset, Decimal(0)), asset


async def ticket_funds(subaccount: Subaccount) -> TicketFunds:
    """Equity and spendable balances of `subaccount` (shared with the balances reads of the
    last ~2 s, so typing in the ticket costs no extra exchange reads)."""
    read = await account_read(subaccount)
    collateral = read.collateral
    return TicketFunds(
        equity=collateral.net_equity if collateral is not None else None,
        spendable={a: b.available for a, b in (read.balances or {}).items()},
        collateral_available=collateral.net_equity_available if collateral else None,
        error=read.error or "",
    )
