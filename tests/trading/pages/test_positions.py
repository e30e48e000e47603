"""Perpetual positions: the page, the liquidation estimate and the close button."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.models import AuditEvent
from tests.trading.pages.conftest import HX, client_for_user
from trading.backpack import Position
from trading.backpack.account_types import Collateral
from trading.ledger.selectors import OUTSIDE_LABEL, ledger_pnl
from trading.ledger.services import ledger_sync
from trading.selectors import liquidation_price

PERP = "SOL_USDC_PERP"


async def open_long(desk, quantity: str = "2") -> None:
    """Key 1 rests asks and bids around 150; key 0 (Main desk) buys `quantity` at market."""
    async with desk.session() as session:
        maker = desk.raw_client(session, 1)
        await maker.place_order(PERP, "Ask", "Limit", price=Decimal("150"), quantity=Decimal("5"))
        await maker.place_order(PERP, "Bid", "Limit", price=Decimal("149"), quantity=Decimal("5"))
        await desk.raw_client(session, 0).place_order(
            PERP, "Bid", "Market", quantity=Decimal(quantity)
        )


async def positions_on_exchange(desk):
    async with desk.session() as session:
        positions = await desk.raw_client(session, 0).positions()
    return [p for p in positions if p.net_quantity != 0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("closes_session")
async def test_positions_page_shows_the_position_and_a_close_button_for_traders(desk) -> None:
    await open_long(desk)
    trader = await client_for_user(desk.trader)
    viewer = await client_for_user(desk.viewer)

    trader_html = (await trader.get("/trading/positions/")).content.decode()
    viewer_html = (await viewer.get("/trading/positions/")).content.decode()

    for html in (trader_html, viewer_html):
        assert f'id="positions-{desk.main.pk}"' in html
        assert f'data-symbol="{PERP}"' in html
        assert "Long 2.00" in html
    assert "close-position" in trader_html
    assert "close-position" not in viewer_html


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("closes_session")
async def test_close_sends_a_reduce_only_market_order_and_is_audited(desk) -> None:
    await open_long(desk)
    client = await client_for_user(desk.trader)

    response = await client.post(
        f"/trading/subaccounts/{desk.main.pk}/positions/close/", {"symbol": PERP}, **HX
    )

    html = response.content.decode()
    assert "Closing order sent: Sell 2 SOL_USDC_PERP (Market): Filled" in html
    assert "No open positions." in html
    assert await positions_on_exchange(desk) == []
    event = await AuditEvent.objects.filter(action="position_close").afirst()
    assert event.result == "ok"
    assert event.parameters["reduceOnly"] is True and event.parameters["side"] == "Ask"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("closes_session")
async def test_a_close_counts_for_the_member_who_closed_in_pnl(desk) -> None:
    await open_long(desk)  # bought straight on the exchange: outside the desk
    client = await client_for_user(desk.trader)
    await client.post(
        f"/trading/subaccounts/{desk.main.pk}/positions/close/", {"symbol": PERP}, **HX
    )

    await ledger_sync(subaccount=desk.main)
    pnl = await ledger_pnl(subaccount=desk.main, marks={})

    by_member = {line.member: line.row for line in pnl.lines}
    assert set(by_member) == {"trader", OUTSIDE_LABEL}
    assert by_member["trader"].realized == Decimal("-2")  # sold 2 at 149, bought at 150


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("closes_session")
async def test_close_without_a_position_says_so(desk) -> None:
    client = await client_for_user(desk.trader)

    response = await client.post(
        f"/trading/subaccounts/{desk.main.pk}/positions/close/", {"symbol": PERP}, **HX
    )

    assert "There is no open position in SOL_USDC_PERP to close." in response.content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("closes_session")
async def test_a_viewer_cannot_close(desk) -> None:
    await open_long(desk)
    client = await client_for_user(desk.viewer)

    response = await client.post(
        f"/trading/subaccounts/{desk.main.pk}/positions/close/", {"symbol": PERP}
    )

    assert response.status_code == 403
    assert len(await positions_on_exchange(desk)) == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("closes_session")
async def test_a_close_from_a_page_shown_before_the_role_was_lowered_is_refused(desk) -> None:
    await open_long(desk)
    client = await client_for_user(desk.viewer)

    response = await client.post(
        f"/trading/subaccounts/{desk.main.pk}/positions/close/", {"symbol": PERP}, **HX
    )

    assert response.status_code == 200  # htmx swaps the message; it would not swap a 403
    assert "Closing positions needs the trader role on Main desk." in response.content.decode()
    assert len(await positions_on_exchange(desk)) == 1


def _position(size: str, mark: str) -> Position:
    return Position(
        symbol=PERP,
        net_quantity=Decimal(size),
        entry_price=Decimal(mark),
        break_even_price=Decimal(mark),
        mark_price=Decimal(mark),
        est_liquidation_price=None,
        net_exposure_notional=abs(Decimal(size)) * Decimal(mark),
        pnl_realized=Decimal(0),
        pnl_unrealized=Decimal(0),
        position_id=None,
    )


def _collateral(equity: str, mmf: str) -> Collateral:
    zero = Decimal(0)
    return Collateral(
        net_equity=Decimal(equity),
        net_equity_available=zero,
        net_equity_locked=zero,
        assets_value=zero,
        liabilities_value=zero,
        pnl_unrealized=zero,
        imf=Decimal("0.02"),
        mmf=Decimal(mmf),
        margin_fraction=None,
        collateral=(),
    )


def test_liquidation_estimate_of_a_long_is_where_equity_meets_maintenance() -> None:
    # 10 long at 100 with 200 of equity and mmf 0.0125: P = (1000 - 200) / (10 - 0.125)
    price = liquidation_price(_position("10", "100"), _collateral("200", "0.0125"))

    assert price == Decimal(800) / Decimal("9.875")
    equity_at_p = Decimal(200) + 10 * (price - 100)
    assert abs(equity_at_p - Decimal("0.0125") * 10 * price) < Decimal("1e-20")


def test_liquidation_estimate_of_a_short_is_above_the_mark() -> None:
    price = liquidation_price(_position("-10", "100"), _collateral("200", "0.0125"))

    assert price == Decimal(-1200) / Decimal("-10.125")
    assert price > 100


def test_a_well_collateralised_long_has_no_liquidation_price() -> None:
    assert liquidation_price(_position("1", "100"), _collateral("1000", "0.0125")) is None
