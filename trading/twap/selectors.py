"""The running TWAPs of a subaccount with their progress (read model for the TWAP page), and
those of every subaccount a user may see (the orders page, which every member's browser polls:
each subaccount's list is read at most once per `TEAM_TWAPS_CACHE_S` whoever polls, and read
afresh after this process started or cancelled one)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from asgiref.sync import sync_to_async
from django.utils import timezone

from accounts.models import AuditEvent, Subaccount
from trading.backpack import Market, Side, Strategy
from trading.exchange import client_for
from trading.failures import EXCHANGE_ERRORS, failure_text
from trading.formatting import plain, price, quantity
from trading.selectors.access import SubaccountAccess, subaccount_access_async
from trading.selectors.cache import cache_forget, cached
from trading.selectors.markets import markets_known

TEAM_TWAPS_CACHE_S = 2.0


@dataclass(frozen=True)
class TwapRow:
    """One TWAP: the exchange's strategy and the arrival price the desk started it at, and
    the market's rules for its figures (prices on the tick, sizes on the step; None: unknown,
    shown plain)."""

    strategy: Strategy
    arrival_price: Decimal | None
    market: Market | None = None

    def _price(self, value: Decimal | None) -> str:
        return plain(value) if self.market is None else price(value, self.market)

    def _quantity(self, value: Decimal | None) -> str:
        return plain(value) if self.market is None else quantity(value, self.market)

    @property
    def quantity_text(self) -> str:
        return self._quantity(self.strategy.quantity)

    @property
    def executed_text(self) -> str:
        return self._quantity(self.strategy.executed_quantity)

    @property
    def remaining_text(self) -> str:
        return self._quantity(self.strategy.remaining_quantity)

    @property
    def average_text(self) -> str:
        """The average fill price on the tick ("3,766.00" is never "3,766.0000"); the dash
        before the first fill."""
        return self._price(self.strategy.average_price)

    @property
    def arrival_text(self) -> str:
        return self._price(self.arrival_price)

    @property
    def interval_s(self) -> Decimal:
        return Decimal(self.strategy.interval_ms) / 1000

    @property
    def duration_s(self) -> Decimal:
        return Decimal(self.strategy.duration_ms) / 1000

    @property
    def percent_done(self) -> int:
        """Executed share of the size, in whole percent (0 to 100)."""
        total = self.strategy.quantity
        if not total:
            return 0
        return min(100, int(self.strategy.executed_quantity * 100 / total))

    @property
    def slippage_bps(self) -> Decimal | None:
        """Average price against the arrival price, in basis points (positive: worse)."""
        average = self.strategy.average_price
        if average is None or not self.arrival_price:
            return None
        sign = 1 if self.strategy.side == Side.BID else -1
        return (average - self.arrival_price) * sign * 10_000 / self.arrival_price


@sync_to_async
def _arrival_prices(subaccount: Subaccount) -> dict[str, Decimal]:
    events = AuditEvent.objects.filter(
        action="twap_start", subaccount=subaccount, result=AuditEvent.Result.OK
    ).order_by("-pk")[:200]
    prices = {}
    for event in events:
        strategy_id = event.parameters.get("strategyId")
        arrival = event.parameters.get("arrivalPrice")
        if strategy_id and arrival not in (None, ""):
            prices[str(strategy_id)] = Decimal(str(arrival))
    return prices


async def twaps_running(*, subaccount: Subaccount, symbol: str | None = None) -> list[TwapRow]:
    """The subaccount's running strategies (standard rate budget: fine to poll)."""
    strategies = await client_for(subaccount).open_strategies(symbol=symbol)
    arrivals = await _arrival_prices(subaccount) if strategies else {}
    markets = await markets_known() if strategies else {}
    return [
        TwapRow(strategy=s, arrival_price=arrivals.get(s.id), market=markets.get(s.symbol))
        for s in strategies
    ]


def _recent_key(subaccount: Subaccount) -> tuple[str, int]:
    return ("twaps", subaccount.pk)


async def twaps_recent(*, subaccount: Subaccount) -> tuple[datetime, list[TwapRow]]:
    """`twaps_running` of every market, read at most once per `TEAM_TWAPS_CACHE_S`, with the
    time that read began (what it cannot show began after it)."""

    async def load() -> tuple[datetime, list[TwapRow]]:
        started = timezone.now()
        return started, await twaps_running(subaccount=subaccount)

    return await cached(_recent_key(subaccount), TEAM_TWAPS_CACHE_S, load)


def twaps_changed(*, subaccount: Subaccount) -> None:
    """This process started or cancelled a TWAP of the subaccount: its next list is read
    afresh."""
    cache_forget(_recent_key(subaccount))


@dataclass
class TeamTwaps:
    """One subaccount's running TWAPs on a team page, or why they could not be read;
    `read_started_at`: when the read that found `rows` began."""

    access: SubaccountAccess
    rows: list[TwapRow] = field(default_factory=list)
    error: str = ""
    read_started_at: datetime | None = None


async def twaps_for_team(*, user: object) -> list[TeamTwaps]:
    """The running TWAPs of every subaccount the user may see (viewers too), read
    concurrently (a read of the last `TEAM_TWAPS_CACHE_S` will do); a subaccount whose read
    failed carries the reason instead of rows."""
    blocks = [TeamTwaps(access) for access in await subaccount_access_async(user=user)]

    async def fill(block: TeamTwaps) -> None:
        try:
            started, rows = await twaps_recent(subaccount=block.access.subaccount)
        except EXCHANGE_ERRORS as error:
            block.error = failure_text(error)
        else:
            block.rows, block.read_started_at = rows, started

    await asyncio.gather(*(fill(b) for b in blocks))
    return blocks
