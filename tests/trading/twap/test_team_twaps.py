"""The running TWAPs of the team on the orders page: every member of the subaccount sees each
running strategy with its progress; traders cancel it there."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.models import AuditEvent
from tests.trading.pages.conftest import HX, client_for_user
from tests.trading.twap.test_twap_on_the_sandbox import offer, running, start, step
from tests.trading.twap.test_twap_reservation import buy
from trading.models import RiskLimit
from trading.risk.services import RiskRefused

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
        assert "SOL_USDC</a> Buy 2.00 · a slice every 300 s over 600 s" in html
        assert 'value="50"' in html and "executed 1.00, remaining 1.00" in html
        assert "avg 150.00 against arrival 150.00 (0.0 bps)" in html
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


async def test_members_polling_together_cost_one_exchange_read(desk, monkeypatch) -> None:
    monkeypatch.setattr("trading.twap.selectors.TEAM_TWAPS_CACHE_S", 60.0)
    await RiskLimit.objects.acreate(subaccount=desk.main)
    await offer(desk)
    strategy = await start(desk)
    members = [await client_for_user(user) for user in (desk.trader, desk.viewer)]
    desk.sandbox.requests(clear=True)
    first = (await members[0].get(LIST, **HX)).content.decode()
    one_poll = desk.sandbox.requests().get("GET /api/v1/strategies")

    pages = [(await member.get(LIST, **HX)).content.decode() for member in members * 3]

    assert one_poll == 2  # one read per subaccount: main and other
    assert all(f'data-strategy="{strategy.id}"' in page for page in [first, *pages])
    assert desk.sandbox.requests().get("GET /api/v1/strategies") == one_poll


async def test_a_list_read_before_a_twap_began_leaves_its_reservation_counted(
    desk, monkeypatch
) -> None:
    monkeypatch.setattr("trading.twap.selectors.TEAM_TWAPS_CACHE_S", 60.0)
    await RiskLimit.objects.acreate(
        subaccount=desk.main, max_position_notional_market=Decimal("500")
    )
    await offer(desk)
    viewer = await client_for_user(desk.viewer)
    assert "No TWAP running." in (await viewer.get(LIST, **HX)).content.decode()
    # Started through another desk process: this one's kept list is not told.
    monkeypatch.setattr("trading.twap.services.twaps_changed", lambda **_: None)
    await start(desk)  # 2 x 150 = 300 USDC

    kept = (await viewer.get(LIST, **HX)).content.decode()

    assert "No TWAP running." in kept  # the list read before it began
    with pytest.raises(RiskRefused):
        await buy(desk, "205")  # 300 + 205 > 500: the TWAP still counts
