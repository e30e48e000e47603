"""Starting and cancelling a TWAP (the exchange's ``Scheduled`` strategy) on a subaccount.

Trader role or above. Before anything is signed the whole TWAP passes the risk gate as one
order: its quantity at the best opposite price now (the last price without a book), the
worst case of every slice filling there; a reduce-only TWAP passes at once. The exchange
then runs the slices by itself; each one it sends is an order of the subaccount like any
other, so the gate's next exposure read sees what has been executed. What the strategy has
still to execute is never in that read, so its reservation keeps counting, however long the
TWAP runs: until it is cancelled here, or seen finished in the exchange's list of running
strategies (`twap_reservations_sync`, which also shrinks it to the remaining quantity), or at
the latest a minute after its scheduled end.
Every start and cancel leaves one audit record. A start records a desk ticket in the
member's name (its ``clientStrategyId``, then the strategy id), so the slices the exchange
sends, which carry only the ``strategyId``, are the member's orders and fills.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from asgiref.sync import sync_to_async
from django.utils import timezone

from accounts.models import Subaccount
from trading.audited import audited, require_trader
from trading.backpack import BackpackError, ExchangeUnavailableError, Side, Strategy
from trading.backpack.errors import InvalidOrderError
from trading.desk_tickets import (
    OrderRef,
    desk_ticket_strategy_finish,
    desk_tickets_record,
    ticket_owners,
)
from trading.exchange import client_for, exchange_session
from trading.failures import failure_reason
from trading.risk.reservations import RESERVATION_TTL
from trading.risk.services import (
    risk_gate_admit,
    risk_reservation_hold,
    risk_reservation_settle,
    risk_reservation_strategies_seen,
    risk_reservation_strategy_end,
)
from trading.twap.ended import twap_ended_remember
from trading.twap.selectors import twaps_changed

MS = 1000

# What to correct on the TWAP form, by the field the exchange client names (its own words,
# "Correct the order and send it again.", name no form).
TWAP_CORRECTIONS = {"quantity": "Correct the size in the TWAP form."}
TWAP_CORRECTION = "Correct the TWAP form's size, duration, interval and slippage tolerance."


async def twap_arrival_price(symbol: str, side: Side) -> Decimal:
    """The price a TWAP starts against: the best opposite price now, else the last price."""
    client = exchange_session().client()
    depth = await client.depth(symbol, limit=5)
    prices = [p for p, _ in (depth.asks if side == Side.BID else depth.bids)]
    if prices:
        return min(prices) if side == Side.BID else max(prices)
    return (await client.ticker(symbol)).last_price


async def twap_start(
    *,
    actor: Any,
    subaccount: Subaccount,
    symbol: str,
    side: Side,
    quantity: Decimal,
    duration_s: int,
    interval_s: int,
    randomized: bool = False,
    reduce_only: bool = False,
    slippage_percent: Decimal | None = None,
    ip: str | None = None,
) -> Strategy:
    """Start a TWAP of ``quantity`` over ``duration_s`` seconds, one slice every
    ``interval_s`` seconds. Raises `RiskRefused` (nothing sent), `PermissionDenied`, or the
    client's `BackpackError` (audited as failed)."""
    parameters: dict[str, Any] = {
        "symbol": symbol,
        "side": str(side),
        "quantity": quantity,
        "duration_s": duration_s,
        "interval_s": interval_s,
        "randomized": randomized,
        "reduceOnly": reduce_only,
        "slippagePercent": slippage_percent,
    }
    await require_trader(actor, subaccount, "twap_start", ip, parameters)
    arrival = Decimal(0) if reduce_only else await twap_arrival_price(symbol, side)
    parameters["arrivalPrice"] = arrival
    reservation = await risk_gate_admit(
        actor=actor,
        subaccount=subaccount,
        symbol=symbol,
        side=side,
        notional=quantity * arrival,
        reduce_only=reduce_only,
        quote=symbol.split("_")[1] if "_" in symbol else "USDC",
        action="twap_start",
        ip=ip,
        context=parameters,
    )

    (ticket,), (client_strategy_id,) = await desk_tickets_record(
        actor=actor, subaccount=subaccount, symbol=symbol, count=1, source="twap"
    )

    async def free_reservation(error: BaseException) -> None:
        await desk_ticket_strategy_finish(ticket=ticket, result=error)
        if not isinstance(error, ExchangeUnavailableError):  # unknown outcome: kept
            await risk_reservation_settle(reservation_id=reservation, placed=False)

    async with audited(
        actor=actor,
        subaccount=subaccount,
        action="twap_start",
        ip=ip,
        parameters=parameters,
        errors=BackpackError,
        detail=failure_reason,
        on_error=free_reservation,
    ) as call:
        try:
            strategy = await client_for(subaccount).create_twap(
                symbol,
                side,
                quantity=quantity,
                duration_ms=duration_s * MS,
                interval_ms=interval_s * MS,
                randomized=randomized,
                reduce_only=reduce_only or None,
                slippage_tolerance=slippage_percent,
                slippage_tolerance_type="Percent" if slippage_percent is not None else None,
                client_strategy_id=client_strategy_id,
            )
        except InvalidOrderError as error:
            error.action = TWAP_CORRECTIONS.get(error.field or "", TWAP_CORRECTION)
            raise
        await desk_ticket_strategy_finish(ticket=ticket, result=strategy)
        twaps_changed(subaccount=subaccount)
        until = timezone.now() + timedelta(seconds=duration_s) + RESERVATION_TTL
        await risk_reservation_hold(
            reservation_id=reservation, strategy_id=strategy.id, until=until
        )
        call.outcome(detail=strategy.status.value, strategyId=strategy.id)
    return strategy


