"""The positions table's take-profit / stop-loss controls over HTTP: the card lists a
position's exits and, for traders, the forms to set, move and remove them; typed numbers are
read strictly and refused with the field's words before anything reaches the exchange."""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape

import pytest

from accounts.models import AuditEvent
from tests.trading.exits.test_exits_on_the_sandbox import exit_at, position
from tests.trading.pages.conftest import HX, client_for_user
from tests.trading.pages.test_positions import open_long
from trading.exchange import exchange_session
from trading.exits.selectors import position_exits

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("closes_session")]

D = Decimal
PERP = "SOL_USDC_PERP"


def exit_url(desk, what: str = "") -> str:
    return f"/trading/subaccounts/{desk.main.pk}/positions/exit/{what}"


async def test_the_card_lists_exits_and_only_traders_get_the_controls(desk) -> None:
    await open_long(desk)
    stop = await exit_at(desk, "140", percent=D("33.333333333"))
    trader = await client_for_user(desk.trader)
    viewer = await client_for_user(desk.viewer)

    trader_html = (await trader.get("/trading/positions/")).content.decode()
    viewer_html = (await viewer.get("/trading/positions/")).content.decode()

    for html in (trader_html, viewer_html):
        row = re.search(rf'data-exit-id="{stop.id}" data-kind="(\w+)"', html)
        assert row is not None and row.group(1) == "stop_loss"
        assert "Stop loss</span> at" in html
        assert "for 33.33%" in html  # a percentage to 2 places, the trigger on the tick
        assert '<span class="exit-trigger" data-num="price:SOL_USDC_PERP">140.00</span>' in html
    assert 'class="exit-set' in trader_html and "exit-remove" in trader_html
    assert 'class="exit-set' not in viewer_html and "exit-remove" not in viewer_html


async def test_set_move_and_remove_through_the_card(desk) -> None:
    await open_long(desk)
    client = await client_for_user(desk.trader)

    answer = await client.post(
        exit_url(desk),
        {"symbol": PERP, "trigger_price": "165", "percent": "50", "limit_price": "164"},
        **HX,
    )
    html = answer.content.decode()
    assert "Exit set: at 165.00 for 50.00% of the position, closing at 164.00." in html
    (take_profit,) = await position_exits(subaccount=desk.main)
    assert f'data-exit-id="{take_profit.id}" data-kind="take_profit"' in html

    answer = await client.post(
        exit_url(desk), {"symbol": PERP, "trigger_price": "162", "order_id": take_profit.id}, **HX
    )
    assert "Exit moved: at 162.00 for 50.00% of the position, closing at 161.00." in (
        answer.content.decode()
    )
    (moved,) = await position_exits(subaccount=desk.main)
    assert (moved.trigger_price, moved.trigger_percent, moved.price) == (
        D("162"),
        D("50"),
        D("161"),
    )

    answer = await client.post(
        exit_url(desk, "remove/"), {"symbol": PERP, "order_id": moved.id}, **HX
    )
    html = answer.content.decode()
    assert "Exit removed from the SOL_USDC_PERP position." in html
    assert "data-exit-id" not in html
    assert await position_exits(subaccount=desk.main) == []
    actions = [e.action async for e in AuditEvent.objects.order_by("pk")]
    assert actions == [
        "position_exit_set",
        "position_exit_remove",
        "position_exit_move",
        "position_exit_remove",
    ]


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ({"trigger_price": "1e3"}, "Trigger price: "),
        ({"trigger_price": ""}, "Trigger price: A number is required here."),
        (
            {"trigger_price": "140", "percent": "150"},
            "Share of the position (%): More than 0 and at most 100: "
            "the percent of the position it closes.",
        ),
        (
            {"trigger_price": "140", "percent": "0"},
            "Share of the position (%): More than 0 and at most 100: "
            "the percent of the position it closes.",
        ),
        ({"trigger_price": "140", "limit_price": "１４０"}, "Limit price: "),
    ],
)
async def test_bad_numbers_are_refused_in_words_before_the_exchange(desk, typed, words) -> None:
    await open_long(desk)
    client = await client_for_user(desk.trader)

    answer = await client.post(exit_url(desk), {"symbol": PERP, **typed}, **HX)

    assert answer.status_code == 200
    assert words in answer.content.decode()
    assert await position_exits(subaccount=desk.main) == []
    assert not await AuditEvent.objects.filter(action="position_exit_set").aexists()


