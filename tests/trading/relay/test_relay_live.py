"""The relay end to end: sandbox exchange -> relay -> channel layer -> consumer, over real
sockets to the sandbox; the browser side is a Channels communicator."""

from __future__ import annotations

import asyncio
import html
import re
import uuid

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from accounts.models import Membership, Role
from accounts.services import membership_remove, membership_set
from dashboard.routing import websocket_urlpatterns
from tests.factories import (
    MembershipFactory,
    SubaccountFactory,
    SuperuserFactory,
    UserFactory,
    keypair_for,
)
from tests.waiting import eventually
from trading.exchange import client_for, close_session
from trading.relay import runtime
from trading.relay.groups import alerts_group

pytestmark = pytest.mark.django_db(transaction=True)
APP = URLRouter(websocket_urlpatterns)


@pytest.fixture
async def relay_env(sandbox, settings):
    settings.BACKPACK_API_URL = sandbox.api_url
    settings.BACKPACK_WS_URL = sandbox.ws_url
    settings.DASHBOARD_RELAY = "embedded"
    settings.REDIS_URL = None  # this test is about one process; the scaled test covers Redis
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield sandbox
    await runtime.stop_embedded_relay()
    await close_session()
    channel_layers.backends.clear()


async def connect(path: str, user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(APP, path)
    communicator.scope["user"] = user
    connected, code = await communicator.connect()
    assert connected, code
    return communicator


async def receive_until(communicator, pattern: str, seconds: float = 8.0) -> str:
    """Collect frames until one matches `pattern`; fail with what arrived otherwise."""
    seen: list[str] = []
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            raise AssertionError(f"no frame matching {pattern!r}; got {len(seen)}: {seen[-3:]}")
        try:
            frame = await communicator.receive_from(timeout=left)
        except TimeoutError:
            continue
        seen.append(frame)
        if re.search(pattern, frame):
            return frame


async def through_sentinel(communicator, user) -> list[str]:
    """Send the user's socket a sentinel after everything already on its way to it, and return
    the frames that arrived before the sentinel: whatever was sent to it earlier is among them
    (a consumer handles its messages in order).

    The sentinel travels through the channel layer (the user's own group), fragments through
    the process's fan-out hub. The proof still holds for the checks below: the hub writes a
    group's fragment to every member's socket in one call, so once another member has
    received a fragment, any copy for this socket was already written ahead of the sentinel."""
    sentinel = f"sentinel-{uuid.uuid4().hex}"
    await get_channel_layer().group_send(
        alerts_group(user.pk), {"type": "push", "html": f'<div id="{sentinel}"></div>'}
    )
    frames: list[str] = []
    while True:
        frame = await receive_until(communicator, r".")
        if sentinel in frame:
            return frames
        frames.append(frame)


async def nothing_matching(communicator, user, pattern: str) -> None:
    """Check that no frame sent to the user's socket so far matches `pattern`: a sentinel sent
    after them proves they had arrived."""
    for frame in await through_sentinel(communicator, user):
        assert not re.search(pattern, frame), f"unexpected frame: {frame[:200]}"


def sandbox_subaccount(sandbox, index: int = 0, **kwargs):
    key = sandbox.keys[index]
    return SubaccountFactory(keypair=(key["api_key"], key["api_secret"]), **kwargs)


async def test_a_resting_order_appears_in_the_book_a_browser_watches(relay_env):
    user = await sync_to_async(UserFactory)()
    sub = await sync_to_async(sandbox_subaccount)(relay_env, name="Desk A")
    browser = await connect("/ws/market/SOL_USDC/", user)

    await receive_until(browser, r'id="book-SOL_USDC"')
    await client_for(sub).place_order(
        "SOL_USDC", "Bid", "Limit", quantity="1.5", price="141.37", post_only=True
    )

    frame = await receive_until(browser, r"141\.37")
    assert 'id="book-SOL_USDC"' in frame
    assert 'hx-swap-oob="true"' in frame
    await browser.disconnect()


async def test_a_symbol_that_names_no_market_is_refused():
    user = await sync_to_async(UserFactory)()
    communicator = WebsocketCommunicator(APP, "/ws/market/sol_usdc/")
    communicator.scope["user"] = user

    connected, code = await communicator.connect()

    assert not connected
    assert code == 4404


async def test_account_events_reach_members_by_role_and_stop_when_removed(relay_env):
    sub = await sync_to_async(sandbox_subaccount)(relay_env, name="Desk A")
    other = await sync_to_async(sandbox_subaccount)(relay_env, index=1, name="Desk B")
    viewer, trader, outsider = [await sync_to_async(UserFactory)() for _ in range(3)]
    await sync_to_async(MembershipFactory)(user=viewer, subaccount=sub, role=Role.VIEWER)
    await sync_to_async(MembershipFactory)(user=trader, subaccount=sub, role=Role.TRADER)
    await sync_to_async(MembershipFactory)(user=outsider, subaccount=other, role=Role.ADMIN)
    viewer_ws = await connect("/ws/account/", viewer)
    trader_ws = await connect("/ws/account/", trader)
    outsider_ws = await connect("/ws/account/", outsider)
    relay = await runtime.ensure_embedded_relay()  # the one the sockets started
    await eventually(  # the relay follows each active subaccount's private streams
        lambda: sub.pk in relay.accounts and other.pk in relay.accounts,
        within_s=5.0,
        what="the relay follows both subaccounts",
    )
    await relay.accounts[sub.pk].streams.wait_connected()

    order = await client_for(sub).place_order(
        "SOL_USDC", "Bid", "Limit", quantity="2", price="139.11", post_only=True
    )

    orders_pattern = rf'id="open-orders-{sub.pk}"[\s\S]*139\.11'
    viewer_frame = await receive_until(viewer_ws, orders_pattern)
    trader_frame = await receive_until(trader_ws, orders_pattern)
    assert "Cancel" not in viewer_frame
    assert "Cancel" in trader_frame
    await nothing_matching(outsider_ws, outsider, rf"open-orders-{sub.pk}|{order.id}")

    membership = await sync_to_async(Membership.objects.get)(user=viewer, subaccount=sub)
    boss = await sync_to_async(SuperuserFactory)()
    await sync_to_async(membership_remove)(actor=boss, subaccount=sub, membership_id=membership.pk)
    handled = await through_sentinel(viewer_ws, viewer)  # the socket has handled the change
    await client_for(sub).cancel_order("SOL_USDC", order_id=order.id)

    await receive_until(trader_ws, rf"open-orders-{sub.pk}")
    await nothing_matching(viewer_ws, viewer, rf"open-orders-{sub.pk}|{order.id}")
    # The viewer's pages take the subaccount's regions off at once, saying why.
    assert [f for f in handled if "You no longer have access to Desk A." in f], handled
    for ws in (viewer_ws, trader_ws, outsider_ws):
        await ws.disconnect()


async def test_a_member_made_viewer_gets_the_subaccount_again_without_trading_controls(relay_env):
    sub = await sync_to_async(sandbox_subaccount)(relay_env, name="Desk A")
    trader = await sync_to_async(UserFactory)()
    await sync_to_async(MembershipFactory)(user=trader, subaccount=sub, role=Role.TRADER)
    trader_ws = await connect("/ws/account/", trader)
    relay = await runtime.ensure_embedded_relay()
    await eventually(lambda: sub.pk in relay.accounts, within_s=5.0, what="the relay follows it")
    await relay.accounts[sub.pk].streams.wait_connected()
    boss = await sync_to_async(SuperuserFactory)()

    await sync_to_async(membership_set)(
        actor=boss, subaccount=sub, username=trader.username, role=Role.VIEWER
    )
    handled = [html.unescape(f) for f in await through_sentinel(trader_ws, trader)]
    order = await client_for(sub).place_order(
        "SOL_USDC", "Bid", "Limit", quantity="2", price="139.12", post_only=True
    )
    frame = await receive_until(trader_ws, rf'id="open-orders-{sub.pk}"[\s\S]*139\.12')

    # The page fetches the subaccount's block and the order ticket again, for the new role.
    refreshed = [f for f in handled if 'hx-get=""' in f]
    assert any(f"hx-select=\"[data-subaccount-region='{sub.pk}']\"" in f for f in refreshed)
    assert any("hx-select=\"[data-trading-controls='any']\"" in f for f in refreshed)
    assert not [f for f in handled if "You no longer have access" in f]
    assert order.id in frame
    assert "Cancel" not in frame  # the viewer's variant from now on
    await trader_ws.disconnect()


async def test_a_subaccount_whose_subscription_is_refused_is_kept_and_reported(
    relay_env, monkeypatch
):
    from trading.monitoring import agent
    from trading.relay import feeds

    monkeypatch.setattr(feeds, "ACCOUNT_LIVE_WITHIN_S", 0.5)
    known_key = relay_env.keys[0]["api_key"]
    wrong_secret = keypair_for()[1]  # the exchange knows the key; the signature cannot match
    sub = await sync_to_async(SubaccountFactory)(name="Desk A", keypair=(known_key, wrong_secret))
    relay = await runtime.ensure_embedded_relay()
    name = f"subaccount.{sub.pk}"

    def reported() -> str:
        report = agent().streams.latest().get(name)
        return report.state if report else ""

    await eventually(lambda: sub.pk in relay.accounts, 10, "the feed kept")
    await eventually(lambda: reported() == "refused: Invalid signature", 5, "refusal reported")
    streams = relay.accounts[sub.pk].streams
    await eventually(lambda: len(streams.refusals) >= 3, 5, "still retrying")

    assert reported() == "refused: Invalid signature"
    assert not agent().streams.latest()[name].connected
    assert set(streams.refusals) == {"Invalid signature"} and len(streams.refusals) >= 3