async def twap_cancel(
    *, actor: Any, subaccount: Subaccount, symbol: str, strategy_id: str, ip: str | None = None
) -> Strategy:
    """Stop a running TWAP (trader+); one already ended answers its final state."""
    parameters = {"symbol": symbol, "strategyId": strategy_id}
    await require_trader(actor, subaccount, "twap_cancel", ip, parameters)
    return await _strategy_cancel(
        subaccount=subaccount,
        client=client_for(subaccount),
        symbol=symbol,
        strategy_id=strategy_id,
        actor=actor,
        ip=ip,
        parameters=parameters,
    )


async def _strategy_cancel(
    *,
    subaccount: Subaccount,
    client: Any,
    symbol: str,
    strategy_id: str,
    actor: Any,
    ip: str | None,
    parameters: dict[str, Any],
    reason: str = "",
) -> Strategy:
    """Cancel one strategy on the exchange, audited as ``twap_cancel`` (with ``reason`` after
    its final state when no one asked for it), and let go of what the desk kept for it: the
    TWAP lists' cache, its end remembered, its reservation."""
    async with audited(
        actor=actor,
        subaccount=subaccount,
        action="twap_cancel",
        ip=ip,
        parameters=parameters,
        errors=BackpackError,
        detail=failure_reason,
    ) as call:
        strategy = await client.cancel_strategy(symbol, strategy_id=strategy_id)
        twaps_changed(subaccount=subaccount)
        twap_ended_remember(strategy)
        await risk_reservation_strategy_end(subaccount=subaccount, strategy_id=strategy_id)
        status = strategy.status.value
        call.outcome(detail=f"{status}: {reason}" if reason else status)
    return strategy


async def twaps_stop_for_risk(
    *,
    subaccount: Subaccount,
    reason: str,
    members: Collection[int] | None = None,
    client: Any = None,
) -> list[Strategy]:
    """Stop the subaccount's running TWAPs without anyone's action, because a risk stop made
    the subaccount or some members reduce-only (the daily loss stop): every one
    (``members`` None) or those the ``members`` (user ids) started, by the desk ticket of
    each. The exchange sends a TWAP's slices past the gate, so a running one would keep
    adding risk. Each cancel is audited (``twap_cancel``, no actor, ``reason``); a cancel
    that fails is audited as failed and the others go on."""
    client = client or client_for(subaccount)
    running = await client.open_strategies()
    if members is not None and running:
        refs = [OrderRef(strategy_id=s.id) for s in running]
        owners = await sync_to_async(ticket_owners)(subaccount.pk, refs, value="actor_id")
        running = [s for s in running if owners.by_strategy.get(s.id) in members]
    stopped = []
    for strategy in running:
        parameters = {"symbol": strategy.symbol, "strategyId": strategy.id, "reason": reason}
        try:
            done = await _strategy_cancel(
                subaccount=subaccount,
                client=client,
                symbol=strategy.symbol,
                strategy_id=strategy.id,
                actor=None,
                ip=None,
                parameters=parameters,
                reason=reason,
            )
        except BackpackError:
            continue  # audited as failed; the others go on
        stopped.append(done)
    return stopped


async def twap_reservations_sync(
    *,
    subaccount: Subaccount,
    running: Sequence[Any],
    read_started_at: datetime,
    symbol: str | None = None,
) -> None:
    """The exchange's running TWAPs of the subaccount (of `symbol`, or all; `TwapRow`s read
    from `read_started_at`) were read: each one's reservation shrinks to what it has still
    to execute at its arrival price, and those of TWAPs no longer running stop counting."""
    remaining: dict[str, Decimal | None] = {}
    for row in running:
        left = row.strategy.remaining_quantity
        price = row.arrival_price
        remaining[row.strategy.id] = left * price if left is not None and price else None
    await risk_reservation_strategies_seen(
        subaccount=subaccount, remaining=remaining, read_started_at=read_started_at, symbol=symbol
    )
