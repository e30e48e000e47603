"""The ledger's sync against the sandbox: a backfill stores each history's rows once, a
second sync adds only what is new, and faults (server errors, 429s, a walk cut short, a
cursor rolled back) neither lose nor double a row."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async

from trading.backpack import HistoryCursor, read_history
from trading.ledger.selectors import ledger_progress
from trading.ledger.services import LEDGER_HISTORIES, ledger_sync
from trading.models.ledger import LedgerCursor, LedgerEntry

from .scenario import PERP, trade, window_closed

pytestmark = pytest.mark.django_db(transaction=True)

ADDRESS = "Desk1SoLanaWithdrawa1Address11111111111111"


async def busy_day(exchange, mine, other) -> None:
    """Trades both ways, a funding interval, a deposit and a withdrawal on subaccount 1."""
    await trade(mine, other, "Bid", "2", "150")
    await trade(mine, other, "Bid", "1", "151")
    await asyncio.to_thread(exchange.set_mark_price, PERP, "152")
    await asyncio.to_thread(exchange.settle_funding, PERP, "0.0001")
    await trade(mine, other, "Ask", "3", "149")
    await asyncio.to_thread(exchange.deposit, 1, "USDC", "250")
    await mine.request_withdrawal(
        symbol="USDC", blockchain="Solana", address=ADDRESS, quantity="20"
    )
    await window_closed()


async def exchange_ids(client) -> dict[str, set[str]]:
    """Every row of the exchange's own histories, keyed as the ledger keys them."""
    from trading.ledger.services import _FIELDS

    found = {}
    for history, kind in LEDGER_HISTORIES.items():
        rows, _ = await read_history(client, HistoryCursor.start(history))
        found[kind] = {_FIELDS[kind](row)["exchange_id"] for row in rows}
    return found


@sync_to_async
def stored_ids(subaccount) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {kind: set() for kind in LEDGER_HISTORIES.values()}
    for kind, exchange_id in LedgerEntry.objects.filter(subaccount=subaccount).values_list(
        "kind", "exchange_id"
    ):
        found[kind].add(exchange_id)
    return found


@sync_to_async
def entry_count(subaccount) -> int:
    return LedgerEntry.objects.filter(subaccount=subaccount).count()


async def test_the_backfill_stores_every_history_once_and_a_second_sync_nothing(
    exchange, desk, clients
) -> None:
    sub = await desk(1)
    mine, other = clients(1), clients(2)
    await busy_day(exchange, mine, other)

    first = await ledger_sync(subaccount=sub)  # the dashboard's own client
    second = await ledger_sync(subaccount=sub)

    assert first.stored == {
        "fill_history": 3,
        "funding_payments": 1,
        "settlement_history": 5,  # three fees, the funding, the PnL the sell realized
        "deposits": 5,  # the seed's four opening balances, then the 250 USDC
        "withdrawals": 1,
    }
    assert second.total_stored == 0
    assert await stored_ids(sub) == await exchange_ids(mine)
    fill = await LedgerEntry.objects.aget(subaccount=sub, kind="fill", price="151")
    assert (fill.symbol, fill.side, fill.quantity, fill.is_maker) == (PERP, "Bid", 1, False)
    assert fill.exchange_id.startswith(f"{PERP}:") and fill.exchange_id.endswith(":Bid")


async def test_a_later_sync_adds_only_what_came_since(exchange, desk, clients) -> None:
    sub = await desk(1)
    mine, other = clients(1), clients(2)
    await trade(mine, other, "Bid", "1", "150")
    await ledger_sync(subaccount=sub, client=mine)

    await trade(mine, other, "Ask", "1", "151")
    later = await ledger_sync(subaccount=sub, client=mine)

    assert later.stored["fill_history"] == 1
    assert await stored_ids(sub) == await exchange_ids(mine)
    progress = {p.history: (p.rows_read, p.done) for p in await ledger_progress(subaccount=sub)}
    assert progress["fill_history"] == (2, True)
    assert list(progress) == list(LEDGER_HISTORIES)
    assert all(done for _, done in progress.values())


async def test_server_errors_and_429s_neither_lose_nor_double_a_row(
    exchange, desk, clients
) -> None:
    sub = await desk(1)
    mine, other = clients(1), clients(2)
    for price in ("150", "151", "152", "151", "150"):
        await trade(mine, other, "Bid", "1", price)
    await asyncio.to_thread(exchange.deposit, 1, "USDC", "10")
    await window_closed()
    expected = await exchange_ids(mine)

    retried: list[int] = []
    mine.session.metrics.add_hook(lambda call: retried.append(call.attempts - 1))
    await asyncio.to_thread(exchange.set_faults, error_rate=0.3, seed=4, burst_429=2)
    try:
        await ledger_sync(subaccount=sub, client=mine, page_size=2)
    finally:
        await asyncio.to_thread(exchange.clear_faults)

    assert sum(retried) >= 3  # the faults did strike (at least the two 429s and an error)
    assert await stored_ids(sub) == expected
    assert await entry_count(sub) == sum(len(ids) for ids in expected.values())


async def test_a_walk_cut_short_resumes_and_a_rolled_back_cursor_doubles_nothing(
    exchange, desk, clients
) -> None:
    sub = await desk(1)
    mine, other = clients(1), clients(2)
    for price in ("150", "151", "152"):
        await trade(mine, other, "Bid", "1", price)
    start = HistoryCursor.start("fill_history").to_text()

    def stop_after_the_first_page(history: str, read: int) -> None:
        raise ConnectionError("the worker went away")

    with pytest.raises(ConnectionError):
        await ledger_sync(
            subaccount=sub,
            client=mine,
            histories=("fill_history",),
            page_size=2,
            on_page=stop_after_the_first_page,
        )
    assert await entry_count(sub) == 2
    await LedgerCursor.objects.filter(subaccount=sub).aupdate(cursor=start)  # lost progress
    resumed = await ledger_sync(subaccount=sub, client=mine, histories=("fill_history",))

    assert resumed.read["fill_history"] == 3
    assert resumed.stored["fill_history"] == 1
    assert (await stored_ids(sub))["fill"] == (await exchange_ids(mine))["fill"]
