"""Team balances against the sandbox: exact valuation, errors never shown as zero, membership."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D

import pytest
from asgiref.sync import sync_to_async
from django.utils.html import escape

from accounts import crypto
from accounts.models import Role
from tests.factories import MembershipFactory, SubaccountFactory, UserFactory
from tests.fixtures.dashboard_server import free_port
from trading.backpack import Credentials
from trading.balances.selectors import balances_for_team, balances_view_for
from trading.balances.valuation import PriceSource
from trading.exchange import close_session, exchange_session
from trading.fragments import balances_html

pytestmark = pytest.mark.django_db(transaction=True)


def client_of(exchange, index: int):
    key = exchange.keys[index]
    return exchange_session().client(Credentials(key["api_key"], key["api_secret"]), label="t")


async def make_prices(exchange) -> None:
    """SOL trades at 151.25 (Main sells to Desk B); ETH only has a book 3499.99 / 3500.02."""
    main, desk_b = client_of(exchange, 0), client_of(exchange, 2)
    await main.place_order("SOL_USDC", "Ask", "Limit", quantity=D("2"), price=D("151.25"))
    await desk_b.place_order("SOL_USDC", "Bid", "Limit", quantity=D("2"), price=D("151.25"))
    await main.place_order("ETH_USDC", "Bid", "Limit", quantity=D("1"), price=D("3499.99"))
    await main.place_order("ETH_USDC", "Ask", "Limit", quantity=D("0.5"), price=D("3500.02"))


async def test_balances_are_valued_in_usdc_with_exact_decimals(exchange, desk):
    await make_prices(exchange)
    desk_a = await desk(1)

    view = await balances_view_for(desk_a)

    rows = {r.asset: r for r in view.rows}
    assert rows["SOL"].quote.price == D("151.25")
    assert rows["SOL"].quote.source is PriceSource.LAST
    assert rows["ETH"].quote.price == D("3500.005")
    assert rows["ETH"].quote.source is PriceSource.MID
    assert rows["BTC"].quote is None  # no trade, empty book: shown unvalued, not guessed
    assert rows["USDC"].value_usdc == D("1000000")
    assert rows["SOL"].value_usdc == D("756250.00")
    assert rows["ETH"].value_usdc == D("1400002.000")
    assert view.value_usdc == D("3156252.000")
    assert view.unvalued_assets == ("BTC",)
    # the exchange's own margin figure (collateral at its haircut), shown as it says
    assert view.perp.net_equity == D("1605000")
    assert view.equity_usdc == D("3156252.000")


async def test_prices_show_with_their_market_tick_as_the_markets_page_does(exchange, desk):
    main, desk_b = client_of(exchange, 0), client_of(exchange, 2)
    await main.place_order("SOL_USDC", "Ask", "Limit", quantity=D("2"), price=D("151.5"))
    await desk_b.place_order("SOL_USDC", "Bid", "Limit", quantity=D("2"), price=D("151.5"))
    await main.place_order("ETH_USDC", "Bid", "Limit", quantity=D("1"), price=D("3507"))
    await main.place_order("ETH_USDC", "Ask", "Limit", quantity=D("0.5"), price=D("3508"))
    desk_a = await desk(1)

    html = balances_html(desk_a, await balances_view_for(desk_a))

    # SOL_USDC and ETH_USDC tick at 0.01: the last trade, and the mid of 3507 and 3508
    assert '<span title="last trade price of the SOL_USDC market">151.50</span>' in html
    assert ">3507.50</span>" in html


async def test_open_orders_show_as_locked(exchange, desk):
    await make_prices(exchange)
    main = await desk(0)

    view = await balances_view_for(main)

    eth = next(r for r in view.rows if r.asset == "ETH")
    assert eth.locked == D("0.5")
    assert eth.total == D("400")


async def test_a_rejected_key_shows_its_error_and_totals_leave_it_out(exchange, desk):
    boss = await sync_to_async(UserFactory)(is_superuser=True)
    await desk(1)
    await sync_to_async(SubaccountFactory)(name="Old key")  # a key the exchange never saw

    team = await balances_for_team(user=boss)

    by_name = {s.name: s for s in team.subaccounts}
    broken = by_name["Old key"]
    assert not broken.ok
    assert broken.value_usdc is None
    assert broken.rows == ()
    assert broken.error == (
        "The exchange rejected the credentials on GET /api/v1/capital: "
        "Invalid X-API-Key Header: unknown API key. "
        "Check that the API key and secret belong together and are still active on the "
        "exchange, and that this machine's clock is right."
    )
    assert [s.name for s in team.excluded] == ["Old key"]
    assert team.value_usdc == D("1000000")  # Desk A's USDC only (no prices yet)
    usdc = next(t for t in team.totals if t.asset == "USDC")
    assert usdc.total == D("1000000")
    html = balances_html(broken, broken)
    assert "Balances could not be read" in html
    assert escape(broken.error) in html  # the words contain an apostrophe
    assert "0.00" not in html


async def test_an_undecryptable_secret_is_reported_by_name(exchange, desk):
    boss = await sync_to_async(UserFactory)(is_superuser=True)
    await desk(1, api_secret_sealed="v1:deadbeef:AAAA")

    team = await balances_for_team(user=boss)

    (view,) = team.subaccounts
    assert view.error == "cannot decrypt the API secret of subaccount Desk A: key missing"
    assert team.value_usdc == D("0")
    assert [s.name for s in team.excluded] == ["Desk A"]


async def test_a_damaged_secret_fails_at_signing_time_with_its_reason(exchange, desk):
    damaged = f"v1:{crypto.key_id(crypto.configured_keys()[0])}:AAAA"
    desk_a = await desk(1, api_secret_sealed=damaged)

    view = await balances_view_for(desk_a)

    assert view.error == (
        "cannot decrypt the API secret of subaccount Desk A: the stored value is damaged"
    )
    assert view.rows == ()


async def test_a_viewer_of_one_subaccount_never_sees_another(exchange, desk):
    desk_a, desk_b = await desk(1), await desk(2)
    viewer = await sync_to_async(UserFactory)()
    await sync_to_async(MembershipFactory)(user=viewer, subaccount=desk_a, role=Role.VIEWER)

    team = await balances_for_team(user=viewer)

    assert [s.name for s in team.subaccounts] == ["Desk A"]
    assert desk_b.pk not in {s.subaccount_id for s in team.subaccounts}


async def test_a_balance_under_its_threshold_is_flagged_and_highlighted(exchange, desk):
    desk_a = await desk(1)
    await sync_to_async(desk_a.low_balance_thresholds.create)(asset="USDC", minimum=D("2000000"))
    await sync_to_async(desk_a.low_balance_thresholds.create)(asset="SOL", minimum=D("10"))

    view = await balances_view_for(desk_a)

    (breach,) = view.below_threshold
    assert (breach.asset, breach.balance, breach.minimum) == ("USDC", D("1000000"), D("2000000"))
    html = balances_html(desk_a, view)
    assert 'class="asset-row below-threshold" data-asset="USDC"' in html
    assert 'class="asset-row" data-asset="SOL"' in html


async def test_an_unreachable_exchange_is_an_error_on_every_block_not_a_zero(
    exchange, desk, settings
):
    desk_a = await desk(1)
    boss = await sync_to_async(UserFactory)(is_superuser=True)
    await close_session()
    settings.BACKPACK_API_URL = f"http://127.0.0.1:{free_port()}"

    team = await balances_for_team(user=boss)

    (view,) = team.subaccounts
    # the clock sync before the first signed read is what fails first
    assert view.error == (
        "exchange unreachable: Cannot connect to the exchange for GET /api/v1/time "
        "(ConnectionRefusedError). Check the network connection and the exchange's status page."
    )
    assert team.totals == ()
    assert team.price_error.startswith("exchange unreachable: Cannot connect to the exchange")
    html = balances_html(desk_a, view)
    assert 'hx-swap-oob="true"' in html  # what the relay pushes replaces the block in place
    assert "Balances could not be read" in html


def _collateral_calls() -> int:
    outcomes = exchange_session().metrics.outcomes
    return sum(n for (_, route, _), n in outcomes.items() if route == "collateral")


async def test_the_balances_and_positions_reads_started_together_share_one_margin_read(
    exchange, desk
):
    from trading.balances.fetch import account_read
    from trading.selectors import cache_clear, positions_recent

    cache_clear()
    desk_a = await desk(1)
    before = _collateral_calls()

    read, (positions, _) = await asyncio.gather(account_read(desk_a), positions_recent(desk_a))

    assert _collateral_calls() - before == 1  # the overview's two reads: one request
    assert read.collateral is not None and positions == []
    await account_read(desk_a, fresh=True)  # after a fill: its own read, never a shared one
    assert _collateral_calls() - before == 2
