"""Scripts watch their orders through the desk's /bpx/ws: unmodified ccxt.pro (its private
WebSocket URL pointed at the desk) sees its orders; several scripts are served from the
desk's one upstream connection for the subaccount; public streams come through the same
socket; a bad signature or a revoked key gets the exchange's error frame, and an open socket
whose key is revoked or whose member leaves the subaccount is told why and closed (issue 17)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro
import httpx
import pytest
import websockets

from tests.trading.gateway.conftest import Desk
from tests.waiting import eventually
from trading.backpack.signing import Credentials, ws_signature


@pytest.fixture
async def scripts(desk: Desk) -> AsyncIterator[Callable[..., Any]]:
    made: list[Any] = []

    def make(key: str, pro: bool = False) -> Any:
        pair = desk.keys[key]
        module = ccxt_pro if pro else ccxt_async
        exchange = module.backpack({"apiKey": pair["api_key"], "secret": pair["secret"]})
        exchange.urls["api"] = {
            "public": desk.bpx_url,
            "private": desk.bpx_url,
            "ws": {"public": desk.sandbox.ws_url, "private": desk.ws_url},
        }
        made.append(exchange)
        return exchange

    yield make
    for exchange in made:
        await exchange.close()


async def _until_seen(task: asyncio.Task, script: Any, placed: set[str]) -> list[dict]:
    """Place orders until the watcher's task returns (a slow machine subscribes late)."""
    for step in range(20):
        done, _ = await asyncio.wait({task}, timeout=0.5)
        if done:
            break
        order = await script.create_order("ETH/USDC", "limit", "buy", 0.01, 3000 + step)
        placed.add(order["id"])
    return await asyncio.wait_for(task, 10)


async def test_ccxt_pro_watches_its_orders_through_the_desk(desk: Desk, scripts: Any) -> None:
    # three keys: one key signing three subscriptions in the same millisecond would send one
    # signature three times, which the desk refuses as a replay
    watchers = [scripts(key, pro=True) for key in ("trade", "read", "watch")]
    script = scripts("trade")
    await script.load_markets()
    await eventually(lambda: desk.upstream.connections() == 1, 15, "the relay's upstream socket")

    tasks = [asyncio.create_task(w.watch_orders("ETH/USDC")) for w in watchers]
    placed: set[str] = set()
    seen = [await _until_seen(task, script, placed) for task in tasks]

    for orders in seen:
        assert placed & {o["id"] for o in orders}
        assert {o["symbol"] for o in orders} == {"ETH/USDC"}
    # three scripts, still the one upstream connection of the subaccount
    assert desk.upstream.connections() == 1


async def test_ccxt_pro_watches_every_market_through_the_desk(desk: Desk, scripts: Any) -> None:
    # watch_orders() with no symbol subscribes to the order and RFQ updates in one request: the
    # desk, which makes no RFQs, takes both (it refused the whole request before)
    watcher = scripts("watch", pro=True)
    script = scripts("trade")
    await script.load_markets()
    await eventually(lambda: desk.upstream.connections() == 1, 15, "the relay's upstream socket")

    placed: set[str] = set()
    seen = await _until_seen(asyncio.create_task(watcher.watch_orders()), script, placed)

    assert placed & {o["id"] for o in seen}


