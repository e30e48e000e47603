"""Unmodified bpx-py (Backpack's official Python client, its async `Account` and `Public`,
only their base URLs pointed at the desk's /bpx/) trades through the desk with a desk-issued
key: markets, balances, place, list and cancel; a read-only key's order gets the exchange's
unauthorized error (issue 17).

bpx-py pins ``cryptography<44`` while the desk's other packages need a newer one; it uses
only cryptography's ED25519 signing, which is unchanged, so `make setup` installs it without
its dependencies into ``.venv/bpx-py`` (``pip install --no-deps --target``), put on the path
here. bpx-py has no WebSocket client: watching order updates is proved with ccxt.pro
(`test_streams_through_the_desk.py`).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.trading.gateway.conftest import Desk

BPX_PY = Path(sys.prefix) / "bpx-py"


@pytest.fixture(scope="module")
def bpx() -> Iterator[SimpleNamespace]:
    if not (BPX_PY / "bpx").is_dir():
        pytest.skip(f"bpx-py is not installed in {BPX_PY} (make setup installs it there)")
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(BPX_PY))
        from bpx.async_.account import Account
        from bpx.async_.public import Public

        yield SimpleNamespace(Account=Account, Public=Public)


async def _place(script: Any) -> Any:
    """A resting limit buy of 0.5 ETH at 3400, as bpx-py sends it."""
    return await script.execute_order(
        symbol="ETH_USDC",
        side="Bid",
        order_type="Limit",
        time_in_force="GTC",
        quantity="0.5",
        price="3400",
    )


def _account(bpx: SimpleNamespace, api_key: str, secret: str, base_url: str) -> Any:
    account = bpx.Account(api_key, secret)
    account.BPX_API_URL = base_url + "/"  # the only change: where it sends its requests
    return account


async def test_bpx_py_loads_markets_reads_balances_places_lists_and_cancels(
    desk: Desk, bpx: SimpleNamespace
) -> None:
    public = bpx.Public()
    public.BASE_URL = desk.bpx_url + "/"
    pair = desk.keys["trade"]
    script = _account(bpx, pair["api_key"], pair["secret"], desk.bpx_url)
    direct = desk.sandbox.keys[0]
    straight = _account(bpx, direct["api_key"], direct["api_secret"], desk.sandbox.api_url)

    markets = await public.get_markets()
    balances = await script.get_balances()
    exchange_balances = await straight.get_balances()
    placed = await _place(script)
    listed = await script.get_open_orders(symbol="ETH_USDC")
    cancelled = await script.cancel_order(symbol="ETH_USDC", order_id=placed["id"])
    after = await script.get_open_orders(symbol="ETH_USDC")

    assert {"SOL_USDC", "ETH_USDC", "SOL_USDC_PERP"} <= {m["symbol"] for m in markets}
    assert balances == exchange_balances
    assert placed["status"] == "New"
    assert [o["id"] for o in listed] == [placed["id"]]
    assert cancelled["status"] == "Cancelled"
    assert after == []


async def test_bpx_py_gets_the_exchanges_unauthorized_error_with_a_read_only_key(
    desk: Desk, bpx: SimpleNamespace
) -> None:
    pair = desk.keys["read"]
    script = _account(bpx, pair["api_key"], pair["secret"], desk.bpx_url)
    await script.get_balances()  # reading is allowed

    refused = await _place(script)

    assert refused["code"] == "UNAUTHORIZED"
    assert "read-only" in refused["message"]
