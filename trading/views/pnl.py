"""The PnL page: a calendar of daily PnL, the team's equity curve and breakdown tables by
subaccount, market and member from the ledger, each table also as CSV (`?export=<table>`);
and the funding page."""

from __future__ import annotations

import csv
import io

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.decorators import signed_in
from trading.formatting import USDC_PLACES, fixed
from trading.ledger.closed import closed_positions
from trading.ledger.funding import funding_report
from trading.ledger.report import BreakdownRow, PnlReport, pnl_report
from trading.views.common import render_async

TABLES = {"subaccount": "Subaccount", "market": "Market", "member": "Member"}


def _table(report: PnlReport, table: str) -> tuple[BreakdownRow, ...]:
    if table == "subaccount":
        return report.by_subaccount
    return report.by_market if table == "market" else report.by_member


def _money(value: object) -> str:
    return fixed(value, USDC_PLACES, empty="")  # the page's figures, without the grouping


def _csv(report: PnlReport, table: str) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([TABLES[table], "Realized", "Fees", "Funding", "Net", "Unrealized"])
    for row in _table(report, table):
        writer.writerow(
            [
                row.label,
                _money(row.realized),
                _money(row.fees),
                _money(row.funding),
                _money(row.net),
                _money(row.unrealized),
            ]
        )
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="pnl-by-{table}-{stamp}.csv"'
    return response


def _curve_data(report: PnlReport) -> list[dict[str, object]]:
    return [
        {"time": int(p.at.timestamp()), "value": fixed(p.equity, USDC_PLACES)} for p in report.curve
    ]


@require_GET
@signed_in
async def pnl_page(request: HttpRequest) -> HttpResponse:
    """The PnL page over the subaccounts the user is a member of, or one table as CSV."""
    report = await pnl_report(user=request.user)
    table = request.GET.get("export", "")
    if table in TABLES:
        return _csv(report, table)
    tables = [(key, title, _table(report, key)) for key, title in TABLES.items()]
    context = {"report": report, "tables": tables, "curve": _curve_data(report)}
    return await render_async(request, "trading/pnl.html", context)


@require_GET
@signed_in
async def funding_page(request: HttpRequest) -> HttpResponse:
    """Funding paid and received per position over 24 h and 7 d, and the next estimate."""
    report = await funding_report(user=request.user)
    return await render_async(request, "trading/funding.html", {"report": report})


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


@require_GET
@signed_in
async def closed_page(request: HttpRequest) -> HttpResponse:
    """Closed perpetual positions: entry, exit, size, realized PnL, fees, funding, duration."""
    rows = await closed_positions(user=request.user)
    shown = [(row, _duration(row.duration.total_seconds())) for row in rows]
    return await render_async(request, "trading/closed_positions.html", {"rows": shown})
