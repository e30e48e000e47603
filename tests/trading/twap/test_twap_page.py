"""The TWAP page: a trader starts a TWAP, watches its progress (executed, remaining, average
against the arrival price) move as the exchange runs slices, and cancels it; bad input is
refused where typed; a viewer cannot use the page."""

from __future__ import annotations

import html
from decimal import Decimal as D

import httpx
import pytest

from accounts.models import AuditEvent
from tests.trading.pages.conftest import HX, client_for_user
from trading.models import RiskLimit
from trading.selectors.cache import cache_clear

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("closes_session")]

TWAP = {"side": "Bid", "quantity": "2", "duration_s": "600", "interval_s": "300"}


def url(desk, action: str = "") -> str:
    return f"/trading/subaccounts/{desk.main.pk}/twap/SOL_USDC/{action}"


async def offer(desk) -> None:
    async with desk.session() as session:
        seller = desk.raw_client(session, 1)
        await seller.place_order("SOL_USDC", "Ask", "Limit", quantity="10", price="150")


def the_form(answer: str) -> str:
    """The TWAP form in an answer (the running list holds forms too)."""
    start = answer.index('<form id="twap-form"')
    return answer[start : answer.index("</form>", start)]


async def running(desk):
    async with desk.session() as session:
        return await desk.raw_client(session, 0).open_strategies()


async def step(desk) -> None:
    async with httpx.AsyncClient(base_url=desk.sandbox.api_url) as http:
        await http.post("/_sandbox/strategies/step")


async def test_the_page_shows_the_form_and_no_twap(desk) -> None:
    client = await client_for_user(desk.trader)
    page = (await client.get(url(desk))).content.decode()
    assert 'name="duration_s"' in page and "No TWAP running on SOL_USDC." in page


async def test_start_watch_the_progress_and_cancel(desk) -> None:
    await RiskLimit.objects.acreate(subaccount=desk.main)
    await offer(desk)
    client = await client_for_user(desk.trader)

    started = (await client.post(url(desk, "start/"), TWAP, **HX)).content.decode()
    (strategy,) = await running(desk)
    assert f"TWAP started: 2 SOL_USDC, id {strategy.id}." in started
    assert 'value="0"' in started and "executed 0.00, remaining 2.00" in started

    await step(desk)
    listed = (await client.get(url(desk, "running/"), **HX)).content.decode()
    assert 'value="50"' in listed and "executed 1.00, remaining 1.00" in listed
    # prices on the market's tick (0.01), sizes on its step (0.01)
    assert "avg 150.00 against arrival 150.00 (0.0 bps)" in listed

    data = {"strategy_id": strategy.id}
    cancelled = (await client.post(url(desk, "cancel/"), data, **HX)).content.decode()
    assert f"TWAP {strategy.id}: Cancelled." in cancelled
    assert "No TWAP running on SOL_USDC." in cancelled
    assert await running(desk) == []


async def test_bad_twaps_are_refused_where_typed(desk) -> None:
    client = await client_for_user(desk.trader)
    bad = {**TWAP, "quantity": "1e3", "interval_s": "900"}
    html = (await client.post(url(desk, "start/"), bad, **HX)).content.decode()
    assert "Size:" in html and "Duration (s): At least one interval." in html
    assert await running(desk) == []


async def test_bad_twaps_are_refused_beside_their_field_keeping_what_was_typed(desk) -> None:
    client = await client_for_user(desk.trader)
    bad = {**TWAP, "quantity": "2.5", "interval_s": "900", "slippage_percent": "1000"}

    answer = (await client.post(url(desk, "start/"), bad, **HX)).content.decode()

    form = the_form(answer)
    assert 'hx-swap-oob="true"' in form
    assert (
        '<div class="form-error field-error" role="alert" data-field="duration_s">'
        "At least one interval.</div>" in form
    )
    assert 'data-field="slippage_percent">At most 25 on SOL_USDC for a buy' in form
    assert 'data-field="quantity"' not in form
    assert 'value="2.5"' in form and 'value="900"' in form and 'value="1000"' in form
    # the page's message area still says it all at once
    message = answer[answer.index('id="trading-message"') :]
    assert "Duration (s): At least one interval." in message
    assert "Slippage tolerance (%): At most 25 on SOL_USDC" in message
    assert await running(desk) == []

    await RiskLimit.objects.acreate(subaccount=desk.main)
    await offer(desk)
    corrected = {**TWAP, "quantity": "2.5", "slippage_percent": "10"}
    answer = (await client.post(url(desk, "start/"), corrected, **HX)).content.decode()
    form = the_form(answer)
    assert "TWAP started: 2.5 SOL_USDC" in answer
    assert "field-error" not in form and 'value="2.5"' in form


async def test_a_viewer_reads_why_in_place_of_the_twap_form(desk) -> None:
    """As the ladder page: the element marked data-trading-controls is there in both roles,
    so a live role change swaps it; the running TWAPs stay listed, without cancel buttons."""
    client = await client_for_user(desk.viewer)
    controls = f'data-trading-controls="{desk.main.pk}"'

    refreshed = await client.get(url(desk), **HX)
    loaded = await client.get(url(desk))
    listed = await client.get(url(desk, "running/"), **HX)

    assert refreshed.status_code == 200 and loaded.status_code == 403
    for answer in (refreshed, loaded):
        page = answer.content.decode()
        assert controls in page and 'id="twap-form"' not in page
        assert "TWAPs need the trader role on Main desk." in page
    assert "No TWAP running on SOL_USDC." in listed.content.decode()
    trader = await client_for_user(desk.trader)
    page = (await trader.get(url(desk), **HX)).content.decode()
    assert controls in page and 'id="twap-form"' in page

    await RiskLimit.objects.acreate(subaccount=desk.main)
    await offer(desk)
    await trader.post(url(desk, "start/"), TWAP, **HX)
    (strategy,) = await running(desk)
    listed = (await client.get(url(desk, "running/"), **HX)).content.decode()
    assert f'data-strategy="{strategy.id}"' in listed and ">Cancel<" not in listed
    assert ">Cancel<" in (await trader.get(url(desk, "running/"), **HX)).content.decode()


