"""Member limits bind what the member's own orders built (open orders and fills attributed by
clientId); the subaccount's limits bind everyone's together (issue 15.1)."""

from __future__ import annotations

from decimal import Decimal
from html import escape

import pytest
from asgiref.sync import sync_to_async

from accounts.models import Role
from tests.factories import MembershipFactory, UserFactory
from tests.trading.pages.conftest import HX, client_for_user
from tests.trading.risk.test_gate_on_the_sandbox import open_orders_on_exchange, ticket
from trading.ledger.services import ledger_sync
from trading.models import RiskBreach, RiskLimit

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("closes_session")]

PERP = "SOL_USDC_PERP"


@pytest.fixture
def tina(desk):
    user = UserFactory(username="tina")
    MembershipFactory(user=user, subaccount=desk.main, role=Role.TRADER)
    return user


async def send_as(user, desk, symbol: str, n: int, **fields) -> str:
    client = await client_for_user(user)
    data = ticket(desk, n, **fields)
    response = await client.post(f"/trading/market/{symbol}/ticket/", data, **HX)
    return response.content.decode()


async def two_member_limits(desk, tina, *, member: str, whole: str) -> None:
    await RiskLimit.objects.acreate(
        subaccount=desk.main, max_position_notional_market=Decimal(whole)
    )
    for user in (desk.trader, tina):
        await RiskLimit.objects.acreate(
            subaccount=desk.main, member=user, max_position_notional_market=Decimal(member)
        )


async def test_one_traders_orders_do_not_use_up_the_others_headroom(desk, tina) -> None:
    await two_member_limits(desk, tina, member="400", whole="1000")
    assert 'data-result="ok"' in await send_as(desk.trader, desk, "SOL_USDC", 1, quantity="2")

    tinas = await send_as(tina, desk, "SOL_USDC", 2, quantity="2")
    again = await send_as(desk.trader, desk, "SOL_USDC", 3, quantity="1")

    assert 'data-result="ok"' in tinas, tinas  # 300 of hers next to his 300: both under 400
    assert (
        escape(
            "Order refused: max 100.00 USDC more in SOL_USDC (position limit per market "
            "400.00 USDC)."
        )
        in again
    ), again
    assert len(await open_orders_on_exchange(desk)) == 2
    breach = await RiskBreach.objects.aget()
    assert (breach.member_name, breach.limit) == ("trader", "max_position_notional_market")


async def test_the_subaccount_limit_still_binds_both_together(desk, tina) -> None:
    await two_member_limits(desk, tina, member="400", whole="650")
    assert 'data-result="ok"' in await send_as(desk.trader, desk, "SOL_USDC", 1, quantity="2")
    assert 'data-result="ok"' in await send_as(tina, desk, "SOL_USDC", 2, quantity="2")

    html = await send_as(tina, desk, "SOL_USDC", 3, quantity="0.5")  # 375 of hers: under 400

    refusal = "Order refused: max 50.00 USDC more in SOL_USDC (position limit per market "
    assert escape(f"{refusal}650.00 USDC).") in html, html
    assert len(await open_orders_on_exchange(desk)) == 2


async def test_a_members_filled_position_counts_for_that_member_only(desk, tina) -> None:
    await two_member_limits(desk, tina, member="400", whole="2000")
    async with desk.session() as session:  # a seller for the trader's buy
        maker = desk.raw_client(session, 1)
        await maker.place_order(PERP, "Ask", "Limit", price=Decimal("150"), quantity=Decimal("5"))
    bought = await send_as(desk.trader, desk, PERP, 1, quantity="2")  # fills at 150: 300
    assert 'data-result="ok"' in bought, bought
    await ledger_sync(subaccount=desk.main, histories=("fill_history",))

    tinas = await send_as(tina, desk, PERP, 2, price="140", quantity="2")  # rests: 280
    his = await send_as(desk.trader, desk, PERP, 3, price="140", quantity="1")  # 300 + 140

    assert 'data-result="ok"' in tinas, tinas
    assert (
        "Order refused: max " in his
        and "more in SOL_USDC_PERP (position limit per market 400.00 USDC)." in his
    ), his


async def test_the_ticket_shows_the_members_own_headroom(desk, tina) -> None:
    await two_member_limits(desk, tina, member="400", whole="650")
    assert 'data-result="ok"' in await send_as(desk.trader, desk, "SOL_USDC", 1, quantity="2")
    client = await client_for_user(tina)

    response = await client.post("/trading/market/SOL_USDC/ticket/check/", ticket(desk, n=2), **HX)

    # her own 400 is untouched; the subaccount's 650 has 350 left after his 300
    assert "Headroom: max 350.00 USDC more to buy in SOL_USDC." in response.content.decode()


async def test_the_risk_page_shows_each_members_own_usage(desk, tina) -> None:
    from tests.accounts.conftest import verified_client

    await two_member_limits(desk, tina, member="400", whole="1000")
    assert 'data-result="ok"' in await send_as(desk.trader, desk, "SOL_USDC", 1, quantity="2")
    admin = await sync_to_async(UserFactory)(username="ada")
    await sync_to_async(MembershipFactory)(user=admin, subaccount=desk.main, role=Role.ADMIN)

    page = f"/trading/subaccounts/{desk.main.pk}/risk/"
    html = (await sync_to_async(lambda: verified_client(admin).get(page))()).content.decode()

    def usage(who: str) -> str:
        row = html.split(f'data-who="{who}" data-limit="Position, largest market"', 1)[1]
        return row.split("</tr>", 1)[0]

    assert 'data-percent="30"' in usage("Whole subaccount")  # 300 of 1,000
    assert 'data-percent="75"' in usage("trader")  # his own 300 of 400
    assert 'data-percent="0"' in usage("tina")  # nothing of hers yet
