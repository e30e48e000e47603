"""The TWAPs the desk started on a market that have ended (completed, cancelled, or stopped
by the exchange), with why, in a trader's words: what the TWAP page lists under "Recently
ended", so a TWAP the exchange terminates does not just vanish from the running list.

The exchange lists ended strategies only in its history (the 30/minute historical budget),
so it is read only when a TWAP the desk started lately is neither running nor known to
have ended, at most once per `HISTORY_READ_S` per subaccount and market; an ended strategy
never changes, so each is kept once read, for `ENDED_WINDOW` (and one cancelled here is known
from the cancel's answer)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta

from asgiref.sync import sync_to_async
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import AuditEvent, Subaccount
from trading.backpack import SlippageToleranceType, Strategy, StrategyStatus
from trading.exchange import client_for
from trading.failures import EXCHANGE_ERRORS
from trading.formatting import plain
from trading.selectors.cache import cache_keep, cache_peek, cached

ENDED_WINDOW = timedelta(hours=6)  # a TWAP started this long ago is no longer "recent"
ENDED_SHOWN = 5
HISTORY_READ_S = 10.0
HISTORY_LIMIT = 100

AGAIN_SMALLER_SLIPPAGE = "Start it again with a smaller slippage tolerance."
# StrategyCrankCancelReason (the spec) in a trader's words; "{slippage}" is the TWAP's own
# tolerance where it is the likely cause.
REASONS = {
    "PriceOutOfBounds": "price out of bounds{slippage}: a slice's price was outside the price "
    "band the market allows. " + AGAIN_SMALLER_SLIPPAGE,
    "InvalidPrice": "invalid price{slippage}: the exchange refused a slice's price. "
    + AGAIN_SMALLER_SLIPPAGE,
    "InsufficientLiquidity": "not enough liquidity: size was left after the last slice "
    "(the book was too thin within the slippage tolerance).",
    "InsufficientFunds": "insufficient funds: a slice needed more than the subaccount holds.",
    "InsufficientMargin": "insufficient margin: a slice needed more margin than the "
    "subaccount has.",
    "InsufficientBorrowableQuantity": "not enough to borrow for a slice.",
    "ReduceOnlyNotReduced": "reduce only: a slice would not have reduced the position.",
    "SelfTradePrevention": "self-trade prevention: a slice would have traded against the "
    "subaccount's own order.",
    "FillOrKill": "a fill-or-kill slice could not fill whole.",
    "InvalidQuantity": "invalid quantity: the exchange refused a slice's size.",
    "Expired": "it expired.",
    "Liquidation": "the subaccount was liquidated.",
    "UserPermissions": "the subaccount's key may not trade.",
}


def _key(strategy_id: str) -> tuple[str, str]:
    return ("twap-ended", strategy_id)


def twap_ended_remember(strategy: Strategy) -> None:
    """A strategy seen in a final state (the cancel's answer, the history)."""
    if strategy.status.is_final:
        cache_keep(_key(strategy.id), ENDED_WINDOW.total_seconds(), strategy)


def _slippage(strategy: Strategy) -> str:
    tolerance = strategy.slippage_tolerance
    if tolerance is None:
        return ""
    unit = "%" if strategy.slippage_tolerance_type != SlippageToleranceType.TICK_SIZE else " ticks"
    return f" (slippage tolerance {plain(tolerance)}{unit})"


@dataclass(frozen=True)
class EndedTwap:
    """One ended TWAP on the page."""

    strategy: Strategy

    @property
    def text(self) -> str:
        return twap_end_text(self.strategy)

    @property
    def stopped(self) -> bool:
        """Ended by the exchange, not completed nor cancelled by the desk."""
        return self.strategy.status == StrategyStatus.TERMINATED


def twap_end_text(strategy: Strategy) -> str:
    """How a TWAP ended and how much of it was executed, in a trader's words."""
    done = f"Executed {plain(strategy.executed_quantity)} of {plain(strategy.quantity)}."
    status = strategy.status
    if status == StrategyStatus.COMPLETED:
        return f"Completed. {done}"
    if status == StrategyStatus.CANCELLED:
        return f"Cancelled by a member of the desk. {done}"
    reason = strategy.cancel_reason or ""
    words = REASONS.get(reason)
    if words is None:
        words = f"{reason or 'no reason given'}."
    return f"Stopped by the exchange: {words.format(slippage=_slippage(strategy))} {done}"


@sync_to_async
def _started_lately(subaccount: Subaccount, symbol: str) -> dict[str, AuditEvent]:
    """The start records of the TWAPs started on ``symbol`` lately by strategy id, newest
    first."""
    events = (
        AuditEvent.objects.filter(
            action="twap_start",
            subaccount=subaccount,
            result=AuditEvent.Result.OK,
            created_at__gte=timezone.now() - ENDED_WINDOW,
        )
        .select_related("actor")
        .order_by("-pk")[:200]
    )
    started = {}
    for event in events:
        strategy_id = event.parameters.get("strategyId")
        if strategy_id and event.parameters.get("symbol") == symbol:
            started.setdefault(str(strategy_id), event)
    return started


@sync_to_async
def _audit_ends(subaccount: Subaccount, ends: list[tuple[AuditEvent, Strategy]]) -> None:
    """One ``twap_end`` record per TWAP the exchange ended (completed, stopped, or cancelled
    elsewhere than here), in the name of the member who started it: the trail says how each
    TWAP ended, not only that it started. Recorded once, whichever process learns it first."""
    for start, strategy in ends:
        # a cancel from the desk is audited already (twap_cancel), maybe by another process
        actions = ["twap_end", "twap_cancel"]
        seen = AuditEvent.objects.filter(
            action__in=actions, subaccount=subaccount, parameters__strategyId=strategy.id
        )
        if seen.exists():
            continue
        audit_record(
            actor=start.actor,
            action="twap_end",
            subaccount=subaccount,
            parameters={
                "symbol": strategy.symbol,
                "strategyId": strategy.id,
                "status": strategy.status.value,
                "cancelReason": strategy.cancel_reason or "",
                "executedQuantity": strategy.executed_quantity,
            },
            result=AuditEvent.Result.FAILED
            if strategy.status == StrategyStatus.TERMINATED
            else AuditEvent.Result.OK,
            detail=twap_end_text(strategy),
        )


async def _read_history(subaccount: Subaccount, symbol: str, started: dict[str, AuditEvent]):
    async def load() -> list[Strategy]:
        return await client_for(subaccount).strategy_history(symbol=symbol, limit=HISTORY_LIMIT)

    try:
        past = await cached(("twap-history", subaccount.pk, symbol), HISTORY_READ_S, load)
    except EXCHANGE_ERRORS:
        return  # the running list says what the exchange answered; the next poll tries again
    ends = []
    for strategy in past:
        if strategy.id in started and cache_peek(_key(strategy.id)) is None:
            ends.append((started[strategy.id], strategy))
        twap_ended_remember(strategy)
    if ends:
        await _audit_ends(subaccount, ends)


async def twaps_ended(
    *, subaccount: Subaccount, symbol: str, running: Collection[str]
) -> list[EndedTwap]:
    """The TWAPs started on ``symbol`` lately that ended (``running``: the ids the exchange
    says run now), newest first, at most `ENDED_SHOWN`; one learnt from the exchange's
    history is audited once (``twap_end``)."""
    started = {
        s: event
        for s, event in (await _started_lately(subaccount, symbol)).items()
        if s not in running
    }
    if any(cache_peek(_key(s)) is None for s in started):
        await _read_history(subaccount, symbol, started)
    known = (cache_peek(_key(s)) for s in started)
    return [EndedTwap(strategy) for strategy in known if strategy is not None][:ENDED_SHOWN]
