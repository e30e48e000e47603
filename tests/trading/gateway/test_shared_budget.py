"""Ten scripts on one subaccount, with a browser user of the same subaccount, never draw a
429 from the exchange: the desk shares the subaccount's rate budget between them and refuses
what does not fit with its own 429 (issue 17).

The historical budget (30 requests a minute per key, on the exchange and in the desk) makes
it quick: 50 history reads from scripts and 5 history pages at once."""

from __future__ import annotations

import asyncio
import time

import httpx

from tests.trading.gateway.conftest import Desk
from trading.backpack.signing import Credentials

SCRIPTS = 10
READS = 5
EXCHANGE_429 = {"code": "TOO_MANY_REQUESTS", "message": "Too many requests"}


async def _script(desk: Desk, number: int) -> list[httpx.Response]:
    pair = desk.keys["trade"]
    credentials = Credentials(pair["api_key"], pair["secret"])
    answers = []
    async with httpx.AsyncClient(base_url=desk.bpx_url, timeout=60) as http:
        for read in range(READS):
            # distinct parameters: two identical requests signed in one millisecond would be
            # one signature, refused as a replay
            params = {"limit": 10, "offset": number * READS + read}
            headers = credentials.headers(
                "orderHistoryQueryAll", params, time.time_ns() // 1_000_000
            )
            answers.append(
                await http.get("/wapi/v1/history/orders", params=params, headers=headers)
            )
    return answers


async def _browser(desk: Desk) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=desk.server.url, timeout=60) as http:
        await http.get("/accounts/login/")
        await http.post(
            "/accounts/login/",
            data={
                "username": "scripter",
                "password": "a long script password 1",
                "csrfmiddlewaretoken": http.cookies["csrftoken"],
            },
        )
        return [
            await http.get(
                "/trading/history/",
                params={"kind": "orders", "subaccount": desk.subaccount_id, "page": page},
            )
            for page in range(1, READS + 1)
        ]


async def test_ten_scripts_and_a_browser_user_never_draw_a_429_from_the_exchange(
    desk: Desk,
) -> None:
    results = await asyncio.gather(*(_script(desk, n) for n in range(SCRIPTS)), _browser(desk))

    scripts = [answer for batch in results[:-1] for answer in batch]
    pages = results[-1]
    served = [a for a in scripts if a.status_code == 200]
    refused = [a for a in scripts if a.status_code == 429]
    # the sentinel: more was asked than the budget holds, so the desk had to refuse some
    assert len(scripts) == SCRIPTS * READS > 30
    assert refused
    assert len(served) + len(refused) == len(scripts)
    assert len(served) <= 30
    for answer in refused:
        body = answer.json()
        assert body != EXCHANGE_429
        assert body["code"] == "TOO_MANY_REQUESTS"
        assert "request budget" in body["message"]
        assert int(answer.headers["Retry-After"]) >= 1
    for page in pages:
        assert page.status_code == 200
        assert "Too many requests" not in page.text
        # the browser user draws on the same budget: a page either has its rows or says so
        assert "form-error" not in page.text or "request budget" in page.text
