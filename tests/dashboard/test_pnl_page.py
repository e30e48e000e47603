"""The PnL page (`/trading/pnl/`) against the still sandbox: a round trip on a member's
subaccount shows in the calendar and the breakdown tables, each table's CSV carries the same
figures, and a user sees only the subaccounts they are a member of."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from tests.trading.pages.conftest import (  # the trading pages' desk on the sandbox
    _fast_passwords,
    client_for_user,
    closes_session,
    desk,
    exchange_urls,
)
from trading.ledger.services import ledger_sync
from trading.models.ledger import LedgerEntry

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("closes_session")]
__all__ = ["_fast_passwords", "closes_session", "desk", "exchange_urls"]

PERP = "SOL_USDC_PERP"
CENT = Decimal("0.01")


async def _round_trip(desk) -> None:
    """Main desk (key 0) buys 2 at 150 and sells them at 151 against key 2 (not on the desk)."""
    async with desk.session() as session:
        maker, taker = desk.raw_client(session, 2), desk.raw_client(session, 0)
        await maker.place_order(PERP, "Ask", "Limit", price=Decimal("150"), quantity=Decimal("2"))
        await taker.place_order(PERP, "Bid", "Market", quantity=Decimal("2"))
        await maker.place_order(PERP, "Bid", "Limit", price=Decimal("151"), quantity=Decimal("2"))
        await taker.place_order(PERP, "Ask", "Market", quantity=Decimal("2"))


def _rows(html: str, table: str) -> list[list[str]]:
    body = html.split(f'id="pnl-by-{table}"')[1].split("</table>")[0]
    rows = re.findall(r"<tr><td>(.*?)</tr>", body, re.S)
    return [
        re.sub(r"<[^>]+>", "|", "<td>" + r).replace("||", "|").strip("|").split("|") for r in rows
    ]


async def test_a_round_trip_shows_in_the_tables_and_their_csv(desk) -> None:
    await _round_trip(desk)
    await ledger_sync(subaccount=desk.main)
    fees = sum([e.fee async for e in LedgerEntry.objects.filter(subaccount=desk.main)], Decimal(0))
    net = (Decimal(2) - fees).quantize(CENT)
    client = await client_for_user(desk.trader)

    html = (await client.get("/trading/pnl/")).content.decode()
    exported = (await client.get("/trading/pnl/?export=market")).content.decode()

    assert _rows(html, "market") == [[PERP, "2.00", f"{fees.quantize(CENT)}", "0.00", f"{net}"]]
    assert list(csv.reader(io.StringIO(exported))) == [
        ["Market", "Realized", "Fees", "Funding", "Net", "Unrealized"],
        [PERP, "2.00", f"{fees.quantize(CENT)}", "0.00", f"{net}", ""],
    ]
    assert [r[0] for r in _rows(html, "member")] == ["outside the desk"]
    assert [r[0] for r in _rows(html, "subaccount")] == ["Main desk", "Other desk"]
    today = datetime.now(UTC).date().isoformat()
    cell = html.split(f'data-day="{today}"')[1].split("</td>")[0]
    assert f'<span class="num pnl-net">{net}</span>' in cell
    assert "pnl-gain" in html.split(f'data-day="{today}"')[0].rsplit("<td", 1)[1]


async def test_a_user_sees_only_their_subaccounts(desk) -> None:
    await _round_trip(desk)
    await ledger_sync(subaccount=desk.main)
    client = await client_for_user(desk.outsider)  # admin of Other desk only

    html = (await client.get("/trading/pnl/")).content.decode()
    exported = (await client.get("/trading/pnl/?export=subaccount")).content.decode()

    assert "Main desk" not in html and PERP not in html
    assert [r[0] for r in _rows(html, "subaccount")] == ["Other desk"]
    assert "Main desk" not in exported


async def test_the_funding_page_shows_what_was_paid_and_the_next_estimate(desk) -> None:
    async with desk.session() as session:
        maker, taker = desk.raw_client(session, 2), desk.raw_client(session, 0)
        await maker.place_order(PERP, "Ask", "Limit", price=Decimal("150"), quantity=Decimal("2"))
        await taker.place_order(PERP, "Bid", "Market", quantity=Decimal("2"))
        desk.sandbox.settle_funding(PERP, "0.0001")  # the long pays
        await ledger_sync(subaccount=desk.main)
        mark = next(m for m in await taker.mark_prices(PERP) if m.symbol == PERP)
        position = next(p for p in await taker.positions() if p.symbol == PERP)
    payment = await LedgerEntry.objects.aget(subaccount=desk.main, kind=LedgerEntry.Kind.FUNDING)
    expected = (-Decimal(2) * position.mark_price * mark.funding_rate).quantize(CENT)
    client = await client_for_user(desk.trader)

    html = (await client.get("/trading/pnl/funding/")).content.decode()
    outsider = (await (await client_for_user(desk.outsider)).get("/trading/pnl/funding/")).content

    row = html.split(f'data-position="Main desk:{PERP}"')[1].split("</tr>")[0]
    cells = [re.sub(r"<[^>]+>", "", c) for c in row.split("</td>")[:-1]]
    paid = (-payment.quantity).quantize(CENT)
    assert payment.quantity < 0
    assert cells[2:7] == [f"{paid}", "0.00", f"{paid}", "0.00", f"{-paid}"]
    assert cells[8] == f"{abs(expected) if expected == 0 else expected:,}"
    assert b"Main desk" not in outsider


async def test_a_round_trip_is_a_closed_position(desk) -> None:
    await _round_trip(desk)
    await ledger_sync(subaccount=desk.main)
    fees = sum([e.fee async for e in LedgerEntry.objects.filter(subaccount=desk.main)], Decimal(0))
    client = await client_for_user(desk.trader)

    html = (await client.get("/trading/pnl/closed/")).content.decode()
    outsider = (await (await client_for_user(desk.outsider)).get("/trading/pnl/closed/")).content

    row = html.split(f'<tr data-symbol="{PERP}">')[1].split("</tr>")[0]
    cells = [re.sub(r"<[^>]+>", "", c) for c in row.split("</td>")[:-1]]
    assert cells[:10] == [
        "Main desk",
        PERP,
        "Long",
        "2.00",
        "150.00",
        "151.00",
        "2.00",
        f"{fees.quantize(CENT)}",
        "0.00",
        f"{(2 - fees).quantize(CENT)}",
    ]
    assert b"Main desk" not in outsider


def _fills_a_tenth_of_a_cent_apart(sub) -> None:
    """A round trip realizing 1.004 with fees of 0.006: net 0.998, shown 1.00 − 0.01 = 1.00."""
    for n, side, price in ((1, "Bid", "150"), (2, "Ask", "151.004")):
        LedgerEntry.objects.create(
            subaccount=sub,
            kind=LedgerEntry.Kind.FILL,
            exchange_id=f"{PERP}:{n}:{side}",
            occurred_at=timezone.now(),
            symbol=PERP,
            side=side,
            quantity=Decimal("1"),
            price=Decimal(price),
            fee=Decimal("0.003"),
            fee_symbol="USDC",
        )


async def test_the_page_says_each_figure_is_rounded_on_its_own(desk) -> None:
    await sync_to_async(_fills_a_tenth_of_a_cent_apart)(desk.main)
    client = await client_for_user(desk.trader)

    html = (await client.get("/trading/pnl/")).content.decode()
    exported = (await client.get("/trading/pnl/?export=market")).content.decode()

    assert _rows(html, "market") == [[PERP, "1.00", "0.01", "0.00", "1.00"]]  # not 0.99
    assert list(csv.reader(io.StringIO(exported)))[1] == [PERP, "1.00", "0.01", "0.00", "1.00", ""]
    assert (
        "Each figure, here and in the CSV files, is rounded to the cent on its own from the "
        "exact one, so a row's parts or "
        "a column can add up to a cent more or less than the figure shown for them."
    ) in html
