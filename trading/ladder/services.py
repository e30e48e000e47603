"""Sending a previewed ladder: trader role, the risk gate for the whole ladder, a desk ticket
per child (its clientId in the member's name), ONE batch request, each child's reservation
and ticket settled by its outcome, one audit record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from accounts.models import AuditEvent, Subaccount
from trading.audited import audited, require_trader
from trading.backpack import BackpackError, ExchangeUnavailableError, Order, OrderType, Side
from trading.desk_tickets import desk_tickets_finish, desk_tickets_record
from trading.exchange import client_for
from trading.failures import failure_reason
from trading.ladder.preview import LadderPreview
from trading.risk.batch import risk_gate_admit_all, risk_reservations_settle
from trading.risk.gate import GateOrder

ACTION = "ladder_place"


@dataclass(frozen=True)
class LadderResult:
    """What sending a ladder did: the orders placed, and each refused child's reason."""

    placed: tuple[Order, ...]
    refused: tuple[str, ...]
    message: str

    @property
    def ok(self) -> bool:
        return not self.refused


def _gate_orders(preview: LadderPreview) -> list[GateOrder]:
    spec = preview.spec
    quote = spec.symbol.split("_")[1] if "_" in spec.symbol else "USDC"
    return [
        GateOrder(symbol=spec.symbol, buy=spec.side == Side.BID, notional=row.notional, quote=quote)
        for row in preview.rows
    ]


def _parameters(preview: LadderPreview) -> dict[str, Any]:
    spec = preview.spec
    return {
        "symbol": spec.symbol,
        "side": str(spec.side),
        "count": spec.count,
        "from": spec.from_price,
        "to": spec.to_price,
        "distribution": str(spec.distribution),
        "quantity": preview.total_quantity,
        "notional": preview.total_notional,
    }


async def ladder_place(
    *, actor: Any, subaccount: Subaccount, preview: LadderPreview, ip: str | None = None
) -> LadderResult:
    """Send every child of ``preview`` as limit orders in one ``POST /api/v1/orders``.

    Trader role or above (else audited as denied, `PermissionDenied`). The whole ladder
    passes the risk gate first, or nothing is sent (`RiskRefused`, naming the child that
    breaks a limit). A child the exchange refuses frees its headroom and is reported; the
    others stay placed. Exchange failures of the request are audited and re-raised."""
    parameters = _parameters(preview)
    await require_trader(actor, subaccount, ACTION, ip, parameters)
    spec = preview.spec
    reservations = await risk_gate_admit_all(  # RiskRefused: nothing reserved, nothing sent
        actor=actor,
        subaccount=subaccount,
        orders=_gate_orders(preview),
        action=ACTION,
        ip=ip,
        context=parameters,
    )
    tickets, client_ids = await desk_tickets_record(
        actor=actor,
        subaccount=subaccount,
        symbol=spec.symbol,
        count=len(preview.rows),
        source=ACTION,
    )
    children = [
        {
            "symbol": spec.symbol,
            "side": spec.side,
            "order_type": OrderType.LIMIT,
            "quantity": row.quantity,
            "price": row.price,
            "post_only": spec.post_only or None,
            "client_id": client_id,
        }
        for row, client_id in zip(preview.rows, client_ids, strict=True)
    ]

    async def free_reservations(error: BaseException) -> None:
        await desk_tickets_finish(tickets=tickets, results=[error] * len(tickets))
        if not isinstance(error, ExchangeUnavailableError):  # unknown outcome: kept
            await risk_reservations_settle(outcomes=[(r, False) for r in reservations])

    async with audited(
        actor=actor,
        subaccount=subaccount,
        action=ACTION,
        ip=ip,
        parameters=parameters,
        errors=BackpackError,
        detail=failure_reason,
        on_error=free_reservations,
    ) as call:
        results = await client_for(subaccount).place_orders(children)
        await desk_tickets_finish(tickets=tickets, results=results)
        placed = tuple(r for r in results if isinstance(r, Order))
        refused = tuple(
            f"{row.quantity} @ {row.price}: {r.message}"
            for row, r in zip(preview.rows, results, strict=True)
            if not isinstance(r, Order)
        )
        await risk_reservations_settle(
            outcomes=[
                (res, isinstance(r, Order)) for res, r in zip(reservations, results, strict=True)
            ]
        )
        message = f"Ladder sent: {len(placed)} of {len(preview.rows)} orders placed"
        message += f", {len(refused)} refused." if refused else "."
        call.outcome(
            detail=message if not refused else f"{message} {'; '.join(refused)}",
            result=AuditEvent.Result.OK if not refused else AuditEvent.Result.FAILED,
            placed=len(placed),
            orderIds=[o.id for o in placed],
        )
    return LadderResult(placed=placed, refused=refused, message=message)
