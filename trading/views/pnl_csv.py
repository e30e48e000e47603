"""The PnL pages' tables as CSV: the breakdowns, the daily calendar, closed positions and
funding. Every number goes through `trading.formatting` (the page's figures, without the
grouping), so a CSV says what the page says to the cent."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from django.http import HttpResponse
from django.utils import timezone

from trading.formatting import USDC_PLACES, fixed, percent, plain, price, quantity, utc_time
from trading.ledger.closed import ClosedRow
from trading.ledger.funding import FundingReport
from trading.ledger.report import BreakdownRow, PnlReport


def money(value: object) -> str:
    """A USDC figure as the page shows it, without the grouping (empty: none)."""
    return fixed(value, USDC_PLACES, empty="")  # type: ignore[arg-type]


def csv_response(name: str, header: Sequence[str], rows: Iterable[Sequence[str]]) -> HttpResponse:
    """``rows`` under ``header`` as a CSV download called ``<name>-<time>.csv``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    return response


def breakdown_csv(table: str, title: str, rows: Iterable[BreakdownRow]) -> HttpResponse:
    header = [title, "Realized", "Fees", "Funding", "Net", "Unrealized"]
    lines = (
        [r.label, money(r.realized), money(r.fees), money(r.funding), money(r.net)]
        + [money(r.unrealized)]
        for r in rows
    )
    return csv_response(f"pnl-by-{table}", header, lines)


def days_csv(report: PnlReport) -> HttpResponse:
    """The calendar's days that have a figure, oldest first, in the team's time zone."""
    days = [d for week in report.weeks for d in week if d.in_range and d.net is not None]
    header = [f"Day ({report.team.zone})", "Net"]
    return csv_response("pnl-by-day", header, ([d.day.isoformat(), money(d.net)] for d in days))


def closed_csv(rows: Iterable[ClosedRow]) -> HttpResponse:
    header = ["Subaccount", "Market", "Side", "Size", "Entry", "Exit", "Realized", "Fees"]
    header += ["Funding", "Net", "Opened (UTC)", "Closed (UTC)"]

    def line(r: ClosedRow) -> list[str]:
        if r.market is not None:
            size = quantity(r.size, r.market)
            entry, exit_ = price(r.entry, r.market), price(r.exit, r.market)
        else:
            size, entry, exit_ = plain(r.size), fixed(r.entry, 2), fixed(r.exit, 2)
        return [r.subaccount, r.symbol, r.side, size, entry, exit_, money(r.realized)] + [
            money(r.fees),
            money(r.funding),
            money(r.net),
            utc_time(r.opened_at, with_date=True),
            utc_time(r.closed_at, with_date=True),
        ]

    return csv_response("closed-positions", header, (line(r) for r in rows))


def funding_csv(report: FundingReport) -> HttpResponse:
    header = ["Subaccount", "Market", "Paid 24 h", "Received 24 h", "Paid 7 d"]
    header += ["Received 7 d", "Net 7 d", "Rate", "Next (est.)", "Due (UTC)"]
    rows = (
        [
            line.subaccount,
            line.symbol,
            money(line.paid_24h),
            money(line.received_24h),
            money(line.paid_7d),
            money(line.received_7d),
            money(line.net_7d),
            percent(line.rate, 4, empty=""),
            money(line.next_estimate),
            utc_time(line.next_at, with_date=True) if line.next_at else "",
        ]
        for line in report.lines
    )
    return csv_response("funding", header, rows)


__all__ = ["breakdown_csv", "closed_csv", "csv_response", "days_csv", "funding_csv", "money"]
