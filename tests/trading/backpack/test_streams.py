"""WebSocket streams, the order feed and the book keeper against the sandbox."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import pytest

from tests.waiting import eventually
from trading.backpack import OrderStatus
from trading.backpack.book import OrderBook
from trading.backpack.bookkeeper import BookKeeper
from trading.backpack.orderfeed import OrderFeed

from .conftest import credentials_of


async def test_public_and_private_streams_share_one_connection(session, client) -> None:
    streams = session.streams(client.credentials)
    trades, updates = [], []
    try:
        await streams.subscribe("trade.SOL_USDC", trades.append)
        await streams.subscribe("account.orderUpdate", updates.append)
        await streams.wait_connected()
        order = await client.place_order("SOL_USDC", "Bid", "Limit", quantity="1", price="140")
        await eventually(lambda: any(u.get("i") == order.id for u in updates))
        assert updates[0]["e"] == "orderAccepted" and updates[0]["c"] == order.client_id
        assert streams.connections == 1
    finally:
        await streams.aclose()


async def test_after_a_dropped_socket_the_stream_resumes_and_no_order_change_is_missed(
    sandbox, session, client
) -> None:
    streams = session.streams(client.credentials, backoff_base_s=0.05)
    feed = OrderFeed(client, streams, symbol="SOL_USDC")
    try:
        await feed.start()
        await streams.wait_connected()
        first = await client.place_order("SOL_USDC", "Bid", "Limit", quantity="1", price="140")
        await eventually(lambda: first.id in feed.orders)

        dropped_at = time.monotonic()
        sandbox.set_faults(ws_drop=True)
        placed = [
            await client.place_order("SOL_USDC", "Bid", "Limit", quantity="1", price=str(p))
            for p in (131, 132, 133)
        ]
        await client.cancel_order("SOL_USDC", order_id=first.id)
        await eventually(lambda: streams.connections == 2, within_s=2.0)
        assert time.monotonic() - dropped_at < 2.0
        await asyncio.wait_for(feed.reconciled.wait(), 2.0)
        late = await client.place_order("SOL_USDC", "Bid", "Limit", quantity="1", price="134")
        await eventually(lambda: late.id in feed.orders)

        assert streams.outages and streams.outages[0].duration_s < 2.0
        rest = {o.id: o.status for o in await client.order_history(symbol="SOL_USDC")}
        rest.update({o.id: o.status for o in await client.open_orders("SOL_USDC")})
        assert {k: v.status for k, v in feed.orders.items()} == rest
        assert feed.orders[first.id].status is OrderStatus.CANCELLED
        assert {p.id for p in placed} <= set(feed.orders)
    finally:
        await streams.aclose()


async def test_local_book_equals_the_exchange_after_depth_gaps(sandbox, session, client) -> None:
    maker = client
    taker = session.client(credentials_of(sandbox, 1), label="Desk B")
    streams = session.streams()
    keeper = BookKeeper(session.client(), streams, "SOL_USDC")
    try:
        await keeper.start()
        await streams.wait_connected()
        await keeper.wait_synced()
        for i in range(6):
            await maker.place_order("SOL_USDC", "Ask", "Limit", quantity="1", price=f"15{i}")
            await maker.place_order("SOL_USDC", "Bid", "Limit", quantity="1", price=f"14{i}")
        sandbox.set_faults(depth_gap=2)
        for i in range(6):
            await maker.place_order("SOL_USDC", "Ask", "Limit", quantity="2", price=f"16{i}")
        await taker.place_order("SOL_USDC", "Bid", "Market", quantity="1.5")
        await maker.place_order("SOL_USDC", "Bid", "Limit", quantity="3", price="139")

        snapshot = await session.client().depth("SOL_USDC")
        expected = OrderBook("SOL_USDC")
        expected.load_snapshot(snapshot.bids, snapshot.asks, snapshot.last_update_id)
        await eventually(lambda: keeper.book.last_update_id >= snapshot.last_update_id)
        assert keeper.gaps >= 1 and keeper.resyncs >= 2
        assert keeper.book.checksum() == expected.checksum()
        assert keeper.book.best_ask() == (Decimal("151"), Decimal("0.5"))
        assert keeper.book.best_bid() == (Decimal("145"), Decimal("1"))
    finally:
        await keeper.aclose()
        await streams.aclose()


async def test_a_silent_socket_is_caught_by_the_watchdog_and_replaced(sandbox, session) -> None:
    from urllib.parse import urlparse

    from trading.backpack.streams import StreamClient

    from .tcp_proxy import PausableProxy

    target = urlparse(sandbox.ws_url)
    proxy = await PausableProxy(target.hostname, target.port).start()
    streams = StreamClient(
        f"ws://127.0.0.1:{proxy.port}/",
        watchdog_s=0.3,
        pong_timeout_s=0.3,
        backoff_base_s=0.05,
    )
    trades = []
    try:
        await streams.subscribe("trade.SOL_USDC", trades.append)
        await streams.wait_connected()
        proxy.pause()
        await eventually(lambda: streams.connections == 2, within_s=3.0)
        assert "Timeout" in (streams.last_error or "")
        await streams.wait_connected()
        await eventually(lambda: streams.outages, what="the outage reported after reconnecting")
        assert streams.outages and streams.outages[0].streams == ("trade.SOL_USDC",)
    finally:
        await streams.aclose()
        await proxy.aclose()


async def test_two_listeners_on_one_stream_and_unsubscribing_one(session, client, sandbox) -> None:
    streams = session.streams()
    first, second = [], []
    taker = session.client(credentials_of(sandbox, 1), label="Desk B")
    try:
        await streams.subscribe("trade.SOL_USDC", first.append)
        await streams.subscribe("trade.SOL_USDC", second.append)
        await streams.wait_connected()
        await client.place_order("SOL_USDC", "Ask", "Limit", quantity="2", price="150")
        await taker.place_order("SOL_USDC", "Bid", "Limit", quantity="1", price="150")
        await eventually(lambda: len(first) == 1 and len(second) == 1)
        await streams.unsubscribe("trade.SOL_USDC", first.append)
        await taker.place_order("SOL_USDC", "Bid", "Limit", quantity="1", price="150")
        await eventually(lambda: len(second) == 2)
        assert len(first) == 1
    finally:
        await streams.aclose()


async def test_local_book_heals_after_a_dropped_socket(sandbox, session, client) -> None:
    streams = session.streams(backoff_base_s=0.6)  # back after 0.3 to 0.6 s
    keeper = BookKeeper(session.client(), streams, "SOL_USDC")
    try:
        await keeper.start()
        await streams.wait_connected()
        await keeper.wait_synced()
        await client.place_order("SOL_USDC", "Ask", "Limit", quantity="1", price="150")
        sandbox.set_faults(ws_drop=True)
        await eventually(lambda: not streams.connected.is_set())
        for price in ("151", "152", "153"):  # while the socket is down
            await client.place_order("SOL_USDC", "Ask", "Limit", quantity="1", price=price)
        await eventually(lambda: streams.connections == 2)
        await client.place_order("SOL_USDC", "Bid", "Limit", quantity="2", price="140")

        snapshot = await session.client().depth("SOL_USDC")
        expected = OrderBook("SOL_USDC")
        expected.load_snapshot(snapshot.bids, snapshot.asks, snapshot.last_update_id)
        await eventually(lambda: keeper.book.last_update_id >= snapshot.last_update_id)
        assert keeper.book.checksum() == expected.checksum()
        assert len(keeper.book.asks) == 4
        assert keeper.gaps == 1 and keeper.resyncs == 2
    finally:
        await keeper.aclose()
        await streams.aclose()


async def test_private_stream_subscribes_with_the_exchange_clock(sandbox, session, client) -> None:
    sandbox.set_faults(clock_offset_ms=30_000)
    streams = session.streams(client.credentials)
    updates = []
    try:
        await streams.subscribe("account.orderUpdate", updates.append)
        await streams.wait_connected()
        order = await client.place_order("SOL_USDC", "Bid", "Limit", quantity="1", price="140")
        await eventually(lambda: any(u.get("i") == order.id for u in updates))
        assert streams.last_error is None
    finally:
        await streams.aclose()


@pytest.mark.parametrize(
    ("shift_ms", "reason"),
    [(30_000, "Request has expired"), (-30_000, "Request timestamp is in the future")],
)
async def test_a_refused_private_subscription_is_retried_until_the_clock_is_remeasured(
    sandbox, session, client, shift_ms, reason
) -> None:
    streams = session.streams(client.credentials, backoff_base_s=0.05, backoff_cap_s=0.4)
    updates, outages = [], []
    streams.add_outage_listener(outages.append)
    try:
        await streams.subscribe("account.orderUpdate", updates.append)
        await streams.wait_connected()
        # The exchange's clock jumps while its time route fails: the re-signed subscription
        # after the drop is refused, and stays refused while the clock cannot be measured.
        sandbox.set_faults(clock_offset_ms=shift_ms, error_rate=1.0)
        sandbox.set_faults(ws_drop=True)
        await eventually(lambda: streams.state == f"refused: {reason}")
        await eventually(lambda: len(streams.refusals) >= 3)
        assert not streams.connected.is_set()

        sandbox.set_faults(error_rate=0.0)
        await streams.wait_connected(within_s=3.0)
        order = await client.place_order("SOL_USDC", "Bid", "Limit", quantity="1", price="140")
        await eventually(lambda: any(u.get("i") == order.id for u in updates))

        assert streams.state == "connected"
        assert set(streams.refusals) == {reason}
        assert streams.connections == 2  # healed on the socket it had, no reconnect
        assert abs(session.clock.offset_ms - shift_ms) < 1_000
        await eventually(lambda: len(outages) == 1)  # the blind interval, for reconciliation
    finally:
        await streams.aclose()


async def test_a_refusal_heals_at_once_when_the_clock_can_be_measured(
    sandbox, session, client
) -> None:
    streams = session.streams(client.credentials, backoff_base_s=0.05)
    updates = []
    try:
        await streams.subscribe("account.orderUpdate", updates.append)
        await streams.wait_connected()
        sandbox.set_faults(clock_offset_ms=30_000)
        sandbox.set_faults(ws_drop=True)
        await eventually(lambda: streams.connections == 2 and streams.connected.is_set())
        order = await client.place_order("SOL_USDC", "Bid", "Limit", quantity="1", price="140")
        await eventually(lambda: any(u.get("i") == order.id for u in updates))

        assert list(streams.refusals) == ["Request has expired"]
        assert streams.state == "connected" and streams.refusal is None
    finally:
        await streams.aclose()


async def test_a_private_stream_added_to_a_live_socket_and_refused_is_healed_too(
    sandbox, session, client
) -> None:
    streams = session.streams(client.credentials, backoff_base_s=0.05, backoff_cap_s=0.4)
    trades, updates = [], []
    try:
        await session.sync_clock()  # measured before the jump, so the offset is now wrong
        await streams.subscribe("trade.SOL_USDC", trades.append)
        await streams.wait_connected()
        sandbox.set_faults(clock_offset_ms=30_000, error_rate=1.0)

        await streams.subscribe("account.orderUpdate", updates.append)
        await eventually(lambda: streams.state == "refused: Request has expired")
        sandbox.set_faults(error_rate=0.0)
        await streams.wait_connected(within_s=3.0)
        order = await client.place_order("SOL_USDC", "Bid", "Limit", quantity="1", price="140")
        await eventually(lambda: any(u.get("i") == order.id for u in updates))

        assert streams.state == "connected"
        assert set(streams.refusals) == {"Request has expired"}
    finally:
        await streams.aclose()
