"""Public REST routes: shapes per the spec and the market data a user sees change."""

from __future__ import annotations

import time

import httpx

from sandbox.process import SandboxProcess
from tests.sandbox.server.api import Api

SYMBOLS = {"SOL_USDC", "BTC_USDC", "ETH_USDC", "SOL_USDC_PERP", "BTC_USDC_PERP", "ETH_USDC_PERP"}


async def test_system_routes(api: Api) -> None:
    assert (await api.public("/api/v1/status")).json() == {"status": "Ok"}
    assert (await api.public("/api/v1/ping")).text == "pong"
    server_ms = int((await api.public("/api/v1/time")).text)
    assert abs(server_ms - time.time() * 1000) < 5000


async def test_markets_and_assets_list_the_seed(api: Api) -> None:
    markets = (await api.public("/api/v1/markets")).json()
    assert {m["symbol"] for m in markets} == SYMBOLS
    sol = next(m for m in markets if m["symbol"] == "SOL_USDC")
    assert sol["filters"]["price"]["tickSize"] == "0.01"
    assert sol["filters"]["quantity"]["stepSize"] == "0.01"
    perps = (await api.public("/api/v1/markets", {"marketType": "PERP"})).json()
    assert {m["symbol"] for m in perps} == {s for s in SYMBOLS if s.endswith("_PERP")}
    one = (await api.public("/api/v1/market", {"symbol": "BTC_USDC_PERP"})).json()
    assert one["marketType"] == "PERP"
    assets = (await api.public("/api/v1/assets")).json()
    assert {a["symbol"] for a in assets} == {"USDC", "SOL", "BTC", "ETH"}
    collateral = (await api.public("/api/v1/collateral")).json()
    haircuts = {c["symbol"]: c["haircutFunction"]["weight"] for c in collateral}
    assert haircuts == {"BTC": "0.8", "ETH": "0.8", "SOL": "0.8", "USDC": "1"}


async def test_trade_shows_in_depth_trades_ticker_and_klines(api: Api, other: Api) -> None:
    depth = (await api.public("/api/v1/depth", {"symbol": "SOL_USDC"})).json()
    assert depth["asks"] == [] and depth["bids"] == []
    ask = await other.place(
        symbol="SOL_USDC", side="Ask", orderType="Limit", price="150.00", quantity="2"
    )
    assert ask.status_code == 200, ask.text
    depth = (await api.public("/api/v1/depth", {"symbol": "SOL_USDC"})).json()
    assert depth["asks"] == [["150", "2"]] or depth["asks"] == [["150.00", "2"]]
    assert int(depth["lastUpdateId"]) > 0
    bid = await api.place(symbol="SOL_USDC", side="Bid", orderType="Market", quantity="0.5")
    assert bid.status_code == 200, bid.text
    assert bid.json()["status"] == "Filled"
    trades = (await api.public("/api/v1/trades", {"symbol": "SOL_USDC"})).json()
    assert [(t["price"], t["quantity"]) for t in trades][-1][1] in ("0.5", "0.50")
    history = (await api.public("/api/v1/trades/history", {"symbol": "SOL_USDC"})).json()
    assert len(history) == 1
    ticker = (await api.public("/api/v1/ticker", {"symbol": "SOL_USDC"})).json()
    assert ticker["trades"] == "1"
    tickers = (await api.public("/api/v1/tickers")).json()
    assert {t["symbol"] for t in tickers} >= {"SOL_USDC"}
    start = int(time.time()) - 120
    klines = (
        await api.public(
            "/api/v1/klines", {"symbol": "SOL_USDC", "interval": "1m", "startTime": start}
        )
    ).json()
    assert sum(int(k["trades"]) for k in klines) == 1


async def test_perp_market_data(api: Api) -> None:
    marks = (await api.public("/api/v1/markPrices")).json()
    assert {m["symbol"] for m in marks} >= {"SOL_USDC_PERP", "BTC_USDC_PERP", "ETH_USDC_PERP"}
    sol = (await api.public("/api/v1/markPrices", {"symbol": "SOL_USDC_PERP"})).json()
    assert sol[0]["markPrice"] in ("150", "150.00")
    interest = (await api.public("/api/v1/openInterest", {"symbol": "SOL_USDC_PERP"})).json()
    assert interest[0]["symbol"] == "SOL_USDC_PERP"
    rates = await api.public("/api/v1/fundingRates", {"symbol": "SOL_USDC_PERP"})
    assert rates.status_code == 200


async def test_unknown_routes_answer_404_in_the_error_shape(http: httpx.AsyncClient) -> None:
    for method, path in [
        ("GET", "/api/v1/nope"),
        ("GET", "/"),
        ("PUT", "/api/v1/order"),
        ("GET", "/wapi/v1/history/unknown"),
    ]:
        response = Api.checked(await http.request(method, path), method, path)
        assert response.status_code == 404
        assert response.json()["code"] == "RESOURCE_NOT_FOUND"


async def test_unknown_symbol_and_bad_parameters_are_named(api: Api) -> None:
    unknown = await api.public("/api/v1/depth", {"symbol": "DOGE_USDC"})
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "INVALID_MARKET"
    missing = await api.public("/api/v1/depth")
    assert missing.status_code == 400
    assert missing.json()["message"] == "Missing required parameter `symbol`"
    interval = await api.public(
        "/api/v1/klines", {"symbol": "SOL_USDC", "interval": "7m", "startTime": "1"}
    )
    assert interval.status_code == 400 and "`interval`" in interval.json()["message"]
    start = await api.public(
        "/api/v1/klines", {"symbol": "SOL_USDC", "interval": "1m", "startTime": "soon"}
    )
    assert start.status_code == 400 and "`startTime`" in start.json()["message"]


def test_fixture_exposes_urls_and_keys(sandbox: SandboxProcess) -> None:
    assert sandbox.api_url.startswith("http://127.0.0.1:")
    assert sandbox.ws_url == sandbox.api_url.replace("http", "ws") + "/"
    assert len(sandbox.keys) >= 3
