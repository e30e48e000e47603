"""The ladder page: a trader previews a ladder (prices on the tick, sizes on the step,
totals), sends it and finds its orders open on the exchange; bad input is refused where it
was typed; a viewer cannot use the page."""

from __future__ import annotations

import html
from decimal import Decimal

import pytest

from accounts.models import AuditEvent
from tests.trading.pages.conftest import HX, client_for_user
from trading.ledger.selectors import ledger_pnl
from trading.ledger.services import ledger_sync
from trading.models import RiskLimit

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("closes_session")]

LADDER = {
    "side": "Bid",
    "from_price": "149",
    "to_price": "140",
    "count": "10",
    "distribution": "flat",
    "total_quantity": "5",
}


def url(desk, action: str = "") -> str:
    return f"/trading/subaccounts/{desk.main.pk}/ladder/SOL_USDC/{action}"


async def open_orders(desk):
    async with desk.session() as session:
        return await desk.raw_client(session, 0).open_orders()


async def test_the_page_shows_the_form_to_a_trader(desk) -> None:
    client = await client_for_user(desk.trader)
    page = (await client.get(url(desk))).content.decode()
    assert "Ladder on SOL_USDC" in page and 'name="from_price"' in page


async def test_preview_shows_each_child_on_the_grid_and_sends_nothing(desk) -> None:
    client = await client_for_user(desk.trader)
    html = (await client.post(url(desk, "preview/"), LADDER, **HX)).content.decode()
    assert html.count("<tr><td>") == 10
    assert '<td class="num">149.00</td>' in html and '<td class="num">140.00</td>' in html
    assert '<td class="num">0.50</td>' in html
    assert await open_orders(desk) == []


async def test_preview_shows_the_average_on_the_tick_and_fees_as_the_ticket_does(desk) -> None:
    client = await client_for_user(desk.trader)

    html = (await client.post(url(desk, "preview/"), LADDER, **HX)).content.decode()

    # 0.5 at each of 149 .. 140 (tick 0.01); the taker fee (10 bps) rounded up to the cent
    assert '<th class="num">avg 144.50</th>' in html
    first = html.split("<tr><td>1</td>")[1].split("</tr>")[0]
    assert first == (
        '<td class="num">149.00</td><td class="num">0.50</td>'
        '<td class="num">74.50</td><td class="num">0.08</td>'
    )
    assert '<th class="num">722.50</th><th class="num">0.73</th></tr></tfoot>' in html


async def test_send_places_the_ladder_as_previewed(desk) -> None:
    await RiskLimit.objects.acreate(subaccount=desk.main)
    client = await client_for_user(desk.trader)
    html = (await client.post(url(desk, "send/"), LADDER, **HX)).content.decode()
    assert "Ladder sent: 10 of 10 orders placed." in html and 'data-sent="yes"' in html
    orders = await open_orders(desk)
    assert sorted(o.price for o in orders) == [Decimal(140 + i) for i in range(10)]
    assert {o.quantity for o in orders} == {Decimal("0.5")}


async def test_each_ladder_order_shows_the_member_who_sent_it(desk) -> None:
    await RiskLimit.objects.acreate(subaccount=desk.main)
    client = await client_for_user(desk.trader)
    await client.post(url(desk, "send/"), LADDER, **HX)

    page = (await client.get("/trading/orders/")).content.decode()

    block = page.split(f'id="open-orders-{desk.main.pk}"')[1].split('id="open-orders-')[0]
    assert block.count("data-order-id=") == 10
    assert block.count('<td class="hide-narrow" data-by>trader</td>') == 10


async def test_the_ladder_page_names_the_member_of_its_orders_after_a_send_and_a_reload(
    desk,
) -> None:
    await RiskLimit.objects.acreate(subaccount=desk.main)
    client = await client_for_user(desk.trader)

    sent = (await client.post(url(desk, "send/"), LADDER, **HX)).content.decode()
    reloaded = (await client.get(url(desk))).content.decode()

    for page in (sent, reloaded):
        block = page.split(f'id="open-orders-{desk.main.pk}"')[1]
        assert block.count("data-order-id=") == 10
        assert block.count('<td class="hide-narrow" data-by>trader</td>') == 10


