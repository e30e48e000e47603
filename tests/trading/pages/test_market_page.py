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
