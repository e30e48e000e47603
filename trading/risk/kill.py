"""The kill switch (issue 15.4): one action stops a subaccount's trading.

`kill_switch_engage` (admin, fresh two-factor code) first puts the whole subaccount in
reduce-only mode (so nothing new can pass the gate while it works), then stops every running
strategy (TWAP) on the exchange (`twap_cancel`: the exchange sends a TWAP's slices by itself,
past the desk's gate, so a running one would keep buying or selling while the subaccount is
reduce-only, and reopen a closed position), then cancels every open order and, unless the
admin chose to only cancel (`close_positions=False`), closes every position through the same
services a trader uses (`orders_cancel_all`, `position_close`: each audited), and finally
reads the exchange again and reports what is left, running TWAPs included (reconciliation).
`kill_switch_release` lifts the reduce-only mode (only while the kill switch holds). Both
are audited.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from asgiref.sync import sync_to_async
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import ngettext

from accounts.audit import audit_record
from accounts.errors import RoleRefusal, ServiceError
from accounts.fresh_code import fresh_code_require
from accounts.models import AuditEvent, Role, Subaccount
from accounts.permissions import require_role, subaccounts_visible_to
from trading.exchange import client_for
from trading.failures import EXCHANGE_ERRORS, failure_text
from trading.models import KillProgress, RiskLimit
from trading.risk.limits import KILL_REASON, kill_switch_holds
from trading.risk.services import risk_default_limits
from trading.services import orders_cancel_all, position_close
from trading.twap.services import twap_cancel


def _orders(count: int) -> str:
    """ "1 order", "2 orders"."""
    return f"{count} {ngettext('order', 'orders', count)}"


def _twaps(count: int) -> str:
    """ "1 TWAP", "2 TWAPs"."""
    return f"{count} {ngettext('TWAP', 'TWAPs', count)}"


@dataclass
class KillReport:
    """What the kill switch did and what the exchange still shows afterwards."""

    cancelled: int = 0
    twaps_stopped: int = 0
    closed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    open_orders_left: int = 0
    positions_left: list[str] = field(default_factory=list)
    twaps_left: int = 0
    close_positions: bool = True  # False: the admin chose to cancel orders only

    @property
    def clean(self) -> bool:
        """Nothing is left that the admin asked to stop (positions count only when closing)."""
        positions = self.positions_left if self.close_positions else []
        return not (self.problems or self.open_orders_left or self.twaps_left or positions)

    def _stopped(self) -> str:
        """ "1 TWAP stopped, " when the switch stopped any (nothing said when none ran)."""
        return f"{_twaps(self.twaps_stopped)} stopped, " if self.twaps_stopped else ""

    def _running(self) -> str:
        """ ", running TWAPs: 1" when the exchange still runs some."""
        return f", running TWAPs: {self.twaps_left}" if self.twaps_left else ""

    def summary(self) -> str:
        if not self.close_positions:
            text = (
                f"Kill switch (cancel orders only): {self._stopped()}"
                f"{_orders(self.cancelled)} cancelled."
            )
            kept = ", ".join(self.positions_left) or "none"
            if self.clean:
                return (
                    f"{text} No open order is left; positions kept open: {kept}; the "
                    "subaccount is reduce-only."
                )
            problems = " ".join(self.problems)
            return (
                f"{text} Still open: {_orders(self.open_orders_left)}{self._running()}; "
                f"positions kept open: {kept}. {problems}".strip()
            )
        closed = ", ".join(self.closed) or "none"
        text = (
            f"Kill switch: {self._stopped()}{_orders(self.cancelled)} cancelled, positions "
            f"closed: {closed}."
        )
        if self.clean:
            return f"{text} Nothing is left open; the subaccount is reduce-only."
        left = ", ".join(self.positions_left) or "none"
        problems = " ".join(self.problems)
        return (
            f"{text} Still open: {_orders(self.open_orders_left)}, positions: {left}"
            f"{self._running()}. {problems}".strip()
        )


def _fresh_code(
    actor: Any, subaccount: Subaccount | None, otp_code: str, action: str, ip: str | None
) -> None:
    if subaccount is not None:
        require_role(actor, subaccount, Role.ADMIN)
    fresh_code_require(actor=actor, otp_code=otp_code, subaccount=subaccount, action=action, ip=ip)


@sync_to_async
def _reduce_only_set(
    *,
    actor: Any,
    subaccount: Subaccount,
    on: bool,
    reason: str,
    otp_code: str | None,
    ip: str | None,
    equity: Decimal | None = None,
    close_positions: bool | None = None,
) -> None:
    action = "kill_switch_engage" if on else "kill_switch_release"
    if not on:
        require_role(actor, subaccount, Role.ADMIN)
        if not kill_switch_engaged(subaccount=subaccount):  # nothing to lift: nothing audited
            raise ServiceError(f"The kill switch is not engaged on {subaccount.name}.")
    if otp_code is not None:  # None: the code was checked once for several subaccounts
        _fresh_code(actor, subaccount, otp_code, action, ip)
    with transaction.atomic():
        row, created = RiskLimit.objects.get_or_create(
            subaccount=subaccount, member=None, defaults=risk_default_limits(equity)
        )
        if created:  # never "no limit" by accident: the defaults, as before a first order
            audit_record(
                actor=None,
                action="risk_limits_default",
                subaccount=subaccount,
                parameters={**risk_default_limits(equity), "net_equity": equity},
                detail="defaults relative to net equity, set by the kill switch",
            )
        row = RiskLimit.objects.order_by().select_for_update(of=("self",)).get(pk=row.pk)
        row.reduce_only = on
        row.reduce_only_reason = f"{KILL_REASON}: {reason}" if on else ""
        row.save(update_fields=["reduce_only", "reduce_only_reason", "updated_at"])
        audit_record(
            actor=actor,
            action=action,
            subaccount=subaccount,
            parameters={
                "reason": reason,
                "reduce_only": on,
                **({} if close_positions is None else {"what": _what(close_positions)}),
            },
            ip=ip,
        )


def kill_switch_engaged(*, subaccount: Subaccount) -> bool:
    """Whether the subaccount is reduce-only because the kill switch was pulled (and not
    lifted since)."""
    row = RiskLimit.objects.filter(subaccount=subaccount, member=None).first()
    return row is not None and kill_switch_holds(row)


def _what(close_positions: bool) -> str:
    """The admin's choice as the audit trail records it."""
    return "cancel orders and close positions" if close_positions else "cancel orders only"


