"""A forged signature, a replay and a request outside its window are refused by the desk as
the sandbox exchange refuses them: same status, same code, same message (issue 17). Signed
here with the client's own signing code, sent over real sockets to the live desk and to the
sandbox directly."""

from __future__ import annotations

import base64
import json
import time

import httpx
from nacl.signing import SigningKey

from tests.trading.gateway.conftest import Desk
from trading.backpack.signing import Credentials

PATH = "/api/v1/capital"


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _headers(api_key: str, secret: str, *, timestamp: int, window: int = 5000) -> dict:
    return Credentials(api_key, secret).headers("balanceQuery", None, timestamp, window)


def _forged(api_key: str, timestamp: int) -> dict:
    stranger = base64.b64encode(bytes(SigningKey.generate())).decode()
    return {**_headers(api_key, stranger, timestamp=timestamp), "X-API-Key": api_key}


async def _both(desk: Desk, make) -> tuple[tuple[int, dict], tuple[int, dict]]:
    """(status, body) from the desk with its trade key and from the sandbox with its own key,
    each for the headers `make(api_key, secret)` builds."""
    ours = desk.keys["trade"]
    theirs = desk.sandbox.keys[0]
    async with httpx.AsyncClient(timeout=10) as http:
        a = await http.get(desk.bpx_url + PATH, headers=make(ours["api_key"], ours["secret"]))
        b = await http.get(
            desk.sandbox.api_url + PATH, headers=make(theirs["api_key"], theirs["api_secret"])
        )
    return (a.status_code, a.json()), (b.status_code, b.json())


async def test_a_correct_signature_passes(desk: Desk) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        pair = desk.keys["trade"]
        answer = await http.get(
            desk.bpx_url + PATH,
            headers=_headers(pair["api_key"], pair["secret"], timestamp=_now_ms()),
        )

    assert answer.status_code == 200
    assert "USDC" in answer.json()


async def test_a_forged_signature_is_refused_as_the_exchange_refuses_it(desk: Desk) -> None:
    desk_answer, exchange_answer = await _both(desk, lambda key, _s: _forged(key, _now_ms()))

    assert (
        desk_answer
        == exchange_answer
        == (
            401,
            {"code": "INVALID_SIGNATURE", "message": "Invalid signature"},
        )
    )


async def test_a_request_outside_its_window_is_refused_as_the_exchange_refuses_it(
    desk: Desk,
) -> None:
    old = _now_ms() - 10_000
    desk_answer, exchange_answer = await _both(
        desk, lambda key, secret: _headers(key, secret, timestamp=old, window=5000)
    )
    future = _now_ms() + 10_000
    desk_early, exchange_early = await _both(
        desk, lambda key, secret: _headers(key, secret, timestamp=future, window=5000)
    )

    assert (
        desk_answer
        == exchange_answer
        == (
            401,
            {"code": "UNAUTHORIZED", "message": "Request has expired"},
        )
    )
    assert (
        desk_early
        == exchange_early
        == (
            401,
            {"code": "UNAUTHORIZED", "message": "Request timestamp is in the future"},
        )
    )


async def test_a_replayed_request_is_refused(desk: Desk) -> None:
    pair = desk.keys["trade"]
    headers = _headers(pair["api_key"], pair["secret"], timestamp=_now_ms(), window=30_000)
    async with httpx.AsyncClient(timeout=10) as http:
        first = await http.get(desk.bpx_url + PATH, headers=headers)
        again = await http.get(desk.bpx_url + PATH, headers=headers)

    assert first.status_code == 200
    assert again.status_code == 401
    assert again.json() == {
        "code": "UNAUTHORIZED",
        "message": "Request has already been received: a signature is accepted once. The same "
        "request signed in the same millisecond has the same signature: give it a new "
        "X-Timestamp (or an order its own clientId)",
    }


async def test_a_withdrawal_is_never_served(desk: Desk) -> None:
    pair = desk.keys["trade"]
    body = {"address": "x", "blockchain": "Solana", "quantity": "1", "symbol": "USDC"}
    headers = Credentials(pair["api_key"], pair["secret"]).headers(
        "withdraw", body, _now_ms(), 5000
    )
    async with httpx.AsyncClient(timeout=10) as http:
        answer = await http.post(
            desk.bpx_url + "/wapi/v1/capital/withdrawals",
            content=json.dumps(body),
            headers={**headers, "Content-Type": "application/json"},
        )

    assert answer.status_code == 401
    assert answer.json()["code"] == "UNAUTHORIZED"
    assert answer.json()["message"].startswith("Desk keys never withdraw")
