"""The running TWAPs of the team on the orders page: every member of the subaccount sees each
running strategy with its progress; traders cancel it there."""

from __future__ import annotations

import pytest

from accounts.models import AuditEvent
from tests.trading.pages.conftest import HX, client_for_user
from tests.trading.twap.test_twap_on_the_sandbox import offer, running, start, step
from trading.models import RiskLimit

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("closes_session")]

LIST = "/trading/orders/twaps/"


async def test_every_member_sees_the_progress_and_only_traders_cancel(desk) -> None:
    await RiskLimit.objects.acreate(subaccount=desk.main)
    await offer(desk)
    strategy = await start(desk)
    trader = await client_for_user(desk.trader)
    viewer = await client_for_user(desk.viewer)

    orders_page = (await viewer.get("/trading/orders/")).content.decode()
    assert 'hx-get="/trading/orders/twaps/"' in orders_page
    await step(desk)
    seen_by_viewer = (await viewer.get(LIST, **HX)).content.decode()
    seen_by_trader = (await trader.get(LIST, **HX)).content.decode()

    for html in (seen_by_viewer, seen_by_trader):
        assert f'data-strategy="{strategy.id}"' in html
        assert "SOL_USDC</a> Buy 2 · a slice every 300 s over 600 s" in html
        assert 'value="50"' in html and "executed 1, remaining 1" in html
    assert "twap-cancel" in seen_by_trader
    assert "twap-cancel" not in seen_by_viewer

    cancel = f"/trading/subaccounts/{desk.main.pk}/twaps/cancel/"
    data = {"symbol": "SOL_USDC", "strategy_id": strategy.id}
    refused = await viewer.post(cancel, data)
    assert refused.status_code == 403
    assert [s.id for s in await running(desk)] == [strategy.id]

    answer = (await trader.post(cancel, data, **HX)).content.decode()

    assert f"TWAP {strategy.id} on SOL_USDC: Cancelled." in answer
    assert "No TWAP running." in answer
    assert await running(desk) == []
    assert await AuditEvent.objects.filter(action="twap_cancel").acount() == 1


async def test_no_twap_says_so(desk) -> None:
    viewer = await client_for_user(desk.viewer)

    html = (await viewer.get(LIST, **HX)).content.decode()

    assert "No TWAP running." in html and "data-strategy" not in html
