"""Starting and cancelling a TWAP (the exchange's ``Scheduled`` strategy) on a subaccount.

Trader role or above. Before anything is signed the whole TWAP passes the risk gate as one
order: its quantity at the best opposite price now (the last price without a book), the
worst case of every slice filling there; a reduce-only TWAP passes at once. The exchange
then runs the slices by itself; each one it sends is an order of the subaccount like any
other, so the gate's next exposure read sees what has been executed. The reservation is
kept as for a placed order (it stops counting after the gate's reservation lifetime).
Every start and cancel leaves one audit record.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from accounts.models import Subaccount
from trading.audited import audited, require_trader
from trading.backpack import BackpackError, ExchangeUnavailableError, Side, Strategy
from trading.exchange import client_for, exchange_session
from trading.failures import failure_reason
from trading.risk.services import risk_gate_admit, risk_reservation_settle

MS = 1000


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
    )

    async def free_reservation(error: BaseException) -> None:
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
        )
        await risk_reservation_settle(reservation_id=reservation, placed=True)
        call.outcome(detail=strategy.status.value, strategyId=strategy.id)
    return strategy


async def twap_cancel(
    *, actor: Any, subaccount: Subaccount, symbol: str, strategy_id: str, ip: str | None = None
) -> Strategy:
    """Stop a running TWAP (trader+); one already ended answers its final state."""
    parameters = {"symbol": symbol, "strategyId": strategy_id}
    await require_trader(actor, subaccount, "twap_cancel", ip, parameters)
    async with audited(
        actor=actor,
        subaccount=subaccount,
        action="twap_cancel",
        ip=ip,
        parameters=parameters,
        errors=BackpackError,
        detail=failure_reason,
    ) as call:
        strategy = await client_for(subaccount).cancel_strategy(symbol, strategy_id=strategy_id)
        call.outcome(detail=strategy.status.value)
    return strategy
