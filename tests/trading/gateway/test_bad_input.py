"""Bad input from a script gets the exchange's error shape, never a 500, and an order refused
for it leaves nothing behind (issue 17): sent over real sockets to the live desk's /bpx/,
signed with the client's own signing code."""

from __future__ import annotations

import json
import time

import httpx

from tests.trading.gateway.conftest import Desk
from trading.backpack.signing import Credentials

ORDER = {
    "symbol": "ETH_USDC",
    "side": "Bid",
    "orderType": "Limit",
    "timeInForce": "GTC",
    "price": "3400",
    "quantity": "0.1",
}


def _signed_post(desk: Desk, body: dict) -> httpx.Response:
    pair = desk.keys["trade"]
    headers = Credentials(pair["api_key"], pair["secret"]).headers(
        "orderExecute", body, time.time_ns() // 1_000_000
    )
    headers["Content-Type"] = "application/json"
    return httpx.post(desk.bpx_url + "/api/v1/order", content=json.dumps(body), headers=headers)


def _tickets(desk: Desk) -> int:
    return desk.shell(
        "import json; from trading.models import OrderTicket; "
        "print(json.dumps(OrderTicket.objects.count()))"
    )


def test_an_order_with_a_client_id_that_is_no_integer_is_refused_and_not_recorded(
    desk: Desk,
) -> None:
    before = _tickets(desk)

    answers = [
        _signed_post(desk, {**ORDER, "clientId": client_id})
        for client_id in ("abc", -1, 2**32, "1.5")
    ]

    for answer in answers:
        assert answer.status_code == 400, answer.text
        assert answer.json() == {
            "code": "INVALID_CLIENT_REQUEST",
            "message": "Invalid parameter `clientId`: expected an integer from 0 to 4294967295",
        }
    assert _tickets(desk) == before


def test_a_bad_body_and_an_unknown_route_get_the_exchanges_error_shape(desk: Desk) -> None:
    with httpx.Client(base_url=desk.bpx_url, timeout=10) as http:
        not_json = http.post("/api/v1/order", content=b"{not json", headers={"X-API-Key": "x"})
        too_big = http.post("/api/v1/order", content=b" " * (256 * 1024 + 1))
        unknown = http.get("/api/v1/nothing")

    assert (not_json.status_code, not_json.json()["code"]) == (400, "INVALID_CLIENT_REQUEST")
    assert (too_big.status_code, too_big.json()["message"]) == (400, "Request body too large")
    assert unknown.status_code == 404
    assert unknown.json() == {"code": "RESOURCE_NOT_FOUND", "message": "Not found"}
