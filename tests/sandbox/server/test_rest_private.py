"""Signed REST routes: balances, orders, fills, positions, capital, limits."""

from __future__ import annotations

from decimal import Decimal

from sandbox.process import SandboxProcess
from tests.sandbox.server.api import Api
from tests.waiting import eventually


async def test_balances_match_the_seed(api: Api) -> None:
    balances = await api.balances()
    assert Decimal(balances["USDC"]["available"]) == Decimal("1000000")
    assert Decimal(balances["BTC"]["locked"]) == 0


async def test_limit_order_lifecycle(api: Api) -> None:
    placed = await api.place(
        symbol="SOL_USDC",
        side="Bid",
        orderType="Limit",
        price="140.50",
        quantity="3",
        clientId=77,
        postOnly=True,
    )
    assert placed.status_code == 200, placed.text
    order = placed.json()
    assert isinstance(order["id"], str) and order["status"] == "New" and order["clientId"] == 77
    balances = await api.balances()
    assert Decimal(balances["USDC"]["locked"]) >= Decimal("421.50")
    assert [o["id"] for o in await api.open_orders("SOL_USDC")] == [order["id"]]
    by_client = await api.signed(
        "GET", "/api/v1/order", "orderQuery", {"symbol": "SOL_USDC", "clientId": 77}
    )
    assert by_client.json()["id"] == order["id"]
    cancelled = await api.signed(
        "DELETE", "/api/v1/order", "orderCancel", {"symbol": "SOL_USDC", "orderId": order["id"]}
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "Cancelled"
    assert await api.open_orders() == []
    gone = await api.signed(
        "GET", "/api/v1/order", "orderQuery", {"symbol": "SOL_USDC", "orderId": order["id"]}
    )
    assert gone.status_code == 404 and gone.json()["code"] == "RESOURCE_NOT_FOUND"
    assert Decimal((await api.balances())["USDC"]["locked"]) == 0


async def test_batch_orders_and_cancel_all(api: Api) -> None:
    batch = [
        {
            "symbol": "ETH_USDC",
            "side": "Bid",
            "orderType": "Limit",
            "price": "3000",
            "quantity": "1",
        },
        {
            "symbol": "ETH_USDC",
            "side": "Bid",
            "orderType": "Limit",
            "price": "2990",
            "quantity": "1",
        },
    ]
    placed = await api.signed("POST", "/api/v1/orders", "orderExecute", batch)
    assert placed.status_code == 200, placed.text
    assert [o["status"] for o in placed.json()] == ["New", "New"]
    assert len(await api.open_orders("ETH_USDC")) == 2
    cancelled = await api.signed(
        "DELETE", "/api/v1/orders", "orderCancelAll", {"symbol": "ETH_USDC"}
    )
    assert cancelled.status_code == 200
    assert {o["status"] for o in cancelled.json()} == {"Cancelled"}
    assert await api.open_orders() == []


async def test_fills_history_and_perp_position(api: Api, other: Api) -> None:
    ask = await other.place(
        symbol="SOL_USDC_PERP", side="Ask", orderType="Limit", price="150", quantity="4"
    )
    assert ask.status_code == 200, ask.text
    bid = await api.place(symbol="SOL_USDC_PERP", side="Bid", orderType="Market", quantity="4")
    assert bid.status_code == 200 and bid.json()["status"] == "Filled", bid.text
    fills = (await api.signed("GET", "/wapi/v1/history/fills", "fillHistoryQueryAll")).json()
    assert [(f["side"], f["isMaker"]) for f in fills] == [("Bid", False)]
    orders = (await api.signed("GET", "/wapi/v1/history/orders", "orderHistoryQueryAll")).json()
    assert orders[0]["status"] == "Filled"
    positions = (await api.signed("GET", "/api/v1/position", "positionQuery")).json()
    assert [(p["symbol"], p["netQuantity"]) for p in positions] == [("SOL_USDC_PERP", "4")]
    for market_types, expected in [
        ("SPOT", 0),
        ("PERP", 1),
        (["SPOT", "PERP"], 1),
        (["IPERP", "DATED"], 0),
    ]:
        filtered = await api.signed(
            "GET", "/wapi/v1/history/fills", "fillHistoryQueryAll", {"marketType": market_types}
        )
        assert len(filtered.json()) == expected, (market_types, filtered.text)
    theirs = (await other.signed("GET", "/api/v1/position", "positionQuery")).json()
    assert theirs[0]["netQuantity"] == "-4"
    collateral = await api.signed("GET", "/api/v1/capital/collateral", "collateralQuery")
    assert collateral.status_code == 200
    assert Decimal(collateral.json()["netExposureFutures"]) > 0
    account = await api.signed("GET", "/api/v1/account", "accountQuery")
    assert account.status_code == 200


async def test_limits(api: Api) -> None:
    order_limit = await api.signed(
        "GET",
        "/api/v1/account/limits/order",
        "maxOrderQuantity",
        {"symbol": "SOL_USDC", "side": "Ask"},
    )
    assert order_limit.status_code == 200, order_limit.text
    assert Decimal(order_limit.json()["maxOrderQuantity"]) == Decimal("5000")
    withdraw_limit = await api.signed(
        "GET", "/api/v1/account/limits/withdrawal", "maxWithdrawalQuantity", {"symbol": "BTC"}
    )
    assert withdraw_limit.status_code == 200, withdraw_limit.text
    assert Decimal(withdraw_limit.json()["maxWithdrawalQuantity"]) > 0


async def test_deposits_and_deposit_address(api: Api) -> None:
    deposits = await api.signed("GET", "/wapi/v1/capital/deposits", "depositQueryAll")
    assert deposits.status_code == 200
    assert {d["symbol"] for d in deposits.json()} == {"USDC", "SOL", "BTC", "ETH"}
    address = await api.signed(
        "GET", "/wapi/v1/capital/deposit/address", "depositAddressQuery", {"blockchain": "Solana"}
    )
    again = await api.signed(
        "GET", "/wapi/v1/capital/deposit/address", "depositAddressQuery", {"blockchain": "Solana"}
    )
    assert address.json()["address"] == again.json()["address"]


async def test_withdrawal_to_exempt_address_is_debited_and_confirmed(
    api: Api, sandbox: SandboxProcess
) -> None:
    address = "Desk1SoLanaWithdrawa1Address11111111111111"
    body = {"address": address, "blockchain": "Solana", "quantity": "100", "symbol": "USDC"}
    requested = await api.signed("POST", "/wapi/v1/capital/withdrawals", "withdraw", body)
    assert requested.status_code == 200, requested.text
    assert requested.json()["status"] == "pending"
    assert Decimal(requested.json()["fee"]) == Decimal("1")
    balances = await api.balances()
    assert Decimal(balances["USDC"]["available"]) == Decimal("1000000") - 101

    async def confirmed():
        listed = await api.signed("GET", "/wapi/v1/capital/withdrawals", "withdrawalQueryAll")
        return listed if listed.json()[0]["status"] == "confirmed" else None

    listed = await eventually(confirmed, within_s=4.0, what="withdrawal confirmed", every_s=0.1)
    assert listed.json()[0]["status"] == "confirmed"


async def test_withdrawal_to_other_address_is_refused_and_nothing_moves(api: Api) -> None:
    before = await api.balances()
    body = {"address": "SomeoneElse1111", "blockchain": "Solana", "quantity": "5", "symbol": "USDC"}
    refused = await api.signed("POST", "/wapi/v1/capital/withdrawals", "withdraw", body)
    assert refused.status_code == 403
    assert refused.json()["code"] == "FORBIDDEN"
    assert "2FA exempt" in refused.json()["message"]
    other_chain = dict(
        body, address="Desk1SoLanaWithdrawa1Address11111111111111", blockchain="Ethereum"
    )
    assert (
        await api.signed("POST", "/wapi/v1/capital/withdrawals", "withdraw", other_chain)
    ).status_code == 403
    assert await api.balances() == before
    listed = await api.signed("GET", "/wapi/v1/capital/withdrawals", "withdrawalQueryAll")
    assert listed.json() == []


async def test_control_call_confirms_pending_withdrawals_at_once(
    api: Api, sandbox: SandboxProcess
) -> None:
    body = {
        "address": "bc1q86zdnzeg6se06regmqkd75xxghv0mevmr68emp",
        "blockchain": "Bitcoin",
        "quantity": "0.5",
        "symbol": "BTC",
        "clientId": "wd:7 a/b",
    }
    requested = await api.signed("POST", "/wapi/v1/capital/withdrawals", "withdraw", body)
    assert requested.status_code == 200, requested.text
    assert sandbox.confirm_withdrawals() == 1
    listed = await api.signed(
        "GET", "/wapi/v1/capital/withdrawals", "withdrawalQueryAll", {"clientId": "wd:7 a/b"}
    )
    assert [(w["status"], w["clientId"]) for w in listed.json()] == [("confirmed", "wd:7 a/b")]
    assert Decimal((await api.balances())["BTC"]["available"]) == Decimal("25") - Decimal("0.5001")
