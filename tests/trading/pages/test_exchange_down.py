"""An exchange that cannot be reached shows "exchange unreachable: ..." in the region, never a
500 and never an unswapped error."""

from __future__ import annotations

import socket

import pytest

from tests.trading.pages.conftest import HX, client_for_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("closes_session")]


@pytest.fixture
def exchange_down(desk, settings):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.BACKPACK_API_URL = f"http://127.0.0.1:{port}"
    settings.BACKPACK_WS_URL = f"ws://127.0.0.1:{port}/"
    return desk


async def test_the_market_page_says_the_exchange_is_unreachable(exchange_down) -> None:
    client = await client_for_user(exchange_down.trader)

    response = await client.get("/trading/market/SOL_USDC/")

    assert response.status_code == 200
    assert "exchange unreachable: " in response.content.decode()


async def test_the_orders_page_says_so_per_subaccount(exchange_down) -> None:
    client = await client_for_user(exchange_down.trader)

    response = await client.get("/trading/orders/")

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("exchange unreachable: ") == 2  # Main desk and Other desk


async def test_a_cancel_answers_a_swappable_message(exchange_down) -> None:
    client = await client_for_user(exchange_down.trader)

    response = await client.post(
        f"/trading/subaccounts/{exchange_down.main.pk}/orders/cancel/",
        {"order_id": "123", "symbol": "SOL_USDC"},
        **HX,
    )

    assert response.status_code == 200
    assert "Cancel failed: exchange unreachable: " in response.content.decode()


async def test_the_ticket_check_says_so(exchange_down) -> None:
    client = await client_for_user(exchange_down.trader)

    response = await client.post(
        "/trading/market/SOL_USDC/ticket/check/",
        {
            "subaccount": exchange_down.main.pk,
            "side": "Bid",
            "order_type": "Limit",
            "price": "150",
            "quantity": "1",
            "token": "t" * 20,
        },
        **HX,
    )

    assert response.status_code == 200
    assert "exchange unreachable: " in response.content.decode()


async def test_the_candles_endpoint_says_so(exchange_down) -> None:
    client = await client_for_user(exchange_down.trader)

    response = await client.get("/trading/market/SOL_USDC/klines/?interval=1m")

    assert response.json()["error"].startswith("exchange unreachable: ")


async def test_the_positions_page_says_so_per_subaccount(exchange_down) -> None:
    client = await client_for_user(exchange_down.trader)

    html = (await client.get("/trading/positions/")).content.decode()

    assert html.count("exchange unreachable: ") == 2


@pytest.fixture
def sealed_elsewhere(desk):
    """Main desk's secret sealed under a key-encryption key this dashboard does not have."""
    import secrets

    from accounts import crypto

    sealed = crypto.seal(desk.keys(0)["api_secret"], keys=[secrets.token_bytes(32)])
    type(desk.main).objects.filter(pk=desk.main.pk).update(api_secret_sealed=sealed)
    return desk


async def test_a_secret_that_cannot_be_opened_is_named_not_a_crash(sealed_elsewhere) -> None:
    client = await client_for_user(sealed_elsewhere.trader)
    missing = "cannot decrypt the API secret of subaccount Main desk: key missing"

    orders = await client.get("/trading/orders/")
    positions = await client.get("/trading/positions/")
    cancel = await client.post(
        f"/trading/subaccounts/{sealed_elsewhere.main.pk}/orders/cancel-all/",
        {"symbol": "SOL_USDC"},
        **HX,
    )
    history = await client.get(f"/trading/history/?subaccount={sealed_elsewhere.main.pk}")

    for response in (orders, positions, cancel, history):
        assert response.status_code == 200
        assert missing in response.content.decode()
