"""Take-profit / stop-loss on an open position from the desk: set on part of it, fired when
the sandbox's mark crosses it; moved; removed; refused without a position or to a viewer."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from django.core.exceptions import PermissionDenied

from accounts.models import AuditEvent
from tests.trading.pages.conftest import client_for_user
from trading.backpack import BackpackError, OrderStatus
from trading.exits.selectors import position_exits
from trading.exits.services import (
    ExitError,
    position_exit_move,
    position_exit_remove,
    position_exit_set,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("closes_session")]

D = Decimal
PERP = "SOL_USDC_PERP"


async def open_long(desk, quantity: str = "2") -> None:
    async with desk.session() as session:
        seller, me = desk.raw_client(session, 1), desk.raw_client(session, 0)
        await seller.place_order(PERP, "Ask", "Limit", quantity=quantity, price="150")
        await me.place_order(PERP, "Bid", "Market", quantity=quantity)
        await seller.place_order(PERP, "Bid", "Limit", quantity="10", price="160")


async def position(desk) -> Decimal:
    async with desk.session() as session:
        rows = await desk.raw_client(session, 0).positions(PERP)
    return rows[0].net_quantity if rows else D(0)


async def mark(desk, price: str) -> None:
    async with httpx.AsyncClient(base_url=desk.sandbox.api_url) as http:
        answer = await http.post("/_sandbox/markPrice", json={"symbol": PERP, "price": price})
        assert answer.status_code == 200, answer.text


async def exit_at(desk, price: str, **more):
    return await position_exit_set(
        actor=desk.trader, subaccount=desk.main, symbol=PERP, trigger_price=D(price), **more
    )


async def test_a_take_profit_on_half_fires_when_the_mark_crosses_it(desk) -> None:
    await open_long(desk)
    take_profit = await exit_at(desk, "165", percent=D(50))
    stop_loss = await exit_at(desk, "140")
    assert {o.id for o in await position_exits(subaccount=desk.main)} == {
        take_profit.id,
        stop_loss.id,
    }

    await mark(desk, "165")

    assert await position(desk) == D("1")
    assert [o.id for o in await position_exits(subaccount=desk.main)] == [stop_loss.id]
    event = await AuditEvent.objects.filter(action="position_exit_set").afirst()
    assert event.parameters["side"] == "Ask"


async def test_an_exit_shows_the_member_who_set_it(desk) -> None:
    await open_long(desk)
    await exit_at(desk, "140")
    client = await client_for_user(desk.trader)

    page = (await client.get("/trading/orders/")).content.decode()

    block = page.split(f'id="open-orders-{desk.main.pk}"')[1].split('id="open-orders-')[0]
    assert block.count("data-order-id=") == 1
    assert '<td class="hide-narrow" data-by>trader</td>' in block


async def test_move_keeps_the_share_and_remove_takes_it_away(desk) -> None:
    await open_long(desk)
    stop_loss = await exit_at(desk, "140", percent=D(25))
    moved = await position_exit_move(
        actor=desk.trader,
        subaccount=desk.main,
        symbol=PERP,
        order_id=stop_loss.id,
        trigger_price=D("145"),
    )
    (only,) = await position_exits(subaccount=desk.main)
    assert (only.id, only.trigger_price, only.trigger_percent) == (moved.id, D("145"), D("25"))

    removed = await position_exit_remove(
        actor=desk.trader, subaccount=desk.main, symbol=PERP, order_id=moved.id
    )
    assert removed.status is OrderStatus.CANCELLED
    assert await position_exits(subaccount=desk.main) == []


async def test_a_limit_exit_moved_keeps_its_limit_as_far_from_its_trigger(desk) -> None:
    await open_long(desk)
    stop_loss = await exit_at(desk, "140", limit_price=D("139.5"))

    moved = await position_exit_move(
        actor=desk.trader,
        subaccount=desk.main,
        symbol=PERP,
        order_id=stop_loss.id,
        trigger_price=D("143"),
    )

    (only,) = await position_exits(subaccount=desk.main)
    assert (only.id, only.trigger_price, only.price) == (moved.id, D("143"), D("142.5"))


async def test_a_move_the_exchange_refuses_leaves_the_exit_where_it_was(desk) -> None:
    await open_long(desk)
    stop_loss = await exit_at(desk, "140", percent=D(25), limit_price=D("139.5"))

    with pytest.raises(BackpackError):  # a limit far outside the exchange's price band
        await position_exit_move(
            actor=desk.trader,
            subaccount=desk.main,
            symbol=PERP,
            order_id=stop_loss.id,
            trigger_price=D("145"),
            limit_price=D("100"),  # below 0.75x the mark, above a tenth
        )

    (only,) = await position_exits(subaccount=desk.main)
    assert (only.trigger_price, only.trigger_percent, only.price) == (D("140"), D("25"), D("139.5"))
    actions = [e.action async for e in AuditEvent.objects.order_by("pk")]
    assert actions[-3:] == ["position_exit_remove", "position_exit_move", "position_exit_restore"]


async def test_no_position_no_exit(desk) -> None:
    with pytest.raises(ExitError) as refused:
        await exit_at(desk, "140")
    assert refused.value.message == "There is no open position in SOL_USDC_PERP to protect."
    event = await AuditEvent.objects.filter(action="position_exit_set").aget()
    assert event.result == AuditEvent.Result.FAILED


async def test_a_viewer_cannot_set_an_exit(desk) -> None:
    await open_long(desk)
    with pytest.raises(PermissionDenied):
        await position_exit_set(
            actor=desk.viewer, subaccount=desk.main, symbol=PERP, trigger_price=D("140")
        )
    assert await position_exits(subaccount=desk.main) == []
