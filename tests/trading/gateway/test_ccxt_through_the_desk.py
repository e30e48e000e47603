"""Unmodified ccxt (its backpack client, only its URLs pointed at the desk's /bpx/) trades
through the desk with a desk-issued key: markets, balances, place, list and cancel; and the
desk's refusals reach it as the exchange's own errors (issue 17)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import ccxt
import ccxt.async_support as ccxt_async
import httpx
import pytest

from tests.trading.gateway.conftest import Desk
from tests.waiting import eventually


def _point_at(exchange: Any, base_url: str) -> Any:
    exchange.urls["api"] = {"public": base_url, "private": base_url}
    return exchange


@pytest.fixture
async def scripts(desk: Desk) -> AsyncIterator[Callable[..., Any]]:
    made: list[Any] = []

    def make(key: str) -> Any:
        pair = desk.keys[key]
        exchange = ccxt_async.backpack({"apiKey": pair["api_key"], "secret": pair["secret"]})
        made.append(_point_at(exchange, desk.bpx_url))
        return exchange

    yield make
    for exchange in made:
        await exchange.close()


async def test_ccxt_loads_markets_reads_balances_places_lists_and_cancels(
    desk: Desk, scripts: Any
) -> None:
    script = scripts("trade")

    markets = await script.load_markets()
    balance = await script.fetch_balance()
    resting = await script.create_order("ETH/USDC", "limit", "buy", 0.5, 3400)
    listed = await script.fetch_open_orders("ETH/USDC")
    await script.cancel_order(resting["id"], "ETH/USDC")
    after = await script.fetch_open_orders("ETH/USDC")

    assert {"SOL/USDC", "ETH/USDC", "SOL/USDC:USDC"} <= set(markets)
    direct = desk.sandbox.keys[0]
    straight = _point_at(
        ccxt_async.backpack({"apiKey": direct["api_key"], "secret": direct["api_secret"]}),
        desk.sandbox.api_url,
    )
    try:
        assert balance["total"] == (await straight.fetch_balance())["total"]
    finally:
        await straight.close()
    assert resting["status"] == "open"
    assert [o["id"] for o in listed] == [resting["id"]]
    assert after == []


async def test_a_script_order_is_the_members_in_the_audit_log_and_its_ticket(
    desk: Desk, scripts: Any
) -> None:
    # the sandbox restarts its order ids at each reset: look only at what this test added
    before = desk.shell(
        "import json; from accounts.models import AuditEvent; from trading.models import "
        "OrderTicket; print(json.dumps([AuditEvent.objects.order_by('-pk').values_list('pk', "
        "flat=True).first() or 0, OrderTicket.objects.order_by('-pk').values_list('pk', "
        "flat=True).first() or 0]))"
    )

    placed = await scripts("trade").create_order("ETH/USDC", "limit", "buy", 0.25, 3300)

    events = desk.shell(
        "import json; from accounts.models import AuditEvent; "
        "print(json.dumps([[e.actor_name, e.result, e.parameters.get('orderId'), "
        "e.parameters.get('via', '')] for e in AuditEvent.objects.filter("
        f"action='order_place', pk__gt={before[0]})]))"
    )
    tickets = desk.shell(
        "import json; from trading.models import OrderTicket; "
        "print(json.dumps([[t.actor.username, t.outcome, t.order_id] for t in "
        f"OrderTicket.objects.filter(pk__gt={before[1]})]))"
    )

    assert len(events) == 1
    actor, result, order_id, via = events[0]
    assert (actor, result, order_id) == ("scripter", "ok", placed["id"])
    assert via.startswith("script key trade (")
    assert tickets == [["scripter", "placed", placed["id"]]]


async def test_a_read_only_key_gets_the_exchanges_unauthorized_error_on_an_order(
    scripts: Any,
) -> None:
    script = scripts("read")
    await script.fetch_balance()  # reading is allowed

    with pytest.raises(ccxt.AuthenticationError) as refused:
        await script.create_order("ETH/USDC", "limit", "buy", 0.5, 3400)

    assert '"code": "UNAUTHORIZED"' in str(refused.value)
    assert "read-only" in str(refused.value)


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("revoked", "this desk key was revoked"),
        (
            "expired",
            "this desk key has expired; issue a new one on the desk's Keys page (/trading/keys/)",
        ),
    ],
)
async def test_a_revoked_or_expired_key_is_refused_at_once(
    scripts: Any, key: str, why: str
) -> None:
    with pytest.raises(ccxt.AuthenticationError) as refused:
        await scripts(key).fetch_balance()

    assert f"Invalid X-API-Key Header: {why}" in str(refused.value)


async def test_an_order_over_a_risk_limit_is_refused_in_the_exchanges_error_shape(
    desk: Desk, scripts: Any
) -> None:
    script = scripts("trade")

    with pytest.raises(ccxt.OperationRejected) as refused:
        await script.create_order("ETH/USDC", "limit", "buy", 1, 3400)  # 3400 > 2000
    open_orders = await script.fetch_open_orders("ETH/USDC")

    assert '"code": "ORDER_LIMIT"' in str(refused.value)
    assert "above the order limit of 2,000.00 USDC" in str(refused.value)
    assert open_orders == []


def _audit_after(desk: Desk, first: int) -> list[list[Any]]:
    return desk.shell(
        "import json; from accounts.models import AuditEvent; "
        "print(json.dumps([[e.result, e.ip_address, e.parameters.get('price'), "
        "e.parameters.get('via', ''), e.parameters.get('limit')] for e in "
        f"AuditEvent.objects.filter(action='order_place', pk__gt={first}).order_by('pk')]))"
    )


def _last_audit(desk: Desk) -> int:
    return desk.shell(
        "import json; from accounts.models import AuditEvent; "
        "print(json.dumps(AuditEvent.objects.order_by('-pk').values_list('pk', flat=True)"
        ".first() or 0))"
    )


async def test_an_order_refused_by_the_gate_is_audited_once_naming_its_key(
    desk: Desk, scripts: Any
) -> None:
    # one row per order, with the key and the address it came from, and the limit it broke
    # (the gate's record and the endpoint's made two rows, the gate's without either)
    script = scripts("trade")
    await script.load_markets()
    first = _last_audit(desk)

    with pytest.raises(ccxt.OperationRejected):
        await script.create_order("ETH/USDC", "limit", "buy", 1, 3400)
    with pytest.raises(ccxt.OperationRejected):
        await script.create_orders(
            [
                {
                    "symbol": "ETH/USDC",
                    "type": "limit",
                    "side": "buy",
                    "amount": 0.1,
                    "price": 3301,
                },
                {"symbol": "ETH/USDC", "type": "limit", "side": "buy", "amount": 1, "price": 3302},
            ]
        )
    rows = sorted(_audit_after(desk, first), key=lambda r: r[2])  # the batch's in any order

    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("denied", "127.0.0.1", "3301"),  # not sent: its batch was refused
        ("denied", "127.0.0.1", "3302"),
        ("denied", "127.0.0.1", "3400"),
    ]
    assert all(r[3].startswith("script key trade (") for r in rows)
    assert [r[4] for r in rows] == [None, "max_order_notional", "max_order_notional"]


async def test_ccxt_places_a_batch_through_the_desk_each_order_gated(scripts: Any) -> None:
    script = scripts("trade")
    await script.load_markets()

    placed = await script.create_orders(
        [
            {"symbol": "ETH/USDC", "type": "limit", "side": "buy", "amount": 0.1, "price": 3300},
            {"symbol": "ETH/USDC", "type": "limit", "side": "buy", "amount": 0.1, "price": 3310},
        ]
    )
    listed = await script.fetch_open_orders("ETH/USDC")
    with pytest.raises(ccxt.OperationRejected) as refused:
        await script.create_orders(
            [
                {
                    "symbol": "ETH/USDC",
                    "type": "limit",
                    "side": "buy",
                    "amount": 0.1,
                    "price": 3300,
                },
                {"symbol": "ETH/USDC", "type": "limit", "side": "buy", "amount": 1, "price": 3300},
            ]
        )
    after = await script.fetch_open_orders("ETH/USDC")

    assert len(placed) == 2
    assert {o["id"] for o in listed} == {o["id"] for o in placed}
    assert '"code": "ORDER_LIMIT"' in str(refused.value)
    assert {o["id"] for o in after} == {o["id"] for o in placed}  # nothing of the refused batch


async def test_a_script_fill_counts_for_its_member_in_pnl_by_member(
    desk: Desk, scripts: Any
) -> None:
    script = scripts("trade")
    await script.load_markets()
    maker = _point_at(
        ccxt_async.backpack(
            {
                "apiKey": desk.sandbox.keys[1]["api_key"],
                "secret": desk.sandbox.keys[1]["api_secret"],
            }
        ),
        desk.sandbox.api_url,
    )
    try:
        await maker.create_order("SOL/USDC", "limit", "sell", 2, 150)
    finally:
        await maker.close()
    await script.create_order("SOL/USDC", "market", "buy", 2)

    http = await asyncio.to_thread(_signed_in, desk.server.url)

    def scripter_row() -> bool:
        csv = http.get("/trading/pnl/", params={"export": "member"}).text
        return any(line.startswith("scripter,") for line in csv.splitlines())

    try:
        await eventually(scripter_row, 60, "the script's fill under its member in PnL")
    finally:
        http.close()


def _signed_in(url: str) -> httpx.Client:
    """A browser session of the script's member (a plain HTTP client with its cookies)."""
    http = httpx.Client(base_url=url, timeout=30)
    http.get("/accounts/login/")
    http.post(
        "/accounts/login/",
        data={
            "username": "scripter",
            "password": "a long script password 1",
            "csrfmiddlewaretoken": http.cookies["csrftoken"],
        },
    )
    return http
