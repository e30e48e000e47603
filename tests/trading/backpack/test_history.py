"""History routes and the paging walk, against the sandbox exchange over real sockets."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trading.backpack import (
    Budget,
    ExchangeSession,
    HistoryCursor,
    PositionState,
    Settlement,
    SettlementSource,
    read_history,
    walk_history,
)
from trading.backpack.errors import MalformedResponseError, RateLimitedError
from trading.backpack.routes import HISTORICAL, STANDARD
from trading.backpack.wire import parse_list

from .conftest import credentials_of

PERP = "SOL_USDC_PERP"


async def round_trip(client, other, quantity: str = "2") -> None:
    """``client`` goes long ``quantity`` at 150 and closes it at 150 (``other`` makes)."""
    await other.place_order(PERP, "Ask", "Limit", quantity=quantity, price="150")
    await client.place_order(PERP, "Bid", "Market", quantity=quantity)
    await other.place_order(PERP, "Bid", "Limit", quantity=quantity, price="150")
    await client.place_order(PERP, "Ask", "Market", quantity=quantity)


async def test_funding_settlements_and_positions_arrive_typed(client, sandbox) -> None:
    other = client.session.client(credentials_of(sandbox, 1), label="Desk B")
    await other.place_order(PERP, "Ask", "Limit", quantity="4", price="150")
    await client.place_order(PERP, "Bid", "Market", quantity="4")
    await asyncio.to_thread(sandbox.set_mark_price, PERP, "150")
    await asyncio.to_thread(sandbox.settle_funding, PERP, "-0.0001")  # shorts pay longs
    await other.place_order(PERP, "Bid", "Limit", quantity="4", price="152")
    await client.place_order(PERP, "Ask", "Market", quantity="4")  # +8

    (payment,) = await client.funding_payments(symbol=PERP)
    settlements = await client.settlement_history(sort_direction="Asc")
    (closed,) = await client.position_history(state="Closed")

    assert (payment.quantity, payment.funding_rate) == (Decimal("0.06"), Decimal("-0.0001"))
    assert [(s.source, s.quantity) for s in settlements] == [
        (SettlementSource.TRADING_FEES, Decimal("-0.3")),
        (SettlementSource.FUNDING_PAYMENT, Decimal("0.06")),
        (SettlementSource.REALIZE_PNL, Decimal("8")),
        (SettlementSource.TRADING_FEES, Decimal("-0.304")),
    ]
    assert {s.position_id for s in settlements} == {closed.id}
    assert closed.state is PositionState.CLOSED
    assert (closed.pnl_realized, closed.funding, closed.fees) == (
        Decimal("8"),
        Decimal("0.06"),
        Decimal("0.604"),
    )
    assert (closed.entry_price, closed.closing_price) == (Decimal("150"), Decimal("152"))
    assert closed.opened_at is not None and closed.closed_at >= closed.opened_at
    fees = await client.settlement_history(source="TradingFees")
    assert len(fees) == 2
    perp_fills = await client.fill_history(market_type="PERP", sort_direction="Asc")
    assert [f.side.value for f in perp_fills] == ["Bid", "Ask"]
    assert await client.fill_history(market_type="SPOT") == []
    orders = await client.order_history(sort_direction="Asc", market_type="PERP")
    assert [o.side.value for o in orders] == ["Bid", "Ask"]


async def test_a_walk_stopped_midway_resumes_from_its_saved_cursor(client, sandbox) -> None:
    other = client.session.client(credentials_of(sandbox, 1), label="Desk B")
    for _ in range(3):
        await round_trip(client, other)  # 3 x (fee, fee + PnL) = 9 settlements

    seen = []
    async for page in walk_history(client, HistoryCursor.start("settlement_history"), page_size=2):
        seen.extend(page.rows)
        saved = page.cursor.to_text()
        if len(seen) >= 4:
            break  # e.g. the process stopped here
    await round_trip(client, other)  # 3 more settlements meanwhile
    rest, final = await read_history(client, HistoryCursor.from_text(saved), page_size=2)

    everything = await client.settlement_history(sort_direction="Asc")
    assert len(everything) == 12
    assert [s.engine_sequence for s in seen + rest] == [s.engine_sequence for s in everything]
    assert final.offset == 12
    assert await read_history(client, final) == ([], final)  # nothing new: nothing read


async def test_the_walk_waits_for_the_historical_budget_instead_of_failing(sandbox) -> None:
    budgets = {STANDARD: Budget(2000, 60.0), HISTORICAL: Budget(3, 1.0)}  # 3 a second
    async with ExchangeSession(
        api_url=sandbox.api_url, budgets=budgets, max_rate_wait_s=0.05
    ) as session:
        client = session.client(credentials_of(sandbox, 0), label="Desk A")
        other = session.client(credentials_of(sandbox, 1), label="Desk B")
        await round_trip(client, other)
        await round_trip(client, other)  # 6 settlements: 7 pages of one
        started = time.monotonic()

        rows, cursor = await read_history(
            client, HistoryCursor.start("settlement_history"), page_size=1
        )

        elapsed = time.monotonic() - started
        outcomes = [
            (r.outcome, r.status) for r in session.metrics.recent if r.route == "settlement_history"
        ]
    assert len(rows) == 6 and cursor.offset == 6
    assert elapsed >= 2.0  # 7 requests at 3 a second
    assert outcomes.count(("ok", None)) == 7
    assert ("RateLimitedError", None) in outcomes  # the local budget said wait...
    assert ("RateLimitedError", 429) not in outcomes  # ...so the exchange never had to


async def test_the_walk_gives_up_past_its_wait_limit(sandbox) -> None:
    budgets = {STANDARD: Budget(2000, 60.0), HISTORICAL: Budget(1, 60.0)}
    async with ExchangeSession(
        api_url=sandbox.api_url, budgets=budgets, max_rate_wait_s=0.05
    ) as session:
        client = session.client(credentials_of(sandbox, 0), label="Desk A")
        start = HistoryCursor.start("fill_history")
        pages = walk_history(client, start, page_size=1, max_wait_s=1.0)
        await client.fill_history()  # the one request of this minute

        with pytest.raises(RateLimitedError) as info:
            await anext(pages)

    assert info.value.retry_after > 50
    assert "historical request budget (1 per 60s)" in str(info.value)


async def test_deposits_are_walked_in_closed_time_windows(client, sandbox) -> None:
    subaccount = sandbox.keys[0]["subaccount"]
    await asyncio.to_thread(sandbox.deposit, subaccount, "USDC", "10")
    await asyncio.sleep(1.1)  # a window ends a second before exchange time

    first, cursor = await read_history(client, HistoryCursor.start("deposits"), page_size=2)
    await asyncio.to_thread(sandbox.deposit, subaccount, "USDC", "20")
    too_soon, moved = await read_history(client, cursor)
    await asyncio.sleep(1.1)
    later, _ = await read_history(client, moved)

    assert first[0].quantity == Decimal("10") and len(first) == 5  # 4 from the seed
    assert dict(cursor.filters)["from_ms"] > 0 and "to_ms" not in dict(cursor.filters)
    assert too_soon == []  # written less than a second ago: left for the next window
    assert dict(moved.filters)["from_ms"] >= dict(cursor.filters)["from_ms"]
    assert [d.quantity for d in later] == [Decimal("20")]


def test_a_cursor_names_its_history_and_filters_exactly() -> None:
    with pytest.raises(ValueError) as unknown:
        HistoryCursor.start("trades")
    with pytest.raises(ValueError) as bad_filter:
        HistoryCursor.start("settlement_history", symbol="SOL_USDC")
    with pytest.raises(ValueError) as garbage:
        HistoryCursor.from_text('{"history": "fill_history"}')

    assert str(unknown.value).startswith("no history called 'trades': expected one of ")
    assert str(bad_filter.value) == "settlement_history has no filter symbol: it takes source"
    assert str(garbage.value) == """not a history cursor: '{"history": "fill_history"}'"""


@given(
    history=st.sampled_from(["fill_history", "position_history"]),
    offset=st.integers(0, 10**9),
    symbol=st.one_of(st.none(), st.text(max_size=20)),
    state=st.sampled_from([None, PositionState.OPEN, "Closed"]),
)
def test_a_cursor_survives_being_stored_as_text(history, offset, symbol, state) -> None:
    filters = {"symbol": symbol}
    if history == "position_history":
        filters["state"] = state
    cursor = HistoryCursor.start(history, **filters)
    cursor = HistoryCursor(cursor.history, offset, cursor.filters)

    assert HistoryCursor.from_text(cursor.to_text()) == cursor


async def test_the_histories_explain_the_change_of_equity_to_the_cent(client, sandbox) -> None:
    other = client.session.client(credentials_of(sandbox, 1), label="Desk B")
    subaccount = sandbox.keys[0]["subaccount"]
    before = await client.collateral()
    deposits_before = len(await client.deposits())

    await other.place_order(PERP, "Ask", "Limit", quantity="3", price="150")
    await client.place_order(PERP, "Bid", "Market", quantity="3")  # long 3
    await asyncio.to_thread(sandbox.set_mark_price, PERP, "151.5")
    await asyncio.to_thread(sandbox.settle_funding, PERP, "0.0003")
    await other.place_order(PERP, "Bid", "Limit", quantity="5", price="153.25")
    await client.place_order(PERP, "Ask", "Market", quantity="5")  # close 3, short 2
    await asyncio.to_thread(sandbox.deposit, subaccount, "USDC", "125.5")
    await client.request_withdrawal(
        symbol="USDC",
        blockchain="Solana",
        address="DeskMainSoLanaWithdrawa1Address11111111111",
        quantity=Decimal("40"),
    )
    await asyncio.to_thread(sandbox.set_mark_price, PERP, "149.75")
    await asyncio.to_thread(sandbox.settle_funding, PERP, "-0.0002")

    after = await client.collateral()
    settlements, _ = await read_history(client, HistoryCursor.start("settlement_history"))
    deposits = await client.deposits()  # newest first: the new ones lead
    deposited = sum(d.quantity for d in deposits[: len(deposits) - deposits_before])
    withdrawn = sum(w.quantity + w.fee for w in await client.withdrawals())
    settled = {source: Decimal(0) for source in SettlementSource}
    for settlement in settlements:
        settled[settlement.source] += settlement.quantity

    assert deposited == Decimal("125.5") and withdrawn > Decimal("40")
    assert after.net_equity - before.net_equity - (deposited - withdrawn) == (
        settled[SettlementSource.REALIZE_PNL]
        + settled[SettlementSource.FUNDING_PAYMENT]
        + settled[SettlementSource.TRADING_FEES]
        + after.pnl_unrealized
        - before.pnl_unrealized
    )
    positions, _ = await read_history(client, HistoryCursor.start("position_history"))
    assert [p.state for p in positions] == [PositionState.CLOSED, PositionState.OPEN]
    assert positions[0].pnl_realized == Decimal("9.75")  # 3 x (153.25 - 150)
    by_position = {p.id: p.pnl_realized + p.funding - p.fees for p in positions}
    for position_id, own in by_position.items():
        mine = [s.quantity for s in settlements if s.position_id == position_id]
        assert sum(mine) == own


def test_history_rows_tolerate_new_sources_and_ids_sent_as_numbers() -> None:
    row = {
        "quantity": "-0.25",
        "source": "SomeNewSource",
        "timestamp": "2025-06-15T12:00:00.123",
        "userId": 1,
        "positionId": 7,
        "engineSequence": "41",
    }

    settlement = Settlement.from_wire(row)

    assert settlement.source.value == "SomeNewSource"
    assert (settlement.position_id, settlement.engine_sequence) == ("7", 41)
    assert settlement.quantity == Decimal("-0.25")
    with pytest.raises(MalformedResponseError) as info:
        parse_list(
            "GET /wapi/v1/history/settlement", Settlement.from_wire, [{**row, "quantity": "1e3"}]
        )
    assert str(info.value) == (
        "The exchange's answer to GET /wapi/v1/history/settlement is malformed: field "
        "'quantity' should be a decimal, got '1e3'."
    )
