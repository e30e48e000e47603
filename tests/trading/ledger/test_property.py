"""The ledger's proof, as a property against the real sandbox: random sequences of deposits,
trades on a perpetual between several subaccounts, mark moves, funding intervals and
withdrawals. After a sync, for every subaccount and between every pair of equity points,
equity change minus net transfers is exactly realized - fees + funding + change in
unrealized, and each closed position realized what the sandbox's position history says."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import SubaccountFactory
from tests.trading.backpack.conftest import FAST_RETRY, credentials_of
from trading.backpack import ExchangeSession, PositionState
from trading.exchange import close_session
from trading.ledger.selectors import ledger_pnl, ledger_reconcile
from trading.ledger.services import ledger_sync
from trading.models.ledger import LedgerCursor, LedgerEntry

from .scenario import PERP, equity_point, trade, window_closed

pytestmark = pytest.mark.django_db(transaction=True)

SUBS = (1, 2, 3)
ADDRESSES = {
    1: "Desk1SoLanaWithdrawa1Address11111111111111",
    2: "Desk2SoLanaWithdrawa1Address11111111111111",
    3: "Desk3SoLanaWithdrawa1Address11111111111111",
}


def cents(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda n: Decimal(n) / 100)


pair = st.permutations(SUBS).map(lambda p: p[:2])
steps = st.one_of(
    st.tuples(
        st.just("trade"), pair, st.sampled_from(["Bid", "Ask"]), cents(1, 300), cents(14500, 15500)
    ),
    st.tuples(st.just("mark"), cents(14500, 15500)),
    st.tuples(st.just("funding"), st.integers(-50, 50).map(lambda n: Decimal(n) / 100_000)),
    st.tuples(st.just("deposit"), st.sampled_from(SUBS), cents(100, 100_000)),
    st.tuples(st.just("withdraw"), st.sampled_from(SUBS), cents(200, 10_000)),
    st.tuples(st.just("point")),
)


async def play(exchange, subaccounts, plan) -> None:
    async with ExchangeSession(
        api_url=exchange.api_url, ws_url=exchange.ws_url, timeout_s=2.0, retry=FAST_RETRY
    ) as session:
        clients = {i: session.client(credentials_of(exchange, i), label=f"sub {i}") for i in SUBS}

        async def points_now() -> None:
            for i in SUBS:
                points[i].append(await equity_point(clients[i]))

        points: dict[int, list] = {i: [] for i in SUBS}
        await asyncio.to_thread(exchange.set_mark_price, PERP, "150")
        await points_now()
        for step in plan:
            kind = step[0]
            if kind == "trade":
                (taker, maker), side, quantity, price = step[1:]
                await trade(clients[taker], clients[maker], side, quantity, price)
            elif kind == "mark":
                await asyncio.to_thread(exchange.set_mark_price, PERP, str(step[1]))
            elif kind == "funding":
                await asyncio.to_thread(exchange.settle_funding, PERP, str(step[1]))
                # a funding row is known by (symbol, interval end in ms), as on the real
                # exchange; the sandbox ends an interval at once when told, so two told in
                # one millisecond would share a key
                await asyncio.sleep(0.002)
            elif kind == "deposit":
                await asyncio.to_thread(exchange.deposit, step[1], "USDC", str(step[2]))
            elif kind == "withdraw":
                await clients[step[1]].request_withdrawal(
                    symbol="USDC", blockchain="Solana", address=ADDRESSES[step[1]], quantity=step[2]
                )
            else:
                await points_now()
        await points_now()
        await window_closed()
        for i in SUBS:
            sub = subaccounts[i]
            report = await ledger_sync(subaccount=sub, client=clients[i])
            assert report.stored == report.read  # a fresh ledger: every row is new, none merged
            intervals = await ledger_reconcile(subaccount=sub, points=points[i])
            assert [r.mismatch for r in intervals] == [0] * len(intervals), (i, intervals)
            pnl = await ledger_pnl(subaccount=sub, marks={})
            closed = await clients[i].position_history(state=PositionState.CLOSED)
            closed.sort(key=lambda p: int(p.id))
            assert [c.realized for c in pnl.closed] == [p.pnl_realized for p in closed], i
    await close_session()


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=st.lists(steps, min_size=1, max_size=14))
def test_every_interval_reconciles_to_the_cent_on_every_subaccount(sandbox, plan) -> None:
    sandbox.reset()
    LedgerEntry.objects.all().delete()
    LedgerCursor.objects.all().delete()
    subaccounts = {
        i: SubaccountFactory(name=f"prop {i}", keypair=(k["api_key"], k["api_secret"]))
        for i, k in enumerate(sandbox.keys)
        if i in SUBS
    }
    try:
        asyncio.run(play(sandbox, subaccounts, plan))
    finally:
        for sub in subaccounts.values():
            sub.delete()
