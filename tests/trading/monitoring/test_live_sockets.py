"""Browser sockets closed because live updates failed: counted per cause for every process,
shown on the health page and in /metrics."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.db import OperationalError
from django.test import AsyncClient
from redis.exceptions import ConnectionError as RedisConnectionError

from tests.factories import SuperuserFactory
from trading.monitoring.live_sockets import failure_cause, live_socket_failed

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_cause_is_told_by_the_kind_of_failure():
    assert failure_cause(RedisConnectionError("Connection refused")) == "channel_layer"
    assert failure_cause(ConnectionRefusedError(111, "refused")) == "channel_layer"
    assert failure_cause(OperationalError("database is locked")) == "database"
    assert failure_cause(KeyError("html")) == "other"


async def test_failed_sockets_are_counted_on_the_health_page_and_in_the_metrics(caplog):
    staff = await sync_to_async(SuperuserFactory)(username="sam")
    client = AsyncClient()
    await client.aforce_login(staff)
    before = (await client.get("/trading/health/")).content.decode()

    for _ in range(2):
        await live_socket_failed(
            path="/ws/market/SOL_USDC/", user="sam", exc=RedisConnectionError("Too many")
        )
    await live_socket_failed(path="/ws/account/", user="sam", exc=OperationalError("gone"))

    page = (await client.get("/trading/health/")).content.decode()
    metrics = (await client.get("/metrics")).content.decode()
    assert "None: every browser socket was set up." in before
    layer_row = page.split('data-cause="channel_layer"', 1)[1].split("</tr>", 1)[0]
    assert '<td class="num is-bad">2</td>' in layer_row
    assert "ConnectionError: Too many" in layer_row
    assert 'desk_live_socket_failures_total{cause="channel_layer"} 2.0' in metrics
    assert 'desk_live_socket_failures_total{cause="database"} 1.0' in metrics
    lines = [r.getMessage() for r in caplog.records if r.name == "trading.live"]
    assert lines[0] == (
        "live updates stopped for sam on /ws/market/SOL_USDC/: channel layer failed "
        "(ConnectionError: Too many); the page will reconnect"
    )
    assert all(r.exc_info is None for r in caplog.records if r.name == "trading.live")
