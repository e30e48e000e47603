"""The kill switch under injected faults (issue 15.4's proof): an order answer lost after the
exchange ran it, a burst of 429s, a dropped private stream. Whatever happens on the way, the
end state on the sandbox is no open order and no position, and every step is in the audit log.
"""

from __future__ import annotations

import pytest
from channels.layers import channel_layers

from accounts.models import AuditEvent
from tests.trading.risk.test_gate_on_the_sandbox import open_long, open_orders_on_exchange, send
from tests.trading.risk.test_kill_switch import admin, code, positions_left  # noqa: F401
from tests.waiting import eventually
from trading.relay import runtime, worker
from trading.risk.kill import kill_switch_engage

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("closes_session")]

PERP = "SOL_USDC_PERP"


async def exposed(desk) -> None:
    """Arrange: a long SOL perp position and two resting bids on SOL_USDC."""
    await open_long(desk)
    assert 'data-result="ok"' in await send(desk, n=1)
    assert 'data-result="ok"' in await send(desk, n=2, price="149")
    assert await positions_left(desk) == [PERP]


async def actions(desk) -> list[tuple[str, str]]:
    events = AuditEvent.objects.filter(subaccount=desk.main).order_by("id")
    return [
        (e.action, e.result)
        async for e in events
        if e.action not in ("order_place", "risk_limits_default")
    ]


async def engage(desk, admin):  # noqa: F811
    return await kill_switch_engage(
        actor=admin, subaccount=desk.main, reason="faults drill", otp_code=await code(admin)
    )


async def assert_nothing_left(desk) -> None:
    assert await open_orders_on_exchange(desk) == []
    assert await positions_left(desk) == []


async def test_a_close_whose_answer_is_lost_still_ends_flat(desk, admin) -> None:  # noqa: F811
    await exposed(desk)
    desk.sandbox.set_faults(lose_order_responses=1, lost_response="close")

    report = await engage(desk, admin)

    await assert_nothing_left(desk)
    assert desk.sandbox.set_faults()["lose_order_responses"] == 0  # the close's answer was lost
    assert report.summary() == (
        "Kill switch: 2 orders cancelled, positions closed: SOL_USDC_PERP. Nothing is left "
        "open; the subaccount is reduce-only."
    )
    assert (report.open_orders_left, report.positions_left) == (0, [])
    steps = await actions(desk)
    assert steps[0] == ("kill_switch_engage", "ok")
    assert ("orders_cancel_all", "ok") in steps
    assert steps[-1][0] == "kill_switch_result"
    assert any(action == "position_close" for action, _ in steps)


async def test_a_burst_of_429s_is_waited_out(desk, admin) -> None:  # noqa: F811
    await exposed(desk)
    desk.sandbox.set_faults(burst_429=6)

    report = await engage(desk, admin)

    await assert_nothing_left(desk)
    assert desk.sandbox.set_faults()["burst_429"] == 0  # every 429 was answered
    assert report.clean, report.summary()
    assert await actions(desk) == [
        ("kill_switch_engage", "ok"),
        ("orders_cancel_all", "ok"),
        ("position_close", "ok"),
        ("kill_switch_result", "ok"),
    ]


@pytest.fixture
async def relay(desk, settings, monkeypatch):
    """The embedded relay, with the main desk's private stream open."""
    settings.DASHBOARD_RELAY = "embedded"
    settings.REDIS_URL = None
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    monkeypatch.setattr(worker, "LEDGER_FIRST_AFTER_S", 3600.0)
    monkeypatch.setattr(worker, "SNAPSHOT_FIRST_AFTER_S", 3600.0)
    channel_layers.backends.clear()
    running = await runtime.ensure_embedded_relay()
    await eventually(lambda: desk.main.pk in running.accounts, 10, "the account stream")
    feed = running.accounts[desk.main.pk]
    await feed.streams.wait_connected(10)
    yield feed
    await runtime.stop_embedded_relay()
    channel_layers.backends.clear()


async def test_a_dropped_private_stream_changes_nothing(desk, admin, relay) -> None:  # noqa: F811
    await exposed(desk)
    before = relay.streams.connections
    desk.sandbox.set_faults(ws_drop=True, ws_drop_every_s=0.3)

    report = await engage(desk, admin)

    await assert_nothing_left(desk)
    assert report.clean, report.summary()
    assert (report.cancelled, report.closed) == (2, [PERP])
    desk.sandbox.clear_faults()
    await eventually(lambda: relay.streams.connections > before, 10, "the stream reconnected")