async def kill_switch_engage(
    *,
    actor: Any,
    subaccount: Subaccount,
    reason: str,
    otp_code: str,
    ip: str | None = None,
    run: str = "",
    close_positions: bool = True,
) -> KillReport:
    """Stop the subaccount: reduce-only first, then cancel all orders and (unless
    ``close_positions`` is False: cancel only) close all positions through the trading
    services, then reconcile with the exchange. Admin, fresh code.

    ``run`` (the page's id of this pull) makes every step readable while it works:
    `kill_progress_for`."""
    return await _stop(
        actor=actor,
        subaccount=subaccount,
        reason=_reason(reason),
        otp_code=otp_code,
        ip=ip,
        run=run,
        close_positions=close_positions,
    )


@sync_to_async
def _progress(
    run: str,
    actor: Any,
    subaccount: Subaccount,
    step: str,
    *,
    done: bool = False,
    clean: bool | None = None,
) -> None:
    if not run:
        return
    KillProgress.objects.update_or_create(
        run=run[:40],
        subaccount=subaccount,
        defaults={"actor": actor, "step": step[:300], "done": done, "clean": clean},
    )


def kill_progress_for(*, actor: Any, run: str) -> list[KillProgress]:
    """The steps of the actor's own pull ``run``, one row per subaccount."""
    rows = KillProgress.objects.filter(run=run, actor=actor).select_related("subaccount")
    return list(rows)


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ServiceError("Say why the kill switch is pulled.", field="reason")
    return reason


async def kill_switch_engage_all(
    *,
    actor: Any,
    reason: str,
    otp_code: str,
    ip: str | None = None,
    run: str = "",
    close_positions: bool = True,
) -> list[tuple[Subaccount, KillReport]]:
    """One action stops everything: the kill switch on every subaccount the actor admins, at
    once, with one fresh code (``close_positions`` False: cancel orders only, positions stay).
    Raises `PermissionDenied` when the actor admins none."""
    reason = _reason(reason)
    subaccounts = await sync_to_async(
        lambda: list(subaccounts_visible_to(actor, min_role=Role.ADMIN))
    )()
    if not subaccounts:
        raise RoleRefusal("The kill switch needs the admin role on a subaccount.")
    await sync_to_async(_fresh_code)(actor, None, otp_code, "kill_switch_engage", ip)
    reports = await asyncio.gather(
        *(
            _stop(
                actor=actor,
                subaccount=s,
                reason=reason,
                otp_code=None,
                ip=ip,
                run=run,
                close_positions=close_positions,
            )
            for s in subaccounts
        )
    )
    return list(zip(subaccounts, reports, strict=True))


