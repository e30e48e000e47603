"""Signed history routes for the team overview: funding payments, settlements, positions
(historical rate budget, filters, paging, sort), and deposits from seed and control."""

from __future__ import annotations

from decimal import Decimal

import httpx

from sandbox.process import SandboxProcess
from sandbox.seed import load_seed
from sandbox.server import ServerConfig, build_app
from tests.sandbox.server.api import Api
from tests.sandbox.server.spec_schema import spec
from tests.waiting import eventually

PERP = "SOL_USDC_PERP"


async def history(api: Api, route: str, instruction: str, **params) -> list[dict]:
    response = await api.signed("GET", f"/wapi/v1/history/{route}", instruction, params or None)
    assert response.status_code == 200, response.text
    return response.json()


async def trade(maker: Api, taker: Api, maker_side: str, quantity: str) -> None:
    rest = await maker.place(
        symbol=PERP, side=maker_side, orderType="Limit", price="150", quantity=quantity
    )
    assert rest.status_code == 200, rest.text
    take_side = "Bid" if maker_side == "Ask" else "Ask"
    take = await taker.place(symbol=PERP, side=take_side, orderType="Market", quantity=quantity)
    assert take.json()["status"] == "Filled", take.text


async def test_a_round_trip_with_funding_shows_in_all_three_histories(
    sandbox: SandboxProcess, api: Api, other: Api
) -> None:
    await trade(other, api, "Ask", "4")  # api long 4 at 150, taker fee 0.0005 x 600
    sandbox.set_mark_price(PERP, "150")
    sandbox.settle_funding(PERP, "0.0001")  # long pays 4 x 150 x 0.0001
    await trade(other, api, "Bid", "4")  # closes flat at 150

    funding = await history(api, "funding", "fundingHistoryQueryAll", symbol=PERP)
    settlements = await history(api, "settlement", "settlementHistoryQueryAll", sortDirection="Asc")
    (closed,) = await history(api, "position", "positionHistoryQueryAll", state="Closed")

    assert [(p["symbol"], Decimal(p["quantity"])) for p in funding] == [(PERP, Decimal("-0.06"))]
    assert funding[0]["fundingRate"] == "0.0001"
    assert [(s["source"], Decimal(s["quantity"])) for s in settlements] == [
        ("TradingFees", Decimal("-0.3")),
        ("FundingPayment", Decimal("-0.06")),
        ("RealizePnl", Decimal("0")),
        ("TradingFees", Decimal("-0.3")),
    ]
    assert {s["positionId"] for s in settlements} == {closed["id"]}
    assert Decimal(closed["fees"]) == Decimal("0.6")
    assert Decimal(closed["fundingQuantity"]) == Decimal("-0.06")
    assert (closed["closedVolume"], closed["netQuantity"]) == ("4", "0")
    theirs = await history(other, "funding", "fundingHistoryQueryAll")
    assert Decimal(theirs[0]["quantity"]) == Decimal("0.06")


async def test_history_filters_paging_and_sort(
    sandbox: SandboxProcess, api: Api, other: Api
) -> None:
    await trade(other, api, "Ask", "1")
    await trade(other, api, "Ask", "1")
    sandbox.settle_funding(PERP, "0.0002")

    newest_first = await history(api, "settlement", "settlementHistoryQueryAll")
    page = await history(
        api, "settlement", "settlementHistoryQueryAll", sortDirection="Asc", limit=2, offset=1
    )
    fees = await history(api, "settlement", "settlementHistoryQueryAll", source="TradingFees")
    spot_positions = await history(api, "position", "positionHistoryQueryAll", marketType="SPOT")
    open_positions = await history(
        api, "position", "positionHistoryQueryAll", symbol=PERP, state="Open"
    )
    others = await history(api, "funding", "fundingHistoryQueryAll", subaccountId=65535)

    assert [s["source"] for s in newest_first] == ["FundingPayment", "TradingFees", "TradingFees"]
    assert page == newest_first[::-1][1:3]
    assert len(fees) == 2
    assert spot_positions == []
    assert [p["netQuantity"] for p in open_positions] == ["2"]
    assert others == []


async def test_bad_history_filters_are_refused_with_the_parameter_named(api: Api) -> None:
    cases = [
        (
            "settlement",
            "settlementHistoryQueryAll",
            {"source": "Fees"},
            "Invalid parameter `source`: 'Fees' is not one of BackstopLiquidation,",
        ),
        (
            "position",
            "positionHistoryQueryAll",
            {"state": "Gone"},
            "Invalid parameter `state`: 'Gone' is not one of Open, Closed",
        ),
        (
            "funding",
            "fundingHistoryQueryAll",
            {"limit": "1001"},
            "Invalid parameter `limit`: must be between 1 and 1000",
        ),
        (
            "funding",
            "fundingHistoryQueryAll",
            {"sortDirection": "Up"},
            "Invalid parameter `sortDirection`: 'Up' is not one of Asc, Desc",
        ),
    ]
    for route, instruction, params, message in cases:
        response = await api.signed("GET", f"/wapi/v1/history/{route}", instruction, params)
        assert response.status_code == 400, (route, response.text)
        assert response.json()["message"].startswith(message), response.text


