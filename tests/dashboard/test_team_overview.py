"""The team figures on the overview (`/`) against the still sandbox: a fill on a member's
subaccount moves today's PnL, open positions and the net exposure; every figure and every
total is over the subaccounts the user is a member of only."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async

from dashboard.overview import overview_for
from tests.dashboard.test_team_zone import unexplained_jump
from tests.trading.pages.conftest import (  # the trading pages' desk on the sandbox
    _fast_passwords,
    client_for_user,
    closes_session,
    desk,
    exchange_urls,
)
from trading.exchange import exchange_session
from trading.ledger.selectors import ledger_pnl
from trading.ledger.services import ledger_sync
from trading.ledger.team import team_figures
from trading.models.ledger import LedgerEntry

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("closes_session")]
__all__ = ["_fast_passwords", "closes_session", "desk", "exchange_urls"]

PERP = "SOL_USDC_PERP"
SPOT = "SOL_USDC"
HX = {"headers": {"HX-Request": "true"}}
PARTIAL = {"headers": {"HX-Request": "true", "HX-Target": "overview-team"}}


async def _main_buys_two(desk) -> None:
    """Sandbox key 2 (not on the desk) rests an ask; Main desk (key 0) buys 2 at market."""
    async with desk.session() as session:
        maker, taker = desk.raw_client(session, 2), desk.raw_client(session, 0)
        await maker.place_order(PERP, "Ask", "Limit", price=Decimal("150"), quantity=Decimal("5"))
        await taker.place_order(PERP, "Bid", "Market", quantity=Decimal("2"))


def _card(html: str, pk: int) -> str:
    found = re.search(
        rf'<article class="overview-subaccount" data-subaccount="{pk}">(.*?)</article>', html, re.S
    )
    assert found, html
    return found.group(1)


async def test_a_fill_shows_in_todays_pnl_positions_and_exposure(desk) -> None:
    await _main_buys_two(desk)
    client = await client_for_user(desk.trader)
    unsynced = _card((await client.get("/")).content.decode(), desk.main.pk)
    await ledger_sync(subaccount=desk.main)
    fill = await LedgerEntry.objects.aget(subaccount=desk.main, kind=LedgerEntry.Kind.FILL)

    team = await team_figures(user=desk.trader)

    main = next(f for f in team.subaccounts if f.access.subaccount.pk == desk.main.pk)
    assert fill.fee > 0 and fill.fee_symbol == "USDC"
    assert main.today == -fill.fee  # nothing realized yet: the fee
    assert [(p.symbol, p.net_quantity) for p in main.positions] == [(PERP, Decimal("2"))]
    assert main.nearest is None  # 2 SOL against the sandbox's equity: no liquidation price
    assert main.margin_used is not None and main.margin_used > 0
    sol = next(e for e in team.exposure if e.asset == "SOL")
    assert sol.perp == Decimal("2")
    assert sol.value == (sol.spot + 2) * main.positions[0].mark_price
    assert [p.subaccount_name for p in team.largest] == ["Main desk"]
    assert team.today == -fill.fee  # Other desk made nothing today

    html = (await client.get("/")).content.decode()
    card = _card(html, desk.main.pk)
    assert "(ledger still reading history)" in unsynced and "data-ledger-syncing" not in card
    assert f"data-today>-{fill.fee.quantize(Decimal('0.01'))} USDC<" in card
    assert '<a href="/trading/positions/">1</a>' in card
    assert "data-nearest-liquidation>–<" in card  # the desk's dash, as on every page
    largest = html.split('id="overview-largest"', 1)[1].split("</table>", 1)[0]
    assert (  # no liquidation estimate: the dash, not a blank cell
        f'<td class="num" data-num="price:{PERP}">–</td><td class="num" data-num="percent">–</td>'
    ) in largest
    assert '<tr data-asset="SOL">' in html


async def test_a_gain_today_is_signed_as_its_change_is(desk) -> None:
    async with desk.session() as session:  # Main desk buys 2 and sells them 5 higher
        maker, taker = desk.raw_client(session, 2), desk.raw_client(session, 0)
        await maker.place_order(PERP, "Ask", "Limit", price=Decimal("150"), quantity=Decimal("2"))
        await taker.place_order(PERP, "Bid", "Market", quantity=Decimal("2"))
        await maker.place_order(PERP, "Bid", "Limit", price=Decimal("155"), quantity=Decimal("2"))
        await taker.place_order(PERP, "Ask", "Market", quantity=Decimal("2"))
    await ledger_sync(subaccount=desk.main)
    team = await team_figures(user=desk.trader)
    gain = f"+{team.today.quantize(Decimal('0.01')):,}"

    html = (await (await client_for_user(desk.trader)).get("/")).content.decode()

    assert team.today > 0 and team.today_change > 0
    assert f"data-team-today>{gain} USDC</strong>" in html  # "+9.91 USDC", as "+0.01%" beside
    assert re.search(r"data-team-today-change>\+\d+\.\d\d%<", html)
    assert f"data-today>{gain} USDC" in _card(html, desk.main.pk)


async def test_totals_are_over_the_users_subaccounts_only(desk) -> None:
    await _main_buys_two(desk)
    await ledger_sync(subaccount=desk.main)

    team = await team_figures(user=desk.outsider)  # admin of Other desk only

    assert [f.access.subaccount.name for f in team.subaccounts] == ["Other desk"]
    assert team.equity == team.subaccounts[0].equity
    assert team.today == 0 and team.largest == ()
    assert all(e.perp == 0 for e in team.exposure)  # Main desk's position is not theirs
    html = (await (await client_for_user(desk.outsider)).get("/")).content.decode()
    assert "Main desk" not in html and 'id="overview-largest"' in html


async def test_the_poll_gets_only_the_team_region(desk) -> None:
    client = await client_for_user(desk.viewer)

    html = (await client.get("/", **PARTIAL)).content.decode()

    assert html.lstrip().startswith('<div id="overview-team"')
    assert 'hx-trigger="every 5s"' in html
    assert "Main desk" in html and 'id="overview-pages"' not in html


def _calls() -> Counter[str]:
    found: Counter[str] = Counter()
    for (_, route, _), n in exchange_session().metrics.outcomes.items():
        found[route] += n
    return found


async def test_polls_arriving_together_ask_the_exchange_once_per_read(desk) -> None:
    before = _calls()  # the trader sees Main desk and Other desk

    await asyncio.gather(*(overview_for(user=desk.trader) for _ in range(3)))

    asked = _calls() - before
    per_subaccount = {r: asked[r] for r in ("balances", "collateral", "positions", "open_orders")}
    assert per_subaccount == {"balances": 2, "collateral": 2, "positions": 2, "open_orders": 2}


async def test_no_mismatch_is_claimed_while_the_ledger_is_reading_history(desk) -> None:
    await sync_to_async(unexplained_jump)(desk.main)  # a real mismatch of 100 USDC
    client = await client_for_user(desk.trader)
    reading = _card((await client.get("/")).content.decode(), desk.main.pk)
    reading_pnl = (await client.get("/trading/pnl/")).content.decode()

    await ledger_sync(subaccount=desk.main)
    ready = _card((await client.get("/")).content.decode(), desk.main.pk)
    ready_pnl = (await client.get("/trading/pnl/")).content.decode()

    checking = "The ledger is checked against the exchange's equity once it has read the history."
    assert "(ledger still reading history)" in reading
    assert "data-mismatch" not in reading + reading_pnl
    assert f'<p class="muted" data-reconcile-pending>{checking}</p>' in reading
    assert f"Main desk: t{checking[1:]}" in reading_pnl
    assert "The ledger differs from the exchange's equity by 100.00 USDC" in ready
    assert "Main desk: the ledger differs from the exchange's equity by 100.00 USDC" in ready_pnl
    assert "data-reconcile-pending" not in ready
    assert f"Main desk: t{checking[1:]}" not in ready_pnl  # Other desk is still reading


async def _main_sells_one_sol_it_held(desk) -> None:
    """Main desk (key 0, seeded with 5000 SOL) sells 1 SOL on the spot market to key 2."""
    async with desk.session() as session:
        maker, taker = desk.raw_client(session, 2), desk.raw_client(session, 0)
        await maker.place_order(SPOT, "Bid", "Limit", price=Decimal("150"), quantity=Decimal("1"))
        await taker.place_order(SPOT, "Ask", "Market", quantity=Decimal("1"))


LEDGER_UNREALIZED = (
    "Unrealized (desk ledger) is what the desk's ledger holds at mark less its average cost: "
    "the spot and perpetual trades it has read, each market counted from zero, so assets "
    "held before them (deposits) are not in it and selling them counts as a short. The "
    "balances page shows the exchange's unrealized PnL of perpetual positions."
)


async def test_each_page_says_which_unrealized_figure_it_shows(desk) -> None:
    await _main_sells_one_sol_it_held(desk)
    await ledger_sync(subaccount=desk.main)
    client = await client_for_user(desk.trader)

    overview = (await client.get("/")).content.decode()
    pnl = (await client.get("/trading/pnl/")).content.decode()
    balances = (await client.get(f"/trading/balances/{desk.main.pk}/", **HX)).content.decode()

    assert "<dt>Unrealized (desk ledger)</dt>" in _card(overview, desk.main.pk)
    assert LEDGER_UNREALIZED in overview and LEDGER_UNREALIZED in pnl
    assert "; unrealized now (desk ledger) <strong" in pnl
    assert '<th class="num">Unrealized (desk ledger)</th>' in pnl
    assert "<dt>Unrealized PnL (perps, exchange)</dt>" in balances
    assert "Unrealized (desk ledger)" not in balances


@pytest.mark.xfail(
    strict=True,
    reason="The ledger folds spot fills from zero and never the holdings before them (seeds, "
    "deposits): selling 1 of Main desk's 5000 SOL shows as a short of 1 SOL at 150, which "
    "'loses' 10 USDC when the mark rises to 160 while the 4999 SOL left gained.",
)
async def test_selling_sol_held_before_is_no_short_in_the_ledger(desk) -> None:
    await _main_sells_one_sol_it_held(desk)
    await ledger_sync(subaccount=desk.main)

    pnl = await ledger_pnl(subaccount=desk.main, marks={SPOT: Decimal("160")})

    assert pnl.unrealized.get(SPOT, Decimal(0)) == 0, pnl.unrealized
