"""The overview's pushes (`/ws/overview/`): when the relay says a subaccount's figures
changed, each user who may see it gets the team region rendered for them; nobody else gets
anything."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from accounts.models import Membership
from accounts.services import membership_remove
from dashboard.routing import websocket_urlpatterns
from tests.factories import SuperuserFactory
from tests.trading.pages.conftest import (  # the trading pages' desk on the sandbox
    _fast_passwords,
    closes_session,
    desk,
    exchange_urls,
)
from tests.waiting import eventually
from trading.relay.connections import close_hub, fragment_publisher, hub
from trading.relay.groups import overview_group

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("closes_session")]
__all__ = ["_fast_passwords", "closes_session", "desk", "exchange_urls"]
APP = URLRouter(websocket_urlpatterns)


@pytest.fixture
def in_memory_layer(settings):
    settings.DASHBOARD_RELAY = "worker"  # no relay in this process: the test plays it
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


async def _connect(user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(APP, "/ws/overview/")
    communicator.scope["user"] = user
    connected, code = await communicator.connect()
    assert connected, code
    return communicator


async def test_a_change_reaches_only_the_users_who_may_see_the_subaccount(
    desk, in_memory_layer
) -> None:
    trader, outsider = await _connect(desk.trader), await _connect(desk.outsider)
    publish = fragment_publisher()  # as the relay hands out its word (hub, or Redis)
    await eventually(  # sockets are accepted first, then join their groups
        lambda: (
            hub().watchers(overview_group(desk.main.pk)) == 1
            and hub().watchers(overview_group(desk.other.pk)) == 2
        ),
        within_s=10,
        what="both sockets in their overview groups",
    )

    message = {"type": "overview.changed", "subaccount": desk.main.pk}
    await publish(overview_group(desk.main.pk), message)
    pushed = await trader.receive_from(timeout=10)
    outsider_got_nothing = await outsider.receive_nothing(timeout=1.0)
    message = {"type": "overview.changed", "subaccount": desk.other.pk}
    await publish(overview_group(desk.other.pk), message)
    sentinel = await outsider.receive_from(timeout=10)  # their own subaccount does reach them

    assert pushed.lstrip().startswith('<div id="overview-team"')
    assert f'data-subaccount="{desk.main.pk}"' in pushed
    assert outsider_got_nothing
    assert f'data-subaccount="{desk.other.pk}"' in sentinel
    assert "Main desk" not in sentinel
    await trader.disconnect()
    await outsider.disconnect()
    await close_hub()


async def test_a_member_removed_from_a_subaccount_sees_the_region_without_it_at_once(
    desk, in_memory_layer
) -> None:
    trader = await _connect(desk.trader)
    await eventually(
        lambda: hub().watchers(overview_group(desk.main.pk)) == 1,
        within_s=10,
        what="the socket in its overview groups",
    )
    boss = await database_sync_to_async(SuperuserFactory)()
    membership = await database_sync_to_async(Membership.objects.get)(
        user=desk.trader, subaccount=desk.main
    )

    await database_sync_to_async(membership_remove)(
        actor=boss, subaccount=desk.main, membership_id=membership.pk
    )
    pushed = await trader.receive_from(timeout=5)  # nothing from the relay: the removal itself

    assert pushed.lstrip().startswith('<div id="overview-team"')
    assert f'data-subaccount="{desk.main.pk}"' not in pushed
    assert "Main desk" not in pushed
    assert f'data-subaccount="{desk.other.pk}"' in pushed
    assert hub().watchers(overview_group(desk.main.pk)) == 0  # its later changes reach nobody
    await trader.disconnect()
    await close_hub()