def test_history_routes_draw_on_the_historical_budget(sandbox_factory) -> None:  # noqa: ANN001
    process = sandbox_factory(rate_historical=2)
    desk = {"X-API-Key": process.keys[0]["api_key"]}
    with httpx.Client(base_url=process.api_url, headers=desk) as client:
        answers = [
            client.get(f"/wapi/v1/history/{route}").status_code
            for route in ("funding", "settlement", "position")
        ]
        status = client.get("/api/v1/status").status_code

    assert answers == [401, 401, 429]  # unsigned, but counted first: the third is over
    assert status == 200  # the standard budget is separate


async def test_deposits_history_holds_the_seed_and_control_deposits(
    sandbox: SandboxProcess, api: Api
) -> None:
    sandbox.deposit(api.subaccount, "USDC", "250.5")

    response = await api.signed("GET", "/wapi/v1/capital/deposits", "depositQueryAll")

    deposits = response.json()
    assert (deposits[0]["symbol"], deposits[0]["quantity"]) == ("USDC", "250.5")
    seeded = {(d["symbol"], Decimal(d["quantity"])) for d in deposits[1:]}
    assert ("USDC", Decimal("1000000")) in seeded
    assert {d["status"] for d in deposits} == {"confirmed"}


async def test_the_server_charges_funding_when_an_interval_ends() -> None:
    now_ms = [1_700_000_000_000]
    config = ServerConfig(
        seed=load_seed(), maker=False, market_data_interval_s=0.01, clock_ms=lambda: now_ms[0]
    )
    app = build_app(config)
    engine = app.state.sandbox.engine
    for sub, side in ((2, "Ask"), (1, "Bid")):
        engine.execute_order(
            sub,
            {"symbol": PERP, "side": side, "orderType": "Limit", "price": "150", "quantity": "2"},
        )
    (mark,) = engine.mark_prices(PERP)
    assert mark["fundingRate"] == "0.0001"  # the seed's rate

    marks = []  # the loop publishes the marks, then settles funding, at every round
    engine.listeners.append(lambda event: marks.append(event) if event.symbol == PERP else None)

    async with app.router.lifespan_context(app):  # runs the periodic loop
        # A second round's marks prove the first round settled, and charged nothing.
        await eventually(
            lambda: sum(e.stream == f"markPrice.{PERP}" for e in marks) >= 2,
            what="two rounds of the periodic loop",
        )
        assert engine.funding_payments(1) == []  # not before the interval ends
        now_ms[0] = mark["nextFundingTimestamp"]
        await eventually(lambda: engine.funding_payments(1), what="funding charged")

    (payment,) = engine.funding_payments(1)
    assert Decimal(payment["quantity"]) == Decimal("-0.03")  # 2 x 150 x 0.0001
    assert engine.mark_prices(PERP)[0]["nextFundingTimestamp"] > mark["nextFundingTimestamp"]


async def test_history_answers_carry_the_headers_the_spec_requires(api: Api, other: Api) -> None:
    for _ in range(3):
        await trade(other, api, "Ask", "1")  # three fees settled, three fills
    routes = [
        ("fills", "fillHistoryQueryAll"),
        ("orders", "orderHistoryQueryAll"),
        ("funding", "fundingHistoryQueryAll"),
        ("settlement", "settlementHistoryQueryAll"),
        ("position", "positionHistoryQueryAll"),
    ]
    for route, instruction in routes:
        path = f"/wapi/v1/history/{route}"
        response = await api.signed("GET", path, instruction, {"limit": 2, "offset": 2})
        required = spec()["paths"][path]["get"]["responses"]["200"]["headers"]
        missing = [name for name in required if name not in response.headers]
        assert missing == [], (route, missing)

    response = await api.signed(
        "GET", "/wapi/v1/history/settlement", "settlementHistoryQueryAll", {"limit": 2, "offset": 2}
    )
    pages = {k: response.headers[f"X-{k}"] for k in ("Total", "Page-Size", "Current-Page")}
    assert pages == {"Total": "3", "Page-Size": "2", "Current-Page": "2"}
    assert response.headers["X-Page-Count"] == "2" and len(response.json()) == 1
