"""A script's trigger (stop) order is sized against the risk limits as it will execute: its
`triggerQuantity` counts as a quantity, and it is priced at its trigger price (a stop-limit at
the larger of its trigger and limit prices), as the browser's ticket sizes a stop. Over the
limit it is refused in the exchange's error shape, alone or in a batch, the breach is recorded
and nothing reaches the exchange. Sent over real sockets to the live desk's /bpx/ (order limit
2,000 USDC, ETH_USDC_PERP at 3,500 on the still sandbox), signed with the client's own
signing code."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from tests.trading.gateway.conftest import Desk
from trading.backpack.signing import Credentials

PERP = "ETH_USDC_PERP"
STOP = {"symbol": PERP, "side": "Bid", "orderType": "Market", "triggerPrice": "7000"}


def _signed_post(desk: Desk, body: dict | list) -> httpx.Response:
    pair = desk.keys["trade"]
    headers = Credentials(pair["api_key"], pair["secret"]).headers(
        "orderExecute", body, time.time_ns() // 1_000_000
    )
    headers["Content-Type"] = "application/json"
    path = "/api/v1/orders" if isinstance(body, list) else "/api/v1/order"
    return httpx.post(desk.bpx_url + path, content=json.dumps(body), headers=headers)


def _on_the_exchange(desk: Desk) -> list[dict[str, Any]]:
    """The subaccount's open and trigger-pending orders, asked of the exchange itself."""
    direct = desk.sandbox.keys[0]
    params = {"symbol": PERP}
    headers = Credentials(direct["api_key"], direct["api_secret"]).headers(
        "orderQueryAll", params, time.time_ns() // 1_000_000
    )
    answer = httpx.get(desk.sandbox.api_url + "/api/v1/orders", params=params, headers=headers)
    answer.raise_for_status()
    return answer.json()


def _breaches(desk: Desk) -> list[list[str]]:
    return desk.shell(
        "import json; from trading.models import RiskBreach; print(json.dumps(["
        "[b.symbol, b.limit] for b in RiskBreach.objects.order_by('pk')]))"
    )


def _over(notional: str) -> dict[str, str]:
    return {
        "code": "ORDER_LIMIT",
        "message": f"Order refused: the order's notional {notional} USDC is above the order "
        "limit of 2,000.00 USDC.",
    }


@pytest.mark.parametrize(
    ("order", "notional"),
    [
        # sized only by its triggerQuantity: 50 ETH once it fires at 7,000
        ({**STOP, "triggerQuantity": "50"}, "350,000.00"),
        # 0.5 ETH fits at today's 3,500 (1,750) but not at its trigger of 7,000
        ({**STOP, "quantity": "0.5"}, "3,500.00"),
        # a stop-limit sized only by its triggerQuantity, at its limit price
        (
            {
                **STOP,
                "orderType": "Limit",
                "price": "3600",
                "triggerPrice": "3600",
                "triggerQuantity": "1",
            },
            "3,600.00",
        ),
        # a stop-limit selling at 3,200 once the price rose to 4,200 fills near 4,200
        (
            {
                **STOP,
                "side": "Ask",
                "orderType": "Limit",
                "price": "3200",
                "triggerPrice": "4200",
                "quantity": "0.5",
            },
            "2,100.00",
        ),
    ],
    ids=["trigger-quantity", "quantity-at-trigger", "stop-limit-trigger-quantity", "stop-limit"],
)
def test_a_trigger_order_over_the_order_limit_is_refused_and_never_sent(
    desk: Desk, order: dict, notional: str
) -> None:
    breaches = _breaches(desk)
    within = _signed_post(desk, {**STOP, "triggerQuantity": "0.2"})  # 1,400 at the trigger

    refused = _signed_post(desk, order)

    assert within.status_code == 200, within.text
    assert within.json()["status"] == "TriggerPending"
    assert (refused.status_code, refused.json()) == (400, _over(notional))
    # the sentinel: the exchange lists the trigger order the desk let through
    assert [o["id"] for o in _on_the_exchange(desk)] == [within.json()["id"]]
    assert _breaches(desk) == [*breaches, [PERP, "max_order_notional"]]


def test_a_batch_with_a_trigger_order_over_the_order_limit_sends_none_of_it(desk: Desk) -> None:
    breaches = _breaches(desk)
    batch = [
        {**STOP, "triggerQuantity": "0.1"},  # 700 at the trigger
        {**STOP, "triggerQuantity": "40"},  # 280,000 at the trigger
    ]

    refused = _signed_post(desk, batch)

    assert (refused.status_code, refused.json()) == (400, _over("280,000.00"))
    assert _on_the_exchange(desk) == []
    assert _breaches(desk) == [*breaches, [PERP, "max_order_notional"]]


def test_a_trigger_quantity_in_percent_on_an_opening_order_is_refused(desk: Desk) -> None:
    refused = _signed_post(desk, {**STOP, "triggerQuantity": "50%"})

    assert (refused.status_code, refused.json()) == (
        400,
        {
            "code": "INVALID_ORDER",
            "message": "A triggerQuantity in percent of the position requires reduceOnly: the "
            "desk cannot size an order that may open a position before it fires. Give the "
            "triggerQuantity in ETH.",
        },
    )
    assert _on_the_exchange(desk) == []


def test_a_trigger_order_without_a_quantity_is_refused_before_the_exchange(desk: Desk) -> None:
    breaches = _breaches(desk)

    refused = _signed_post(desk, STOP)

    assert (refused.status_code, refused.json()) == (
        400,
        {
            "code": "INVALID_CLIENT_REQUEST",
            "message": "Invalid parameter `quantity`: required (or `quoteQuantity` on a market "
            "order, `triggerQuantity` on a trigger order)",
        },
    )
    assert _on_the_exchange(desk) == []
    assert _breaches(desk) == breaches
