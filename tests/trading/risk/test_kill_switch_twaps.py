"""The kill switch stops the subaccount's running TWAPs on the exchange: after it, the
exchange runs no strategy of the subaccount, so no slice buys while it is reduce-only (nor
reopens a closed position), and the report says how many it stopped."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from asgiref.sync import sync_to_async

from accounts.models import AuditEvent, Role
from tests.factories import MembershipFactory
from tests.trading.pages.conftest import client_for_user
from tests.trading.risk.test_gate_on_the_sandbox import open_long
from tests.trading.risk.test_kill_switch import PERP, admin, code, positions_left  # noqa: F401
from trading.backpack import Side
from trading.models import RiskLimit
from trading.risk.kill import kill_switch_engage, kill_switch_engage_all
from trading.twap.services import twap_start

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("closes_session")]


async def running(desk, index: int = 0):
    async with desk.session() as session:
        return await desk.raw_client(session, index).open_strategies()


async def step(desk) -> dict:
    async with httpx.AsyncClient(base_url=desk.sandbox.api_url) as http:
        return (await http.post("/_sandbox/strategies/step")).json()


async def start_twap(desk) -> str:
    await RiskLimit.objects.acreate(subaccount=desk.main)
    strategy = await twap_start(
        actor=desk.trader,
        subaccount=desk.main,
        symbol=PERP,
        side=Side.BID,
        quantity=Decimal("1"),
        duration_s=600,
        interval_s=60,
    )
    assert [s.id for s in await running(desk)] == [strategy.id]
    return strategy.id


async def test_close_all_stops_the_twap_and_no_slice_reopens_a_position(desk, admin) -> None:  # noqa: F811
    await open_long(desk)
    strategy_id = await start_twap(desk)

    report = await kill_switch_engage(
        actor=admin, subaccount=desk.main, reason="runaway bot", otp_code=await code(admin)
    )

    assert (report.twaps_stopped, report.twaps_left, report.clean) == (1, 0, True)
    assert report.summary() == (
        "Kill switch: 1 TWAP stopped, 0 orders cancelled, positions closed: SOL_USDC_PERP. "
        "Nothing is left open; the subaccount is reduce-only."
    )
    assert await running(desk) == []
    await step(desk)
    await step(desk)
    assert await positions_left(desk) == []
    cancel = await AuditEvent.objects.aget(action="twap_cancel")
    assert (cancel.actor_id, cancel.parameters["strategyId"]) == (admin.pk, strategy_id)
    actions = [e.action async for e in AuditEvent.objects.order_by("id")]
    assert actions.index("kill_switch_engage") < actions.index("twap_cancel")
    assert actions.index("twap_cancel") < actions.index("orders_cancel_all")
    result = await AuditEvent.objects.aget(action="kill_switch_result")
    assert result.parameters["twaps_stopped"] == 1


async def test_cancel_only_stops_the_twap_too(desk, admin) -> None:  # noqa: F811
    await open_long(desk)
    await start_twap(desk)

    report = await kill_switch_engage(
        actor=admin,
        subaccount=desk.main,
        reason="pause the bots",
        otp_code=await code(admin),
        close_positions=False,
    )

    assert report.summary() == (
        "Kill switch (cancel orders only): 1 TWAP stopped, 0 orders cancelled. No open order "
        "is left; positions kept open: SOL_USDC_PERP; the subaccount is reduce-only."
    )
    assert await running(desk) == []
    async with desk.session() as session:
        (before,) = await desk.raw_client(session, 0).positions()
    await step(desk)
    async with desk.session() as session:
        (after,) = await desk.raw_client(session, 0).positions()
    assert after.net_quantity == before.net_quantity == Decimal("2")  # nothing bought


async def test_stop_everything_stops_every_subaccounts_twaps(desk, admin) -> None:  # noqa: F811
    await sync_to_async(MembershipFactory)(user=admin, subaccount=desk.other, role=Role.ADMIN)
    await start_twap(desk)
    run = "t" * 32

    results = await kill_switch_engage_all(
        actor=admin, reason="market halt", otp_code=await code(admin), run=run
    )

    assert [(s.name, r.twaps_stopped, r.clean) for s, r in results] == [
        ("Main desk", 1, True),
        ("Other desk", 0, True),
    ]
    assert await running(desk) == []
    client = await client_for_user(admin)
    html = (await client.get(f"/trading/risk/kill-progress/{run}/")).content.decode()
    assert "Main desk: Kill switch: 1 TWAP stopped, 0 orders cancelled" in html