async def test_a_ladder_over_both_order_limits_names_the_members_own_and_where_it_came_from(
    desk,
) -> None:
    await RiskLimit.objects.acreate(subaccount=desk.main, max_order_notional=Decimal("5000"))
    await RiskLimit.objects.acreate(
        subaccount=desk.main, member=desk.trader, max_order_notional=Decimal("100")
    )
    client = await client_for_user(desk.trader)

    big = {**LADDER, "total_quantity": "500"}  # 50 each: 7,450.00 USDC at 149
    page = html.unescape((await client.post(url(desk, "send/"), big, **HX)).content.decode())

    assert (
        "Order refused: the order's notional 7,450.00 USDC is above the order limit of "
        "100.00 USDC. (order 1 of 10; nothing was sent)" in page
    )
    assert await open_orders(desk) == []
    event = await AuditEvent.objects.aget(action="ladder_place", result="denied")
    assert event.ip_address == "127.0.0.1"


async def test_a_ladders_fills_count_for_its_member_in_pnl(desk) -> None:
    await RiskLimit.objects.acreate(subaccount=desk.main)
    async with desk.session() as session:
        await desk.raw_client(session, 1).place_order(
            "SOL_USDC", "Ask", "Limit", quantity=Decimal("2"), price=Decimal("150")
        )
    client = await client_for_user(desk.trader)
    crossing = {
        **LADDER,
        "from_price": "151",
        "to_price": "150",
        "count": "2",
        "total_quantity": "2",
    }
    html = (await client.post(url(desk, "send/"), crossing, **HX)).content.decode()
    assert "Ladder sent: 2 of 2 orders placed." in html

    await ledger_sync(subaccount=desk.main)
    pnl = await ledger_pnl(subaccount=desk.main, marks={})

    assert {line.member for line in pnl.lines} == {"trader"}
    assert sum(line.row.fees for line in pnl.lines) > 0


async def test_bad_ladders_are_refused_where_typed(desk) -> None:
    client = await client_for_user(desk.trader)
    bad = {**LADDER, "from_price": "1e2", "count": "60"}
    html = (await client.post(url(desk, "send/"), bad, **HX)).content.decode()
    assert "From price:" in html and "Orders:" in html
    narrow = {**LADDER, "to_price": "148.95"}
    html = (await client.post(url(desk, "preview/"), narrow, **HX)).content.decode()
    assert "10 orders do not fit between 149 and 148.95" in html
    assert await open_orders(desk) == []


async def test_a_missing_choice_is_named_by_its_label(desk) -> None:
    client = await client_for_user(desk.trader)
    without = {**LADDER, "distribution": "", "side": "sideways"}

    html = (await client.post(url(desk, "preview/"), without, **HX)).content.decode()

    assert "Distribution: This field is required." in html
    assert "Side: Select a valid choice. sideways is not one of the available choices." in html
    assert "distribution:" not in html and "side:" not in html


async def test_a_viewer_reads_why_in_place_of_the_ladder_form(desk) -> None:
    """The element marked data-trading-controls is on the page in both roles: a live role
    change fetches the page again and swaps it (trading.live_regions), so a member made a
    trader again gets the form back without a reload."""
    client = await client_for_user(desk.viewer)
    controls = f'data-trading-controls="{desk.main.pk}"'

    refreshed = await client.get(url(desk), **HX)
    loaded = await client.get(url(desk))

    assert refreshed.status_code == 200 and loaded.status_code == 403
    for answer in (refreshed, loaded):
        page = answer.content.decode()
        assert controls in page and 'id="ladder-form"' not in page
        assert "Ladders need the trader role on Main desk." in page
        assert f'data-subaccount-region="{desk.main.pk}"' in page
    trader = await client_for_user(desk.trader)
    page = (await trader.get(url(desk), **HX)).content.decode()
    assert controls in page and 'id="ladder-form"' in page


async def test_a_viewer_cannot_use_the_ladder(desk) -> None:
    client = await client_for_user(desk.viewer)
    answer = await client.post(url(desk, "send/"), LADDER)
    assert answer.status_code == 403
    assert "Ladders need the trader role on Main desk." in answer.content.decode()
    assert await open_orders(desk) == []
