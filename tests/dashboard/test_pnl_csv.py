"""Every table of the PnL pages as CSV: the daily calendar, closed positions and funding
carry the page's own figures (the breakdown tables' CSV is in test_pnl_page)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.dashboard.test_pnl_page import PERP, _round_trip
from tests.trading.pages.conftest import (  # the trading pages' desk on the sandbox
    _fast_passwords,
    client_for_user,
    closes_session,
    desk,
    exchange_urls,
)
from trading.ledger.services import ledger_sync

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("closes_session")]
__all__ = ["_fast_passwords", "closes_session", "desk", "exchange_urls"]


def _cells(row_html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c) for c in row_html.split("</td>")[:-1]]


def _csv(response) -> list[list[str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode())))


async def test_the_days_and_the_closed_positions_as_csv_say_what_the_pages_say(desk) -> None:
    await _round_trip(desk)
    await ledger_sync(subaccount=desk.main)
    client = await client_for_user(desk.trader)

    pnl = (await client.get("/trading/pnl/")).content.decode()
    days = _csv(await client.get("/trading/pnl/?export=day"))
    closed = (await client.get("/trading/pnl/closed/")).content.decode()
    closed_rows = _csv(await client.get("/trading/pnl/closed/?export=closed"))

    today = datetime.now(UTC).date().isoformat()
    net = re.search(
        r'<span class="num pnl-net">([^<]*)</span>', pnl.split(f'data-day="{today}"')[1]
    )
    assert days == [["Day (UTC)", "Net"], [today, net.group(1)]]
    page = _cells(closed.split(f'<tr data-symbol="{PERP}">')[1].split("</tr>")[0])
    assert closed_rows[0][:10] == page_header(closed)[:10]
    assert closed_rows[1][:10] == page[:10]
    assert closed_rows[1][10] == page[10]  # opened, UTC
    assert Decimal(closed_rows[1][6]) > 0  # bought at 150, sold at 151


def page_header(html: str) -> list[str]:
    head = html.split("<thead>")[1].split("</thead>")[0]
    return re.findall(r"<th[^>]*>([^<]*)</th>", head)


async def test_funding_as_csv_says_what_the_page_says(desk) -> None:
    async with desk.session() as session:
        maker, taker = desk.raw_client(session, 2), desk.raw_client(session, 0)
        await maker.place_order(PERP, "Ask", "Limit", price=Decimal("150"), quantity=Decimal("2"))
        await taker.place_order(PERP, "Bid", "Market", quantity=Decimal("2"))
        desk.sandbox.settle_funding(PERP, "0.0001")  # the long pays
        await ledger_sync(subaccount=desk.main)
    client = await client_for_user(desk.trader)

    html = (await client.get("/trading/pnl/funding/")).content.decode()
    rows = _csv(await client.get("/trading/pnl/funding/?export=funding"))

    page = _cells(html.split(f'data-position="Main desk:{PERP}">')[1].split("</tr>")[0])
    assert rows[0] == page_header(html)
    line = next(r for r in rows[1:] if r[:2] == ["Main desk", PERP])
    assert line[:9] == [c.replace(",", "") for c in page[:9]]
    assert Decimal(line[2]) > 0  # paid
