"""The market page and the markets index, first render from REST against the sandbox."""

from __future__ import annotations

import pytest

from tests.trading.pages.conftest import client_for_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("closes_session")]


async def test_market_page_shows_the_regions_and_a_ticket_to_a_trader(desk) -> None:
    client = await client_for_user(desk.trader)

    response = await client.get("/trading/market/SOL_USDC/")

    html = response.content.decode()
    assert response.status_code == 200, html
    assert 'id="book-SOL_USDC"' in html
    assert 'id="trades-SOL_USDC"' in html
    assert 'id="stats-SOL_USDC"' in html
    assert 'ws-connect="/ws/market/SOL_USDC/"' in html
    assert 'id="ticket-form"' in html
    assert "Main desk" in html


async def test_a_trader_finds_ladder_and_twap_links_by_the_ticket(desk) -> None:
    client = await client_for_user(desk.trader)

    html = (await client.get("/trading/market/SOL_USDC/")).content.decode()

    ladder = f"/trading/subaccounts/{desk.main.pk}/ladder/SOL_USDC/"
    twap = f"/trading/subaccounts/{desk.main.pk}/twap/SOL_USDC/"
    assert f'<a href="{ladder}">Ladder</a>' in html
    assert f'<a href="{twap}">TWAP</a>' in html
    assert f"/trading/subaccounts/{desk.other.pk}/ladder/" not in html  # a viewer there
    for link in (ladder, twap):
        assert (await client.get(link)).status_code == 200


async def test_a_viewer_gets_no_ladder_or_twap_link(desk) -> None:
    client = await client_for_user(desk.viewer)

    html = (await client.get("/trading/market/SOL_USDC/")).content.decode()

    assert "You have view access only" in html  # the sentinel: the ticket's place rendered
    assert "/ladder/" not in html and "/twap/" not in html


async def test_a_perpetual_shows_mark_index_and_funding(desk) -> None:
    client = await client_for_user(desk.viewer)

    html = (await client.get("/trading/market/SOL_USDC_PERP/")).content.decode()

    assert 'id="stats-SOL_USDC_PERP"' in html
    assert "Funding (next)" in html and "data-mark=" in html
    assert "Perpetual" in html


async def test_the_book_shows_resting_orders_with_depth_bars(desk) -> None:
    from decimal import Decimal

    async with desk.session() as session:
        maker = desk.raw_client(session, 1)
        await maker.place_order(
            "SOL_USDC", "Ask", "Limit", price=Decimal("151"), quantity=Decimal("3")
        )
        await maker.place_order(
            "SOL_USDC", "Bid", "Limit", price=Decimal("149"), quantity=Decimal("1")
        )
    client = await client_for_user(desk.viewer)

    html = (await client.get("/trading/market/SOL_USDC/")).content.decode()

    assert 'data-price="151.00" style="--depth: 100.0%"' in html
    assert 'data-price="149.00" style="--depth: 33.3%"' in html
    assert 'data-best-bid="149.00"' in html and 'data-best-ask="151.00"' in html


async def test_an_unknown_market_is_404(desk) -> None:
    client = await client_for_user(desk.viewer)

    assert (await client.get("/trading/market/NOPE_USDC/")).status_code == 404
    assert (await client.get("/trading/market/not a symbol/")).status_code == 404


async def test_markets_index_lists_spot_and_perpetuals(desk) -> None:
    client = await client_for_user(desk.viewer)

    html = (await client.get("/trading/markets/")).content.decode()

    assert 'href="/trading/market/SOL_USDC/"' in html
    assert 'href="/trading/market/BTC_USDC_PERP/"' in html


async def test_candles_come_as_plain_decimal_strings(desk) -> None:
    from decimal import Decimal

    async with desk.session() as session:
        await desk.raw_client(session, 1).place_order(
            "SOL_USDC", "Ask", "Limit", price=Decimal("150.5"), quantity=Decimal("1")
        )
        await desk.raw_client(session, 0).place_order(
            "SOL_USDC", "Bid", "Market", quantity=Decimal("1")
        )
    client = await client_for_user(desk.viewer)

    body = (await client.get("/trading/market/SOL_USDC/klines/?interval=1m")).json()
    bad = await client.get("/trading/market/SOL_USDC/klines/?interval=7m")

    assert body["interval"] == "1m"
    assert body["candles"][-1]["close"] == "150.5"
    assert isinstance(body["candles"][-1]["time"], int)
    assert bad.status_code == 400
    assert "Unknown interval '7m'" in bad.json()["error"]


async def test_pages_need_sign_in(desk) -> None:
    from django.test import AsyncClient

    response = await AsyncClient().get("/trading/market/SOL_USDC/")
    htmx = await AsyncClient().get("/trading/orders/", headers={"HX-Request": "true"})

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert htmx.headers.get("HX-Redirect") == "/accounts/login/"