async def _stop(
    *,
    actor: Any,
    subaccount: Subaccount,
    reason: str,
    otp_code: str | None,
    ip: str | None,
    run: str = "",
    close_positions: bool = True,
) -> KillReport:
    client = client_for(subaccount)
    if otp_code is None:  # the code was checked for all: show every subaccount at once
        await _progress(run, actor, subaccount, "Starting")
    try:
        equity = (await client.collateral()).net_equity
    except EXCHANGE_ERRORS:
        equity = None
    await _reduce_only_set(
        actor=actor,
        subaccount=subaccount,
        on=True,
        reason=reason,
        otp_code=otp_code,
        ip=ip,
        equity=equity,
        close_positions=close_positions,
    )
    report = KillReport(close_positions=close_positions)
    await _progress(run, actor, subaccount, "Reduce-only; stopping every running TWAP")
    await _stop_twaps(actor, subaccount, client, report, ip)
    stopped = f", {_twaps(report.twaps_stopped)} stopped" if report.twaps_stopped else ""
    step = f"Reduce-only{stopped}; cancelling every open order"
    await _progress(run, actor, subaccount, step if close_positions else f"{step} (cancel only)")
    try:
        report.cancelled = len(await orders_cancel_all(actor=actor, subaccount=subaccount, ip=ip))
    except EXCHANGE_ERRORS as error:
        report.problems.append(f"Cancelling: {failure_text(error)}")
    if close_positions:
        await _close_all(actor, subaccount, client, report, run, ip)
    await _progress(run, actor, subaccount, "Checking what the exchange still shows")
    await _reconcile(client, report)
    await _progress(run, actor, subaccount, report.summary(), done=True, clean=report.clean)
    await sync_to_async(audit_record)(
        actor=actor,
        action="kill_switch_result",
        subaccount=subaccount,
        parameters={
            "what": _what(close_positions),
            "twaps_stopped": report.twaps_stopped,
            "cancelled": report.cancelled,
            "closed": report.closed,
            "open_orders_left": report.open_orders_left,
            "positions_left": report.positions_left,
            "twaps_left": report.twaps_left,
        },
        result=AuditEvent.Result.OK if report.clean else AuditEvent.Result.FAILED,
        detail=report.summary(),
        ip=ip,
    )
    return report


async def _stop_twaps(
    actor: Any, subaccount: Subaccount, client: Any, report: KillReport, ip: str | None
) -> None:
    """Stop every strategy the exchange runs for the subaccount (each cancel audited), before
    the orders are cancelled: a slice sent meanwhile is an open order the next step cancels."""
    try:
        strategies = await client.open_strategies()
    except EXCHANGE_ERRORS as error:
        report.problems.append(f"Reading the running TWAPs: {failure_text(error)}")
        return
    for strategy in strategies:
        try:
            await twap_cancel(
                actor=actor,
                subaccount=subaccount,
                symbol=strategy.symbol,
                strategy_id=strategy.id,
                ip=ip,
            )
            report.twaps_stopped += 1
        except (ServiceError, PermissionDenied, *EXCHANGE_ERRORS) as error:
            # Said and counted as left running; the switch goes on to the orders either way.
            report.problems.append(f"Stopping the TWAP on {strategy.symbol}: {failure_text(error)}")


async def _close_all(
    actor: Any, subaccount: Subaccount, client: Any, report: KillReport, run: str, ip: str | None
) -> None:
    """Close every open position with a reduce-only market order (each audited)."""
    try:
        positions = [p for p in await client.positions() if p.net_quantity != 0]
    except EXCHANGE_ERRORS as error:
        positions = []
        report.problems.append(f"Reading positions: {failure_text(error)}")
    for i, position in enumerate(positions, 1):
        step = f"{_orders(report.cancelled)} cancelled; closing {position.symbol}"
        await _progress(run, actor, subaccount, f"{step} ({i} of {len(positions)})")
        try:
            await position_close(actor=actor, subaccount=subaccount, symbol=position.symbol, ip=ip)
            report.closed.append(position.symbol)
        except (ServiceError, *EXCHANGE_ERRORS) as error:
            text = failure_text(error)
            report.problems.append(f"Closing {position.symbol}: {text}")


async def _reconcile(client: Any, report: KillReport) -> None:
    """Read the exchange again: what is still open after the cancels and closes."""
    try:
        orders, positions, strategies = await asyncio.gather(
            client.open_orders(), client.positions(), client.open_strategies()
        )
    except EXCHANGE_ERRORS as error:
        report.problems.append(f"Checking what is left: {failure_text(error)}")
        return
    report.open_orders_left = len(orders)
    report.twaps_left = len(strategies)
    report.positions_left = sorted(p.symbol for p in positions if p.net_quantity != 0)


async def kill_switch_release(
    *, actor: Any, subaccount: Subaccount, otp_code: str, ip: str | None = None
) -> None:
    """Lift the kill switch's reduce-only mode of the subaccount (admin, fresh code). Raises
    `ServiceError` when the kill switch is not engaged there (nothing audited, the code
    kept unused)."""
    await _reduce_only_set(
        actor=actor, subaccount=subaccount, on=False, reason="", otp_code=otp_code, ip=ip
    )