def _subscribe(api_key: str, secret: str, *, id: int = 1) -> str:
    signature = ws_signature(Credentials(api_key, secret), time.time_ns() // 1_000_000)
    signature[0] = api_key
    return json.dumps(
        {"method": "SUBSCRIBE", "params": ["account.orderUpdate"], "id": id, "signature": signature}
    )


async def test_a_revoked_key_or_a_forged_signature_gets_an_error_frame(desk: Desk) -> None:
    revoked = desk.keys["revoked"]
    trade = desk.keys["trade"]
    forged = json.loads(_subscribe(trade["api_key"], revoked["secret"], id=2))

    async with websockets.connect(desk.ws_url) as socket:
        await socket.send(_subscribe(revoked["api_key"], revoked["secret"]))
        first = json.loads(await asyncio.wait_for(socket.recv(), 10))
        await socket.send(json.dumps(forged))
        second = json.loads(await asyncio.wait_for(socket.recv(), 10))
        await socket.send(_subscribe(trade["api_key"], trade["secret"], id=3))
        third = json.loads(await asyncio.wait_for(socket.recv(), 10))

    assert first == {
        "id": 1,
        "error": {"code": 4001, "message": "Invalid X-API-Key Header: this desk key was revoked"},
    }
    assert second == {"id": 2, "error": {"code": 4001, "message": "Invalid signature"}}
    assert third == {"id": 3, "result": None}


async def test_a_socket_closes_once_its_key_is_revoked(desk: Desk) -> None:
    issued = desk.shell(
        "import json; from django.contrib.auth import get_user_model; "
        "from accounts.models import Subaccount; "
        "from trading.gateway.keys import script_key_create; "
        "u = get_user_model().objects.get(username='scripter'); "
        "k = script_key_create(actor=u, name='soon revoked', can_trade=False, days=1, "
        f"subaccounts=[Subaccount.objects.get(pk={desk.subaccount_id})]); "
        "print(json.dumps([k.key.pk, k.key.public_key, k.secret]))"
    )
    key_id, api_key, secret = issued

    cookies = await asyncio.to_thread(desk.server.sign_in, "scripter", "a long script password 1")

    async with websockets.connect(desk.ws_url) as socket:
        await socket.send(_subscribe(api_key, secret))
        subscribed = json.loads(await asyncio.wait_for(socket.recv(), 10))
        async with httpx.AsyncClient(base_url=desk.server.url, cookies=cookies) as http:
            revoked = await http.post(
                f"/trading/keys/{key_id}/revoke/",
                data={"csrfmiddlewaretoken": cookies["csrftoken"]},
            )
        # told at once, not at the next of the socket's checks every 5 s
        refusal = json.loads(await asyncio.wait_for(socket.recv(), 2.5))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), 5)

    assert revoked.status_code == 302  # back to the keys page
    assert subscribed == {"id": 1, "result": None}
    assert refusal == {
        "id": None,
        "error": {"code": 4401, "message": "Invalid X-API-Key Header: this desk key was revoked"},
    }
    assert closed.value.rcvd.code == 4401


async def test_a_socket_closes_once_its_member_is_removed_from_the_subaccount(
    desk: Desk,
) -> None:
    # A member taken off the subaccount is refused at once on REST; a socket they opened
    # before kept receiving the subaccount's order updates (only the key was checked again).
    issued = desk.shell(
        "import json; from django.contrib.auth import get_user_model; "
        "from accounts.models import Membership, Subaccount; "
        "from trading.gateway.keys import script_key_create; "
        f"s = Subaccount.objects.get(pk={desk.subaccount_id}); "
        "u = get_user_model().objects.create_user('leaver'); "
        "Membership.objects.create(user=u, subaccount=s, role='viewer'); "
        "k = script_key_create(actor=u, name='leaver', can_trade=False, days=1, "
        "subaccounts=[s]); "
        "print(json.dumps([k.key.public_key, k.secret]))"
    )
    api_key, secret = issued

    async with websockets.connect(desk.ws_url) as socket:
        await socket.send(_subscribe(api_key, secret))
        subscribed = json.loads(await asyncio.wait_for(socket.recv(), 10))
        desk.shell(
            "from accounts.models import Membership; "
            "Membership.objects.filter(user__username='leaver').delete(); print(1)"
        )
        refusal = json.loads(await asyncio.wait_for(socket.recv(), 15))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), 5)

    assert subscribed == {"id": 1, "result": None}
    assert refusal == {
        "id": None,
        "error": {"code": 4403, "message": "leaver no longer has the viewer role on Script desk."},
    }
    assert closed.value.rcvd.code == 4403


async def test_a_script_with_one_websocket_url_gets_public_streams_too(
    desk: Desk, scripts: Any
) -> None:
    watcher = scripts("read", pro=True)
    watcher.urls["api"]["ws"]["public"] = desk.ws_url  # everything through the desk
    script = scripts("trade")
    await script.load_markets()
    maker = ccxt_async.backpack(
        {"apiKey": desk.sandbox.keys[1]["api_key"], "secret": desk.sandbox.keys[1]["api_secret"]}
    )
    maker.urls["api"] = {"public": desk.sandbox.api_url, "private": desk.sandbox.api_url}
    try:
        trades = asyncio.create_task(watcher.watch_trades("SOL/USDC"))
        for step in range(20):  # a slow machine subscribes late: trade again until seen
            done, _ = await asyncio.wait({trades}, timeout=0.5)
            if done:
                break
            await maker.create_order("SOL/USDC", "limit", "sell", 0.1, 150 + step / 100)
            await script.create_order("SOL/USDC", "market", "buy", 0.1)
        seen = await asyncio.wait_for(trades, 10)
    finally:
        await maker.close()

    assert seen and {t["symbol"] for t in seen} == {"SOL/USDC"}
    assert all(t["amount"] == 0.1 for t in seen)