async def test_a_viewer_cannot_use_the_twap_page(desk) -> None:
    client = await client_for_user(desk.viewer)
    answer = await client.post(url(desk, "start/"), TWAP)
    assert answer.status_code == 403
    assert "TWAPs need the trader role on Main desk." in answer.content.decode()
    assert await running(desk) == []


async def test_a_size_off_the_step_says_what_to_correct_in_the_twap_form(desk) -> None:
    await RiskLimit.objects.acreate(subaccount=desk.main)
    await offer(desk)
    client = await client_for_user(desk.trader)

    off_step = {**TWAP, "quantity": "2.005"}
    html = (await client.post(url(desk, "start/"), off_step, **HX)).content.decode()

    assert (
        "TWAP not started: quantity 2.005 is not on the step size 0.01. "
        "Correct the size in the TWAP form." in html
    )
    assert "order ticket" not in html
    assert await running(desk) == []


async def mark(desk, price: str) -> None:
    async with httpx.AsyncClient(base_url=desk.sandbox.api_url) as http:
        await http.post("/_sandbox/markPrice", json={"symbol": "SOL_USDC", "price": price})


async def test_a_twap_the_exchange_stops_stays_on_the_page_with_its_reason(desk) -> None:
    await RiskLimit.objects.acreate(subaccount=desk.main)
    await offer(desk)
    await mark(desk, "100")  # the band allows 125 at most: a slice at 150 +10% is refused
    client = await client_for_user(desk.trader)
    await client.post(url(desk, "start/"), {**TWAP, "slippage_percent": "10"}, **HX)
    (strategy,) = await running(desk)

    await step(desk)
    listed = html.unescape((await client.get(url(desk, "running/"), **HX)).content.decode())

    assert await running(desk) == []
    assert "No TWAP running on SOL_USDC." in listed
    assert "Recently ended" in listed and f'data-ended="{strategy.id}"' in listed
    assert (
        "Stopped by the exchange: price out of bounds (slippage tolerance 10%): a slice's "
        "price was outside the price band the market allows. Start it again with a smaller "
        "slippage tolerance. Executed 0 of 2." in listed
    )
    cache_clear()  # as another process would, it reads the exchange's history again
    await client.get(url(desk, "running/"), **HX)  # and the end is still audited once
    (end,) = [e async for e in AuditEvent.objects.filter(action="twap_end")]
    assert (end.result, end.actor_name, end.parameters["strategyId"]) == (
        "failed",
        "trader",
        strategy.id,
    )
    assert end.detail.startswith("Stopped by the exchange: price out of bounds (slippage")


async def test_a_twap_cancelled_here_is_listed_as_ended(desk) -> None:
    await RiskLimit.objects.acreate(subaccount=desk.main)
    await offer(desk)
    client = await client_for_user(desk.trader)
    await client.post(url(desk, "start/"), TWAP, **HX)
    (strategy,) = await running(desk)

    data = {"strategy_id": strategy.id}
    cancelled = (await client.post(url(desk, "cancel/"), data, **HX)).content.decode()

    assert f'data-ended="{strategy.id}"' in cancelled
    assert "Cancelled by a member of the desk. Executed 0 of 2." in cancelled


async def test_a_slippage_tolerance_beyond_the_price_band_is_refused_where_typed(desk) -> None:
    await RiskLimit.objects.acreate(subaccount=desk.main)
    await offer(desk)
    client = await client_for_user(desk.trader)

    buy = {**TWAP, "slippage_percent": "1000"}
    refused_buy = html.unescape(
        (await client.post(url(desk, "start/"), buy, **HX)).content.decode()
    )
    sell = {**TWAP, "side": "Ask", "slippage_percent": "30"}
    refused_sell = html.unescape(
        (await client.post(url(desk, "start/"), sell, **HX)).content.decode()
    )

    assert (
        "Slippage tolerance (%): At most 25 on SOL_USDC for a buy: the exchange refuses a "
        "slice's price more than 1.25x the mark price (its price band)." in refused_buy
    )
    assert (
        "Slippage tolerance (%): At most 25 on SOL_USDC for a sell: the exchange refuses a "
        "slice's price less than 0.75x the mark price (its price band)." in refused_sell
    )
    assert await running(desk) == []


async def test_a_twap_over_both_order_limits_names_the_members_own_and_where_it_came_from(
    desk,
) -> None:
    await RiskLimit.objects.acreate(subaccount=desk.main, max_order_notional=D("1173252.50"))
    await RiskLimit.objects.acreate(
        subaccount=desk.main, member=desk.trader, max_order_notional=D("10000")
    )
    await offer(desk)
    client = await client_for_user(desk.trader)

    huge = {**TWAP, "quantity": "99999999999"}
    page = html.unescape((await client.post(url(desk, "start/"), huge, **HX)).content.decode())

    assert (
        "Order refused: the order's notional 14,999,999,999,850.00 USDC is above the order "
        "limit of 10,000.00 USDC." in page
    )
    assert await running(desk) == []
    event = await AuditEvent.objects.aget(action="twap_start", result="denied")
    assert event.ip_address == "127.0.0.1"
