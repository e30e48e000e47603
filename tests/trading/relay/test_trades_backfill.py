"""Recent trades through the relay stay newest first and without a hole when the relay's
exchange stream is cut (through a proxy) while trades happen: the reconnect backfills them."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from asgiref.sync import sync_to_async

from tests.factories import UserFactory
from tests.fixtures.tcp_proxy import TcpProxy
from tests.trading.relay.test_relay_live import connect, receive_until, sandbox_subaccount
from trading.exchange import client_for, close_session
from trading.relay import runtime

pytestmark = pytest.mark.django_db(transaction=True)
TRADE_ID = re.compile(r'data-trade-id="(\d+)"')


@pytest.fixture
async def proxied_relay(sandbox, settings):
    """The embedded relay on the still sandbox, its WebSocket through a proxy."""
    ws = urlsplit(sandbox.ws_url)
    with TcpProxy(ws.hostname, ws.port) as proxy:
        settings.BACKPACK_API_URL = sandbox.api_url
        settings.BACKPACK_WS_URL = f"ws://127.0.0.1:{proxy.port}{ws.path}"
        settings.DASHBOARD_RELAY = "embedded"
        settings.REDIS_URL = None
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
        from channels.layers import channel_layers

        channel_layers.backends.clear()
        yield sandbox, proxy
        await runtime.stop_embedded_relay()
        await close_session()
        channel_layers.backends.clear()


async def _trade(seller, buyer, times: int) -> None:
    await client_for(seller).place_order(
        "SOL_USDC", "Ask", "Limit", quantity="5", price="150", post_only=True
    )
    for _ in range(times):
        await client_for(buyer).place_order("SOL_USDC", "Bid", "Market", quantity="0.5")


async def test_trades_missed_while_the_stream_was_cut_are_backfilled_in_order(proxied_relay):
    sandbox, proxy = proxied_relay
    user = await sync_to_async(UserFactory)()
    seller = await sync_to_async(sandbox_subaccount)(sandbox, 0, name="Seller")
    buyer = await sync_to_async(sandbox_subaccount)(sandbox, 1, name="Buyer")
    browser = await connect("/ws/market/SOL_USDC/", user)
    await receive_until(browser, r'id="book-SOL_USDC"')
    await _trade(seller, buyer, 2)
    live = await receive_until(browser, r'data-trade-id="2"')

    proxy.down()
    try:
        await _trade(seller, buyer, 3)  # traded while the relay is blind
    finally:
        proxy.up()

    assert [int(i) for i in TRADE_ID.findall(live)] == [2, 1]  # the sentinel: live before
    frame = await receive_until(browser, r'data-trade-id="5"', seconds=15)
    assert [int(i) for i in TRADE_ID.findall(frame)] == [5, 4, 3, 2, 1]
    await browser.disconnect()