async def test_a_viewer_is_refused_and_nothing_is_set(desk) -> None:
    await open_long(desk)
    client = await client_for_user(desk.viewer)

    answer = await client.post(exit_url(desk), {"symbol": PERP, "trigger_price": "140"})

    assert answer.status_code == 403
    assert await position_exits(subaccount=desk.main) == []
    assert await position(desk) == D("2")


async def test_a_price_off_the_tick_says_what_to_correct_in_the_exit_form(desk) -> None:
    await open_long(desk)
    client = await client_for_user(desk.trader)

    answer = await client.post(exit_url(desk), {"symbol": PERP, "trigger_price": "140.005"}, **HX)

    html = answer.content.decode()
    assert (
        "The exit was not set: triggerPrice 140.005 is not on the tick size 0.01. "
        "Correct the trigger price in the exit form." in html
    )
    assert "order ticket" not in html
    assert await position_exits(subaccount=desk.main) == []


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        (
            {"trigger_price": "99999999999999999"},
            "Trigger price: 99999999999999999 is more than 10 times the mark price 150.00 of "
            "SOL_USDC_PERP: an exit there would never trigger. Type a price nearer the market.",
        ),
        (
            {"trigger_price": "14"},
            "Trigger price: 14 is less than a tenth of the mark price 150.00 of "
            "SOL_USDC_PERP: an exit there would never trigger. Type a price nearer the market.",
        ),
        (
            {"trigger_price": "165", "limit_price": "99999999"},
            "Limit price: 99999999 is more than 10 times the mark price 150.00 of "
            "SOL_USDC_PERP: the exchange would refuse it. Type a price nearer the market.",
        ),
    ],
)
async def test_a_price_far_off_the_market_is_refused_beside_its_field(desk, typed, words) -> None:
    await open_long(desk)
    client = await client_for_user(desk.trader)

    answer = await client.post(exit_url(desk), {"symbol": PERP, **typed}, **HX)

    assert words in unescape(answer.content.decode())
    assert await position_exits(subaccount=desk.main) == []


async def test_moving_an_exit_far_off_the_market_keeps_it_where_it_was(desk) -> None:
    await open_long(desk)
    stop = await exit_at(desk, "140")
    client = await client_for_user(desk.trader)

    moved = {"symbol": PERP, "trigger_price": "99999999999999999", "order_id": stop.id}
    answer = await client.post(exit_url(desk), moved, **HX)

    assert "Trigger price: 99999999999999999 is more than 10 times" in answer.content.decode()
    assert [o.id for o in await position_exits(subaccount=desk.main)] == [stop.id]
    assert not await AuditEvent.objects.filter(action="position_exit_remove").aexists()


@pytest.mark.parametrize("what", ["remove/", ""])
async def test_an_order_id_that_is_not_a_number_is_refused_before_the_exchange(desk, what) -> None:
    await open_long(desk)
    stop = await exit_at(desk, "140")
    client = await client_for_user(desk.trader)
    sent = len(exchange_session().metrics.recent)

    typed = {"symbol": PERP, "order_id": "zzz", "trigger_price": "141"}
    answer = await client.post(exit_url(desk, what), typed, **HX)

    assert "its order id is a whole number" in answer.content.decode()
    assert list(exchange_session().metrics.recent)[sent:] == []
    assert [o.id for o in await position_exits(subaccount=desk.main)] == [stop.id]
